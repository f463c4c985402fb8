package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/trunkline/trunkline/config"
)

// storeBase is the configuration the store tests start from: t1 is used by
// route r1, r1 by number 441, app by number 442, s1 by route r2; t3, spare
// and s2 are unused.
const storeBase = `
node: {id: dc1-a}
sipTrunks:
  - {id: t1, destinationHosts: [sip.example.com]}
  - {id: t2, destinationHosts: ["192.0.2.10:5060"]}
  - {id: t3, destinationHosts: [t3.example.com], numberFormat: E164}
numbers:
  - {number: "441", action: {type: FORWARD_TO_CALL_ROUTING, routeId: r1}}
  - {number: "442", action: {type: FORWARD_TO_SUBSCRIPTION, callsConfigurationId: app}}
routes:
  - id: r1
    criteria: [{to: "44.*"}]
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: t1}}]
  - id: r2
    scriptId: s1
    destinations: [{type: ENDPOINT, value: {type: SIP, sipTrunkId: t2}}]
callsConfigurations: [{id: app}, {id: spare}]
scripts: [{id: s1, source: "x = 1"}, {id: s2, file: scripts/s2.lua}]
`

// fakeStore is a one-node ConfigStore: Apply is config.Apply under a lock,
// unless fail returns an error first.
type fakeStore struct {
	mu   sync.Mutex
	cfg  *config.Config
	fail func(ch config.Change) error
}

func newStore(t *testing.T, yaml string) *fakeStore {
	t.Helper()
	cfg, err := config.Parse("store.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeStore{cfg: cfg}
}

func (s *fakeStore) Config() *config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

func (s *fakeStore) Apply(ctx context.Context, ch config.Change) (*config.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(ch); err != nil {
			return nil, err
		}
	}
	cfg, err := s.cfg.Apply(ch)
	if err != nil {
		return nil, err
	}
	s.cfg = cfg
	return cfg, nil
}

var _ ConfigStore = (*fakeStore)(nil)

// storeAPI returns the API over store, its node settings (tokens included)
// from the store's configuration.
func storeAPI(store *fakeStore) *handler {
	return New(Deps{
		Config:  store,
		Store:   store,
		Ready:   ReadyFunc(func() bool { return true }),
		Metrics: MetricsFunc(func(io.Writer) {}),
	}, nil).(*handler)
}

