package api

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesHandler walks the patterns the handler registered and
// the document it serves: each must have every route of the other, and
// every documented route must reach its own pattern in the mux.
func TestOpenAPIMatchesHandler(t *testing.T) {
	h := storeAPI(newStore(t, storeBase))
	rec := do(h, "GET", "/openapi.json", "")
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comps   struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(decodeRaw(t, rec), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}

	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			pattern := strings.ToUpper(method) + " " + path
			documented = append(documented, pattern)
			// The mux routes a request for this path to this very pattern.
			target := strings.NewReplacer("{id}", "x1", "{number}", "441").Replace(path)
			req := httptest.NewRequest(strings.ToUpper(method), target, nil)
			if _, got := h.mux.Handler(req); got != pattern {
				t.Errorf("documented %s: the mux routes %s to %q", pattern, target, got)
			}
			if responses, _ := op["responses"].(map[string]any); len(responses) == 0 {
				t.Errorf("%s: no responses", pattern)
			}
		}
	}
	var registered []string
	for _, e := range h.endpoints {
		registered = append(registered, e.method+" "+e.path)
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, p := range registered {
		if !slices.Contains(documented, p) {
			t.Errorf("%s is served but not documented", p)
		}
	}
	for _, p := range documented {
		if !slices.Contains(registered, p) {
			t.Errorf("%s is documented but not served", p)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d routes registered", len(registered))
	}

	// The schemas follow the Go types.
	trunk := doc.Comps.Schemas["SIPTrunk"]
	props, _ := trunk["properties"].(map[string]any)
	for _, f := range []string{"id", "destinationHosts", "sipOptions", "adminStatus", "inboundAuth"} {
		if _, ok := props[f]; !ok {
			t.Errorf("SIPTrunk schema lacks %s: %v", f, props)
		}
	}
	post := doc.Paths["/calls/1/sip-trunks"]["post"]
	body, _ := json.Marshal(post["requestBody"])
	if !strings.Contains(string(body), `"#/components/schemas/SIPTrunk"`) {
		t.Errorf("POST sip-trunks request body %s", body)
	}
	resp, _ := json.Marshal(post["responses"])
	for _, code := range []string{`"201"`, `"400"`, `"401"`, `"409"`, `"413"`, `"415"`, `"503"`} {
		if !strings.Contains(string(resp), code) {
			t.Errorf("POST sip-trunks responses lack %s: %s", code, resp)
		}
	}
	for _, name := range []string{"Error", "Route", "Number", "CallsConfiguration", "TrunkStatus", "Peer", "ApiPeer", "Decision"} {
		if doc.Comps.Schemas[name] == nil {
			t.Errorf("no schema %s", name)
		}
	}
}

func decodeRaw(t *testing.T, rec *httptest.ResponseRecorder) []byte {
	t.Helper()
	if rec.Code != 200 || rec.Header().Get("Content-Type") != mediaJSON {
		t.Fatalf("GET /openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Body.Bytes()
}