// send serves one request with a body from a loopback client.
func send(h http.Handler, method, target, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// errorText is the text of an error body.
func errorText(rec *httptest.ResponseRecorder) string {
	var body errorBody
	json.Unmarshal(rec.Body.Bytes(), &body)
	return body.RequestError.ServiceException.Text
}

var generatedID = regexp.MustCompile(`^[a-z2-7]{10}$`)

// TestWrites runs a sequence of requests against one store: every write
// endpoint's success and error statuses.
func TestWrites(t *testing.T) {
	const js = "application/json"
	store := newStore(t, storeBase)
	h := storeAPI(store)
	steps := []struct {
		method, target, ctype, body string
		code                        int
		text                        string                        // in the error text, or in the body for a success
		check                       func(m map[string]any) string // "" when fine
	}{
		// SIP trunks
		{"POST", "/calls/1/sip-trunks", js, `{"id": "new", "destinationHosts": ["192.0.2.50"]}`, 201, "", func(m map[string]any) string {
			if m["id"] != "new" || m["transport"] != "UDP" || m["adminStatus"] != "ENABLED" {
				return "want the stored trunk, defaults applied"
			}
			return ""
		}},
		{"POST", "/calls/1/sip-trunks", "application/json; charset=utf-8", `{"id": "new", "destinationHosts": ["192.0.2.50"]}`, 409, "new", nil},
		{"POST", "/calls/1/sip-trunks", "", `{"name": "generated", "destinationHosts": ["192.0.2.51"]}`, 201, "", func(m map[string]any) string {
			if id, _ := m["id"].(string); !generatedID.MatchString(id) {
				return "want a generated id"
			}
			return ""
		}},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "bad", "transport": "SCTP"}`, 400, "sipTrunks[5].transport", nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "x", "bogus": 1}`, 400, `"bogus"`, nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "x", "sipOptions": {"enabled": true, "downAfter": "two"}}`, 400, "sipOptions.downAfter", nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "x", "sipOptions": {"interval": "soon"}}`, 400, "soon", nil},
		{"POST", "/calls/1/sip-trunks", js, `[]`, 400, "not a JSON object", nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "x"} {}`, 400, "more than one", nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": "x"`, 400, "truncated", nil},
		{"POST", "/calls/1/sip-trunks", js, `{"id": x}`, 400, "not valid JSON", nil},
		{"POST", "/calls/1/sip-trunks", "text/plain", `{"id": "x"}`, 415, "application/json", nil},
		{"POST", "/calls/1/sip-trunks", "nonsense;;", `{"id": "x"}`, 415, "", nil},
		{"GET", "/calls/1/sip-trunks/new", "", "", 200, `"destinationHosts":["192.0.2.50"]`, nil},
		{"PUT", "/calls/1/sip-trunks/new", js, `{"name": "N", "destinationHosts": ["192.0.2.52"]}`, 200, "", func(m map[string]any) string {
			if m["id"] != "new" || m["name"] != "N" || m["transport"] != "UDP" {
				return "want the replaced trunk under the path's id"
			}
			return ""
		}},
		{"PUT", "/calls/1/sip-trunks/new", js, `{"id": "new", "name": "N2", "destinationHosts": ["192.0.2.52"]}`, 200, `"name":"N2"`, nil},
		{"PUT", "/calls/1/sip-trunks/new", js, `{"id": "other"}`, 400, `"other" differs`, nil},
		{"PUT", "/calls/1/sip-trunks/nope", js, `{"destinationHosts": ["192.0.2.52"]}`, 404, "nope", nil},
		{"PUT", "/calls/1/sip-trunks/t1", js, `{"sourceHosts": ["192.0.2.7"]}`, 400, "routes[0].destinations[0].value.sipTrunkId", nil},
		{"DELETE", "/calls/1/sip-trunks/t1", "", "", 409, "routes[0].destinations[0].value.sipTrunkId", nil},
		{"DELETE", "/calls/1/sip-trunks/new", "", "", 204, "", nil},
		{"GET", "/calls/1/sip-trunks/new", "", "", 404, "new", nil},
		{"DELETE", "/calls/1/sip-trunks/new", "", "", 404, "new", nil},

		// trunk and route status
		{"POST", "/calls/1/sip-trunks/t3/status", js, `{"adminStatus": "DISABLED"}`, 200,
			`{"adminStatus":"DISABLED","registrationStatus":"N/A","activeCalls":0,"optionsStatus":"UNKNOWN","hosts":[{"host":"t3.example.com","status":"UNKNOWN"}]}`, nil},
		{"GET", "/calls/1/sip-trunks/t3", "", "", 200, `"adminStatus":"DISABLED"`, nil},
		{"GET", "/calls/1/sip-trunks/t3", "", "", 200, `"numberFormat":"E164"`, nil}, // the rest kept
		{"POST", "/calls/1/sip-trunks/t3/status", js, `{"adminStatus": "OFF"}`, 400, "adminStatus", nil},
		{"POST", "/calls/1/sip-trunks/t3/status", js, `{}`, 400, "adminStatus: required", nil},
		{"POST", "/calls/1/sip-trunks/t3/status", js, `{"routeStatus": "ENABLED"}`, 400, `"routeStatus"`, nil},
		{"POST", "/calls/1/sip-trunks/nope/status", js, `{"adminStatus": "ENABLED"}`, 404, "nope", nil},
		{"POST", "/callrouting/1/routes/r1/status", js, `{"routeStatus": "DISABLED"}`, 200, `"status":"DISABLED"`, nil},
		{"GET", "/callrouting/1/routes/r1", "", "", 200, `"status":"DISABLED"`, nil},
		{"POST", "/callrouting/1/routes/r1/status", js, `{"routeStatus": "disabled"}`, 400, "routeStatus", nil},
		{"POST", "/callrouting/1/routes/nope/status", js, `{"routeStatus": "ENABLED"}`, 404, "nope", nil},

		// routes
		{"POST", "/callrouting/1/routes", js, `{"destinations": [{"type": "ENDPOINT", "value": {"type": "SIP", "sipTrunkId": "t3"}}]}`, 201, "", func(m map[string]any) string {
			if id, _ := m["id"].(string); !generatedID.MatchString(id) || m["status"] != "ENABLED" {
				return "want a generated id and the defaults"
			}
			return ""
		}},
		{"POST", "/callrouting/1/routes", js, `{"id": "r1"}`, 409, "r1", nil},
		{"POST", "/callrouting/1/routes", js, `{"id": "r9", "destinations": [{"type": "ENDPOINT", "value": {"type": "SIP", "sipTrunkId": "ghost"}}]}`, 400, "destinations[0].value.sipTrunkId", nil},
		{"PUT", "/callrouting/1/routes/r2", js, `{"name": "two", "destinations": [{"type": "ENDPOINT", "value": {"type": "SIP", "sipTrunkId": "t2"}}]}`, 200, `"name":"two"`, nil},
		{"DELETE", "/callrouting/1/routes/r1", "", "", 409, "numbers[0].action.routeId", nil},
		{"DELETE", "/callrouting/1/routes/r2", "", "", 204, "", nil},

		// numbers
		{"POST", "/numbers/1/numbers", js, `{"number": "449", "action": {"type": "NO_ACTION"}}`, 201, `"number":"449"`, nil},
		{"POST", "/numbers/1/numbers", js, `{"number": "449", "action": {"type": "NO_ACTION"}}`, 409, "449", nil},
		{"POST", "/numbers/1/numbers", js, `{"action": {"type": "NO_ACTION"}}`, 400, "number: required", nil},
		{"GET", "/numbers/1/numbers/449", "", "", 200, `"type":"NO_ACTION"`, nil},
		{"PUT", "/numbers/1/numbers/449", js, `{"action": {"type": "FORWARD_TO_CALL_ROUTING", "routeId": "r1"}}`, 200, `"routeId":"r1"`, nil},
		{"PUT", "/numbers/1/numbers/449", js, `{"number": "448", "action": {"type": "NO_ACTION"}}`, 400, "number", nil},
		{"PUT", "/numbers/1/numbers/440", js, `{"action": {"type": "NO_ACTION"}}`, 404, "440", nil},
		{"DELETE", "/numbers/1/numbers/449", "", "", 204, "", nil},
		{"GET", "/numbers/1/numbers/449", "", "", 404, "449", nil},

		// calls configurations
		{"POST", "/calls/1/configurations", js, `{"name": "A", "webhook": {"url": "http://127.0.0.1:9000/events"}}`, 201, "", func(m map[string]any) string {
			if id, _ := m["id"].(string); !generatedID.MatchString(id) || m["name"] != "A" {
				return "want a generated id"
			}
			return ""
		}},
		{"POST", "/calls/1/configurations", js, `{"id": "spare"}`, 409, "spare", nil},
		{"PUT", "/calls/1/configurations/spare", js, `{"name": "Spare"}`, 200, `"name":"Spare"`, nil},
		{"GET", "/calls/1/configurations/spare", "", "", 200, `"name":"Spare"`, nil},
		{"DELETE", "/calls/1/configurations/app", "", "", 409, "numbers[1].action.callsConfigurationId", nil},
		{"DELETE", "/calls/1/configurations/spare", "", "", 204, "", nil},
		{"GET", "/calls/1/configurations/spare", "", "", 404, "spare", nil},

		// scripts
		{"PUT", "/scripts/1/scripts/s9", "text/plain; charset=utf-8", "return 1\n", 201, "return 1\n", nil},
		{"PUT", "/scripts/1/scripts/s9", "", "return 2\n", 200, "return 2\n", nil},
		{"GET", "/scripts/1/scripts/s9", "", "", 200, "return 2\n", nil},
		{"GET", "/scripts/1/scripts/s2", "", "", 409, "scripts/s2.lua", nil},
		{"GET", "/scripts/1/scripts/nope", "", "", 404, "nope", nil},
		{"PUT", "/scripts/1/scripts/s9", js, `{"source": "x"}`, 415, "text/plain", nil},
		{"PUT", "/scripts/1/scripts/s9", "text/plain", " \n", 400, "empty", nil},
		{"PUT", "/scripts/1/scripts/s9", "text/plain", "x = '\xff'", 400, "UTF-8", nil},
		{"PUT", "/scripts/1/scripts/bad%20id", "text/plain", "x = 1", 400, "scripts[", nil},
		{"DELETE", "/scripts/1/scripts/s1", "", "", 204, "", nil}, // r2, its user, is gone
		{"DELETE", "/scripts/1/scripts/s9", "", "", 204, "", nil},
		{"DELETE", "/scripts/1/scripts/s9", "", "", 404, "s9", nil},
	}
	for i, s := range steps {
		rec := send(h, s.method, s.target, s.ctype, s.body)
		name := s.method + " " + s.target + " " + s.body
		if rec.Code != s.code {
			t.Fatalf("step %d %s: status %d, want %d; body %s", i, name, rec.Code, s.code, rec.Body)
		}
		switch {
		case s.code >= 400:
			wantError(t, rec, s.code, messageID(s.code))
			if !strings.Contains(errorText(rec), s.text) {
				t.Errorf("step %d %s: error %q does not mention %q", i, name, errorText(rec), s.text)
			}
		case s.code == 204:
			if rec.Body.Len() != 0 {
				t.Errorf("step %d %s: 204 with a body %q", i, name, rec.Body)
			}
		default:
			if !strings.Contains(rec.Body.String(), s.text) {
				t.Errorf("step %d %s: body %s does not hold %s", i, name, rec.Body, s.text)
			}
			if s.check != nil {
				if msg := s.check(decode(t, rec)); msg != "" {
					t.Errorf("step %d %s: %s; body %s", i, name, msg, rec.Body)
				}
			}
		}
	}
	// What the API answered is what the store holds.
	cfg := store.Config()
	if len(cfg.SIPTrunks) != 4 || len(cfg.Routes) != 2 || len(cfg.Numbers) != 2 || len(cfg.CallsConfigurations) != 2 || len(cfg.Scripts) != 1 {
		t.Errorf("store holds %d trunks, %d routes, %d numbers, %d configurations, %d scripts; want 4, 2, 2, 2, 1",
			len(cfg.SIPTrunks), len(cfg.Routes), len(cfg.Numbers), len(cfg.CallsConfigurations), len(cfg.Scripts))
	}
}

func TestStoreLists(t *testing.T) {
	h := storeAPI(newStore(t, storeBase))
	cases := []struct {
		target string
		want   string
	}{
		{"/numbers/1/numbers", `{"results":[{"number":"441","action":{"type":"FORWARD_TO_CALL_ROUTING","routeId":"r1"}},{"number":"442","action":{"type":"FORWARD_TO_SUBSCRIPTION","callsConfigurationId":"app"}}],"paging":{"page":0,"size":20,"totalPages":1,"totalResults":2}}`},
		{"/numbers/1/numbers?size=1&page=1", `{"results":[{"number":"442","action":{"type":"FORWARD_TO_SUBSCRIPTION","callsConfigurationId":"app"}}],"paging":{"page":1,"size":1,"totalPages":2,"totalResults":2}}`},
		{"/calls/1/configurations?size=1", `{"results":[{"id":"app"}],"paging":{"page":0,"size":1,"totalPages":2,"totalResults":2}}`},
		{"/calls/1/configurations?page=3", `{"results":[],"paging":{"page":3,"size":20,"totalPages":1,"totalResults":2}}`},
	}
	for _, c := range cases {
		rec := do(h, "GET", c.target, "")
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != c.want {
			t.Errorf("GET %s = %d %s\nwant %s", c.target, rec.Code, rec.Body, c.want)
		}
	}
	wantError(t, do(h, "GET", "/numbers/1/numbers?size=0", ""), 400, "BAD_REQUEST")
	wantError(t, do(h, "GET", "/calls/1/configurations?page=-1", ""), 400, "BAD_REQUEST")
}

// hidden hides a reader's length, so the request has no Content-Length.
type hidden struct{ io.Reader }

func TestBodyLimits(t *testing.T) {
	h := storeAPI(newStore(t, storeBase))
	big := func(n int) string { return `{"id": "x", "name": "` + strings.Repeat("a", n) + `"}` }
	cases := []struct {
		name, method, target, ctype string
		body                        string
		chunked                     bool
		code                        int
	}{
		{"resource at the limit", "POST", "/calls/1/sip-trunks", mediaJSON, big(resourceLimit - 30), false, 201},
		{"resource over, with length", "POST", "/calls/1/sip-trunks", mediaJSON, big(resourceLimit), false, 413},
		{"resource over, chunked", "PUT", "/calls/1/sip-trunks/t1", mediaJSON, big(resourceLimit), true, 413},
		{"script over", "PUT", "/scripts/1/scripts/s1", mediaText, strings.Repeat("-", resourceLimit+1), true, 413},
		{"import over", "POST", "/config/1/import", mediaYAML, "#" + strings.Repeat("-", importLimit), true, 413},
		{"import over, with length", "POST", "/config/1/import", mediaYAML, "#" + strings.Repeat("-", importLimit), false, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(c.body)
			if c.chunked {
				body = hidden{body}
			}
			req := httptest.NewRequest(c.method, c.target, body)
			req.RemoteAddr = "127.0.0.1:1"
			req.Header.Set("Content-Type", c.ctype)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if c.code == 413 {
				wantError(t, rec, 413, "PAYLOAD_TOO_LARGE")
			} else if rec.Code != c.code {
				t.Fatalf("status %d, want %d: %.200s", rec.Code, c.code, rec.Body)
			}
		})
	}
}

func TestExportImport(t *testing.T) {
	store := newStore(t, storeBase)
	h := storeAPI(store)

	rec := do(h, "GET", "/config/1/export", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != mediaYAML {
		t.Fatalf("export: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	exported := rec.Body.String()
	parsed, err := config.Parse("export.yaml", []byte(exported))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, exported)
	}
	if want := store.Config(); !reflect.DeepEqual(parsed, want) {
		t.Fatalf("export round trip differs:\n%s", exported)
	}

	// Import a smaller document (with other node settings), then the export.
	small := "node: {id: elsewhere}\nsipTrunks: [{id: only, destinationHosts: [only.example]}]\n"
	rec = send(h, "POST", "/config/1/import", "application/yaml", small)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"sipTrunks":1,"numbers":0,"routes":0,"callsConfigurations":0,"scripts":0}` {
		t.Fatalf("import: %d %s", rec.Code, rec.Body)
	}
	if cfg := store.Config(); cfg.Node.ID != "dc1-a" || len(cfg.SIPTrunks) != 1 || cfg.SIPTrunks[0].ID != "only" || cfg.SIPTrunks[0].Transport != "UDP" {
		t.Fatalf("after import the store holds %+v", cfg)
	}
	rec = send(h, "POST", "/config/1/import", "", exported)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"sipTrunks":3,"numbers":2,"routes":2,"callsConfigurations":2,"scripts":2}` {
		t.Fatalf("import of the export: %d %s", rec.Code, rec.Body)
	}
	if !reflect.DeepEqual(store.Config(), parsed) {
		t.Fatalf("import of the export is not the original")
	}

	// JSON is YAML.
	rec = send(h, "POST", "/config/1/import", mediaJSON, `{"sipTrunks": [{"id": "j", "destinationHosts": ["j.example"]}]}`)
	if rec.Code != 200 || store.Config().SIPTrunks[0].ID != "j" {
		t.Fatalf("JSON import: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct{ name, ctype, body, text string }{
		{"invalid", mediaYAML, "routes: [{id: r, destinations: [{type: ENDPOINT, priority: 0, value: {type: SIP, sipTrunkId: j}}]}]\nsipTrunks: [{id: j, destinationHosts: [j.example]}]\n", "import: routes[0].destinations[0].priority"},
		{"unknown field", mediaYAML, "sipTrunks: [{id: j, colour: red}]\n", "sipTrunks[0].colour"},
		{"not YAML", mediaYAML, "sipTrunks: [\n", "import"},
	} {
		rec := send(h, "POST", "/config/1/import", c.ctype, c.body)
		wantError(t, rec, 400, "BAD_REQUEST")
		if !strings.Contains(errorText(rec), c.text) {
			t.Errorf("%s: error %q does not mention %q", c.name, errorText(rec), c.text)
		}
	}
	wantError(t, send(h, "POST", "/config/1/import", "text/plain", "sipTrunks: []"), 415, "UNSUPPORTED_MEDIA_TYPE")
	if store.Config().SIPTrunks[0].ID != "j" {
		t.Fatalf("a refused import changed the store")
	}
}

// TestExportNodeSettings: the export's node settings are the node's own
// (Deps.Config), its resources the store's.
func TestExportNodeSettings(t *testing.T) {
	store := newStore(t, storeBase)
	node := testConfig(t, "tok")
	h := New(Deps{Config: staticConfig{node}, Store: store, Ready: ReadyFunc(func() bool { return true }), Metrics: MetricsFunc(func(io.Writer) {})}, nil)
	rec := do(h, "GET", "/config/1/export", "tok")
	cfg, err := config.Parse("export.yaml", rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Node.ID != "dc1-a" || len(cfg.API.Tokens) != 1 || len(cfg.SIPTrunks) != 3 || cfg.SIPTrunks[0].ID != "t1" {
		t.Fatalf("export mixes the wrong sources:\n%s", rec.Body)
	}
}

func TestNoStore(t *testing.T) {
	h := newAPI(testConfig(t), true, false)
	for _, c := range []struct{ method, target, ctype, body string }{
		{"POST", "/calls/1/sip-trunks", mediaJSON, `{"id": "x"}`},
		{"PUT", "/calls/1/sip-trunks/t00", mediaJSON, `{}`},
		{"DELETE", "/calls/1/sip-trunks/t05", "", ""},
		{"POST", "/calls/1/sip-trunks/t00/status", mediaJSON, `{"adminStatus": "DISABLED"}`},
		{"PUT", "/scripts/1/scripts/s", mediaText, `x = 1`},
		{"POST", "/config/1/import", mediaYAML, `sipTrunks: []`},
	} {
		wantError(t, send(h, c.method, c.target, c.ctype, c.body), 503, "SERVICE_UNAVAILABLE")
	}
	// Reads come from Deps.Config.
	if rec := do(h, "GET", "/calls/1/sip-trunks/t05", ""); rec.Code != 200 {
		t.Fatalf("read without a store: %d", rec.Code)
	}
}

type quorumError struct{}

func (quorumError) Error() string  { return "raft: no quorum" }
func (quorumError) NoQuorum() bool { return true }

type notLeaderError struct{ api string }

func (e notLeaderError) Error() string     { return "not the leader" }
func (e notLeaderError) LeaderAPI() string { return e.api }

func TestErrorStatus(t *testing.T) {
	cases := []struct {
		err  error
		code int
		text string
	}{
		{&config.Error{Problems: []config.Problem{{Path: "sipTrunks[2].transport", Reason: "bad"}}}, 400, "sipTrunks[2].transport: bad"},
		{&config.InUseError{Kind: "sipTrunk", ID: "t1", Paths: []string{"routes[0].destinations[0].value.sipTrunkId"}}, 409, "routes[0].destinations[0].value.sipTrunkId"},
		{errors.Join(errors.New("x"), config.ErrExists), 409, "already exists"},
		{errors.New("wrapped: " + config.ErrNotFound.Error()), 500, ""},
		{errWrap(config.ErrNotFound), 404, "no such"},
		{quorumError{}, 503, "no quorum"},
		{errWrap(quorumError{}), 503, "no quorum"},
		{errWrap(context.DeadlineExceeded), 503, "not committed"},
		{errors.New("disk full"), 500, "disk full"},
	}
	for _, c := range cases {
		code, text := errorStatus(c.err)
		if code != c.code || !strings.Contains(text, c.text) {
			t.Errorf("errorStatus(%v) = %d %q, want %d and %q", c.err, code, text, c.code, c.text)
		}
	}
}

func errWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "store: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestApplyFailures(t *testing.T) {
	store := newStore(t, storeBase)
	h := storeAPI(store)
	for _, c := range []struct {
		err  error
		code int
	}{
		{quorumError{}, 503},
		{context.DeadlineExceeded, 503},
		{notLeaderError{""}, 503},
		{errors.New("boom"), 500},
	} {
		store.fail = func(config.Change) error { return c.err }
		wantError(t, send(h, "POST", "/calls/1/sip-trunks", mediaJSON, `{"id": "x", "destinationHosts": ["x.example"]}`), c.code, messageID(c.code))
		wantError(t, send(h, "DELETE", "/calls/1/sip-trunks/t3", "", ""), c.code, messageID(c.code))
	}
}

// TestForwarding: a follower forwards writes to the leader's API and
// relays its answers; a forwarded request is never forwarded again.
func TestForwarding(t *testing.T) {
	const tokens = "\napi: {tokens: [tok]}\n"
	leaderStore := newStore(t, storeBase+tokens)
	leaderAPI := storeAPI(leaderStore)
	var mu sync.Mutex
	var seen []*http.Request
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		leaderAPI.ServeHTTP(w, r)
	}))
	defer leader.Close()
	leaderAddr := strings.TrimPrefix(leader.URL, "http://")

	followerStore := newStore(t, strings.Replace(storeBase, "dc1-a", "dc1-b", 1)+tokens)
	followerStore.fail = func(config.Change) error { return errWrap(notLeaderError{leaderAddr}) }
	follower := storeAPI(followerStore)

	request := func(h http.Handler, method, target, ctype, body string, header ...string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.RemoteAddr = "203.0.113.9:1000"
		req.Header.Set("Authorization", "Bearer tok")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	// A create on the follower lands on the leader, answered as the leader did.
	rec := request(follower, "POST", "/calls/1/sip-trunks?trace=1", mediaJSON, `{"id": "fw", "destinationHosts": ["fw.example"]}`)
	if rec.Code != 201 || decode(t, rec)["transport"] != "UDP" {
		t.Fatalf("forwarded POST: %d %s", rec.Code, rec.Body)
	}
	if findTrunk(leaderStore.Config(), "fw") == nil || findTrunk(followerStore.Config(), "fw") != nil {
		t.Fatalf("the trunk is not (only) on the leader")
	}
	mu.Lock()
	got := seen[len(seen)-1]
	mu.Unlock()
	if got.Method != "POST" || got.URL.Path != "/calls/1/sip-trunks" || got.URL.RawQuery != "trace=1" ||
		got.Header.Get("Authorization") != "Bearer tok" || got.Header.Get("Content-Type") != mediaJSON ||
		got.Header.Get(forwardedHeader) != "dc1-b" {
		t.Fatalf("the leader got %s %s with %v", got.Method, got.URL, got.Header)
	}

	// Errors, text bodies and empty answers are relayed too.
	wantError(t, request(follower, "POST", "/calls/1/sip-trunks", mediaJSON, `{"id": "fw"}`), 409, "CONFLICT")
	rec = request(follower, "PUT", "/scripts/1/scripts/s7", "text/plain", "return 7")
	if rec.Code != 201 || rec.Body.String() != "return 7" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("forwarded script PUT: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if rec := request(follower, "DELETE", "/calls/1/sip-trunks/fw", "", ""); rec.Code != 204 || findTrunk(leaderStore.Config(), "fw") != nil {
		t.Fatalf("forwarded DELETE: %d %s", rec.Code, rec.Body)
	}
	rec = request(follower, "POST", "/config/1/import", mediaYAML, "sipTrunks: [{id: imported, destinationHosts: [i.example]}]\n")
	if rec.Code != 200 || len(leaderStore.Config().SIPTrunks) != 1 {
		t.Fatalf("forwarded import: %d %s", rec.Code, rec.Body)
	}
	// Validation happens before forwarding: no round trip for a bad body.
	mu.Lock()
	before := len(seen)
	mu.Unlock()
	wantError(t, request(follower, "POST", "/calls/1/sip-trunks", mediaJSON, `{"bogus": 1}`), 400, "BAD_REQUEST")
	mu.Lock()
	if len(seen) != before {
		t.Errorf("a malformed body was forwarded")
	}
	mu.Unlock()

	// The leader refuses the follower's token as it would the client's.
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("DELETE", "/calls/1/sip-trunks/imported", nil)
	req.RemoteAddr = "203.0.113.9:1000"
	req.Header.Set("Authorization", "Bearer tok")
	leaderStore.mu.Lock()
	leaderStore.cfg.API.Tokens = []string{"other"}
	leaderStore.mu.Unlock()
	follower.ServeHTTP(rec, req)
	wantError(t, rec, 401, "UNAUTHORIZED")
	leaderStore.mu.Lock()
	leaderStore.cfg.API.Tokens = []string{"tok"}
	leaderStore.mu.Unlock()

	// Loop guard: a forwarded request that reaches a node that is not the
	// leader is answered 503 there, and that answer is relayed.
	leaderStore.fail = func(config.Change) error { return notLeaderError{"192.0.2.1:8080"} }
	rec = request(follower, "DELETE", "/calls/1/sip-trunks/imported", "", "")
	wantError(t, rec, 503, "SERVICE_UNAVAILABLE")
	if !strings.Contains(errorText(rec), "dc1-b forwarded") {
		t.Errorf("loop guard text %q", errorText(rec))
	}
	wantError(t, request(follower, "DELETE", "/calls/1/sip-trunks/imported", "", "", forwardedHeader, "dc1-c"), 503, "SERVICE_UNAVAILABLE")
	leaderStore.fail = nil

	// A leader that cannot be reached.
	leader.Close()
	rec = request(follower, "DELETE", "/calls/1/sip-trunks/imported", "", "")
	wantError(t, rec, 503, "SERVICE_UNAVAILABLE")
	if !strings.Contains(errorText(rec), leaderAddr) {
		t.Errorf("unreachable leader text %q", errorText(rec))
	}
	follower.client.CloseIdleConnections()
}

func TestWriteAuth(t *testing.T) {
	store := newStore(t, storeBase+"\napi: {tokens: [tok]}\n")
	h := storeAPI(store)
	body := `{"id": "a", "destinationHosts": ["a.example"]}`
	req := func(auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/calls/1/sip-trunks", bytes.NewReader([]byte(body)))
		r.RemoteAddr = "127.0.0.1:1"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	wantError(t, req(""), 401, "UNAUTHORIZED")
	wantError(t, req("Bearer nope"), 401, "UNAUTHORIZED")
	if findTrunk(store.Config(), "a") != nil {
		t.Fatal("an unauthenticated write went through")
	}
	if rec := req("Bearer tok"); rec.Code != 201 {
		t.Fatalf("authenticated write: %d %s", rec.Code, rec.Body)
	}
}
