package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trunkline/trunkline/config"
)

// testConfig has 25 STATIC trunks (t00..t24, t00 with two destination
// hosts), one REGISTERED trunk and 3 routes, and the given tokens.
func testConfig(t *testing.T, tokens ...string) *config.Config {
	t.Helper()
	var b strings.Builder
	b.WriteString("node: {id: dc1-a}\n")
	if len(tokens) > 0 {
		fmt.Fprintf(&b, "api: {tokens: [%s]}\n", strings.Join(tokens, ", "))
	}
	b.WriteString("sipTrunks:\n")
	b.WriteString("  - {id: t00, name: PBX, sourceHosts: [198.51.100.0/28], destinationHosts: [\"198.51.100.5:5060\", sip.carrier.example]}\n")
	for i := 1; i < 25; i++ {
		fmt.Fprintf(&b, "  - {id: t%02d, destinationHosts: [\"192.0.2.%d:5060\"]}\n", i, i)
	}
	b.WriteString("  - {id: reg, type: REGISTERED, inboundAuth: {username: u, password: p}}\n")
	b.WriteString("routes:\n")
	for _, id := range []string{"main", "night", "spare"} {
		fmt.Fprintf(&b, "  - id: %s\n    destinations:\n      - {type: ENDPOINT, value: {type: SIP, sipTrunkId: t01}}\n", id)
	}
	cfg, err := config.Parse("api-test.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type staticConfig struct{ cfg *config.Config }

func (s staticConfig) Config() *config.Config { return s.cfg }

type fakeTrunks struct{}

func (fakeTrunks) TrunkStatus(tr *config.SIPTrunk) TrunkStatus {
	return TrunkStatus{
		AdminStatus:        "IGNORED", // the API takes it from the config
		RegistrationStatus: RegistrationNA,
		ActiveCalls:        3,
		OptionsStatus:      StatusInService,
		Hosts:              []HostStatus{{Host: tr.DestinationHosts[0], Status: StatusInService}},
	}
}

type fakeCluster struct{}

func (fakeCluster) ClusterStatus() ClusterStatus {
	return ClusterStatus{NodeID: "dc1-b", Role: RoleFollower, Leader: "dc1-a",
		Peers: []Peer{{ID: "dc1-a", Raft: "127.0.0.1:7000", API: "127.0.0.1:8080"}}, AppliedIndex: 42}
}

// newAPI returns the API over cfg; ready and monitors as given.
func newAPI(cfg *config.Config, ready bool, monitors bool) http.Handler {
	deps := Deps{
		Config:  staticConfig{cfg},
		Ready:   ReadyFunc(func() bool { return ready }),
		Metrics: MetricsFunc(func(w io.Writer) { io.WriteString(w, "trunkline_calls_active 0\n") }),
	}
	if monitors {
		deps.Trunks, deps.Cluster = fakeTrunks{}, fakeCluster{}
	}
	return New(deps, nil)
}

// do serves one request from a loopback client, with a bearer token when
// token is not "".
func do(h http.Handler, method, target, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// decode decodes a JSON body into a map, failing the test otherwise.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q, want application/json; body %s", ct, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, rec.Body)
	}
	return m
}

// wantError checks an error response: status, Infobip body, messageId.
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, messageID string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	var body struct {
		RequestError struct {
			ServiceException struct {
				MessageID string `json:"messageId"`
				Text      string `json:"text"`
			} `json:"serviceException"`
		} `json:"requestError"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, rec.Body)
	}
	se := body.RequestError.ServiceException
	if se.MessageID != messageID || se.Text == "" {
		t.Fatalf("serviceException = %+v, want messageId %s and a text", se, messageID)
	}
}

func TestHealthz(t *testing.T) {
	cfg := testConfig(t, "secret")
	for _, c := range []struct {
		ready  bool
		code   int
		status string
	}{{true, 200, "ok"}, {false, 503, "unavailable"}} {
		// No token, and not from loopback: /healthz needs neither.
		req := httptest.NewRequest("GET", "/healthz", nil)
		rec := httptest.NewRecorder()
		newAPI(cfg, c.ready, false).ServeHTTP(rec, req)
		if rec.Code != c.code || decode(t, rec)["status"] != c.status {
			t.Errorf("ready=%v: %d %s, want %d status %q", c.ready, rec.Code, rec.Body, c.code, c.status)
		}
	}
}

func TestMetricsEndpoint(t *testing.T) {
	rec := do(newAPI(testConfig(t), true, false), "GET", "/metrics", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") ||
		rec.Body.String() != "trunkline_calls_active 0\n" {
		t.Fatalf("GET /metrics = %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

func TestLists(t *testing.T) {
	h := newAPI(testConfig(t), true, false)
	cases := []struct {
		target                   string
		ids                      []string
		page, size, pages, total int
	}{
		{"/calls/1/sip-trunks", ids("t", 0, 20), 0, 20, 2, 26},
		{"/calls/1/sip-trunks?page=1", append(ids("t", 20, 25), "reg"), 1, 20, 2, 26},
		{"/calls/1/sip-trunks?page=2", nil, 2, 20, 2, 26},
		{"/calls/1/sip-trunks?size=5&page=5", []string{"reg"}, 5, 5, 6, 26},
		{"/calls/1/sip-trunks?size=1000", append(ids("t", 0, 25), "reg"), 0, 1000, 1, 26},
		{"/calls/1/sip-trunks?page=9223372036854775807&size=1000", nil, 9223372036854775807, 1000, 1, 26},
		{"/callrouting/1/routes", []string{"main", "night", "spare"}, 0, 20, 1, 3},
		{"/callrouting/1/routes?size=2&page=1", []string{"spare"}, 1, 2, 2, 3},
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			rec := do(h, "GET", c.target, "")
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			var body struct {
				Results []struct {
					ID string `json:"id"`
				} `json:"results"`
				Paging Paging `json:"paging"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rec.Body.String(), `"results":[`) {
				t.Errorf("results is not a list: %s", rec.Body)
			}
			var got []string
			for _, r := range body.Results {
				got = append(got, r.ID)
			}
			if strings.Join(got, ",") != strings.Join(c.ids, ",") {
				t.Errorf("ids = %v, want %v", got, c.ids)
			}
			want := Paging{Page: c.page, Size: c.size, TotalPages: c.pages, TotalResults: c.total}
			if body.Paging != want {
				t.Errorf("paging = %+v, want %+v", body.Paging, want)
			}
		})
	}
}

func ids(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s%02d", prefix, i))
	}
	return out
}

func TestListsBadPaging(t *testing.T) {
	h := newAPI(testConfig(t), true, false)
	for _, q := range []string{"page=-1", "page=x", "page=", "size=0", "size=1001", "size=ten", "page=1.5"} {
		t.Run(q, func(t *testing.T) {
			wantError(t, do(h, "GET", "/calls/1/sip-trunks?"+q, ""), 400, "BAD_REQUEST")
			wantError(t, do(h, "GET", "/callrouting/1/routes?"+q, ""), 400, "BAD_REQUEST")
		})
	}
}

func TestGetResource(t *testing.T) {
	h := newAPI(testConfig(t), true, false)
	rec := do(h, "GET", "/calls/1/sip-trunks/t00", "")
	m := decode(t, rec)
	if rec.Code != 200 || m["id"] != "t00" || m["name"] != "PBX" || m["adminStatus"] != "ENABLED" || m["type"] != "STATIC" {
		t.Fatalf("GET trunk = %d %s", rec.Code, rec.Body)
	}
	if hosts, _ := m["sourceHosts"].([]any); len(hosts) != 1 || hosts[0] != "198.51.100.0/28" {
		t.Fatalf("sourceHosts = %v", m["sourceHosts"])
	}
	rec = do(h, "GET", "/callrouting/1/routes/night", "")
	if m := decode(t, rec); rec.Code != 200 || m["id"] != "night" || m["status"] != "ENABLED" {
		t.Fatalf("GET route = %d %s", rec.Code, rec.Body)
	}
	wantError(t, do(h, "GET", "/calls/1/sip-trunks/nope", ""), 404, "NOT_FOUND")
	wantError(t, do(h, "GET", "/callrouting/1/routes/nope", ""), 404, "NOT_FOUND")
	wantError(t, do(h, "GET", "/calls/1/sip-trunks/nope/status", ""), 404, "NOT_FOUND")
}

func TestTrunkStatusEndpoint(t *testing.T) {
	cfg := testConfig(t)
	cfg.SIPTrunks[0].AdminStatus = config.Disabled
	cases := []struct {
		name     string
		monitors bool
		trunk    string
		want     string
	}{
		{"unmonitored", false, "t00", `{"adminStatus":"DISABLED","registrationStatus":"N/A","activeCalls":0,"optionsStatus":"UNKNOWN","hosts":[{"host":"198.51.100.5:5060","status":"UNKNOWN"},{"host":"sip.carrier.example","status":"UNKNOWN"}]}`},
		{"unmonitored registered", false, "reg", `{"adminStatus":"ENABLED","registrationStatus":"UNREGISTERED","activeCalls":0,"optionsStatus":"UNKNOWN","hosts":[]}`},
		{"monitored", true, "t01", `{"adminStatus":"ENABLED","registrationStatus":"N/A","activeCalls":3,"optionsStatus":"IN_SERVICE","hosts":[{"host":"192.0.2.1:5060","status":"IN_SERVICE"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := do(newAPI(cfg, true, c.monitors), "GET", "/calls/1/sip-trunks/"+c.trunk+"/status", "")
			if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != c.want {
				t.Fatalf("got %d %s\nwant %s", rec.Code, rec.Body, c.want)
			}
		})
	}
}

func TestClusterStatusEndpoint(t *testing.T) {
	cfg := testConfig(t)
	for _, c := range []struct {
		monitors bool
		want     string
	}{
		{false, `{"nodeId":"dc1-a","role":"LEADER","leader":"dc1-a","peers":[],"appliedIndex":0}`},
		{true, `{"nodeId":"dc1-b","role":"FOLLOWER","leader":"dc1-a","peers":[{"id":"dc1-a","raft":"127.0.0.1:7000","api":"127.0.0.1:8080"}],"appliedIndex":42}`},
	} {
		rec := do(newAPI(cfg, true, c.monitors), "GET", "/cluster/1/status", "")
		if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != c.want {
			t.Errorf("monitors=%v: got %d %s\nwant %s", c.monitors, rec.Code, rec.Body, c.want)
		}
	}
}

func TestNoEndpoint(t *testing.T) {
	h := newAPI(testConfig(t), true, false)
	cases := []struct {
		method, target string
		code           int
		id             string
		allow          string
	}{
		{"GET", "/calls/1/nothing", 404, "NOT_FOUND", ""},
		{"GET", "/", 404, "NOT_FOUND", ""},
		{"GET", "/calls/1/sip-trunks/t00/status/more", 404, "NOT_FOUND", ""},
		{"POST", "/healthz", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
		{"DELETE", "/calls/1/sip-trunks", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, POST"},
		{"PATCH", "/calls/1/sip-trunks/t00", 405, "METHOD_NOT_ALLOWED", "DELETE, GET, HEAD, PUT"},
		{"PUT", "/calls/1/sip-trunks/t00/status", 405, "METHOD_NOT_ALLOWED", "GET, HEAD, POST"},
		{"POST", "/scripts/1/scripts/s1", 405, "METHOD_NOT_ALLOWED", "DELETE, GET, HEAD, PUT"},
		{"POST", "/cluster/1/status", 405, "METHOD_NOT_ALLOWED", "GET, HEAD"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			rec := do(h, c.method, c.target, "")
			wantError(t, rec, c.code, c.id)
			if got := rec.Header().Get("Allow"); got != c.allow {
				t.Errorf("Allow = %q, want %q", got, c.allow)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	withTokens := newAPI(testConfig(t, "s3cret", "other-token"), true, false)
	noTokens := newAPI(testConfig(t), true, false)
	request := func(h http.Handler, remote, auth, target string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", target, nil)
		req.RemoteAddr = remote
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	cases := []struct {
		name         string
		h            http.Handler
		remote, auth string
		target       string
		code         int
		id           string
	}{
		{"token", withTokens, "203.0.113.9:1000", "Bearer s3cret", "/calls/1/sip-trunks", 200, ""},
		{"second token", withTokens, "203.0.113.9:1000", "Bearer other-token", "/metrics", 200, ""},
		{"scheme case", withTokens, "203.0.113.9:1000", "bearer s3cret", "/cluster/1/status", 200, ""},
		{"no token", withTokens, "127.0.0.1:1000", "", "/calls/1/sip-trunks", 401, "UNAUTHORIZED"},
		{"wrong token", withTokens, "127.0.0.1:1000", "Bearer s3cre", "/calls/1/sip-trunks", 401, "UNAUTHORIZED"},
		{"empty token", withTokens, "127.0.0.1:1000", "Bearer ", "/calls/1/sip-trunks", 401, "UNAUTHORIZED"},
		{"basic", withTokens, "127.0.0.1:1000", "Basic czNjcmV0", "/calls/1/sip-trunks", 401, "UNAUTHORIZED"},
		{"no token, unknown path", withTokens, "127.0.0.1:1000", "", "/nope", 401, "UNAUTHORIZED"},
		{"healthz needs no token", withTokens, "203.0.113.9:1000", "", "/healthz", 200, ""},
		{"loopback v4", noTokens, "127.0.0.1:1000", "", "/calls/1/sip-trunks", 200, ""},
		{"loopback v6", noTokens, "[::1]:1000", "", "/calls/1/sip-trunks", 200, ""},
		{"remote without tokens", noTokens, "203.0.113.9:1000", "", "/calls/1/sip-trunks", 403, "FORBIDDEN"},
		{"remote without tokens, healthz", noTokens, "203.0.113.9:1000", "", "/healthz", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := request(c.h, c.remote, c.auth, c.target)
			if c.id != "" {
				wantError(t, rec, c.code, c.id)
			} else if rec.Code != c.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.code, rec.Body)
			}
			if c.code == 401 && !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
}

// TestConfigFollowsSource: every request reads the configuration in force,
// tokens included.
func TestConfigFollowsSource(t *testing.T) {
	src := &swappable{cfg: testConfig(t)}
	h := New(Deps{Config: src, Ready: ReadyFunc(func() bool { return true }), Metrics: MetricsFunc(func(io.Writer) {})}, nil)
	if rec := do(h, "GET", "/calls/1/sip-trunks/t00", ""); rec.Code != 200 {
		t.Fatalf("before: %d", rec.Code)
	}
	src.cfg = testConfig(t, "tok")
	src.cfg.SIPTrunks = src.cfg.SIPTrunks[1:]
	wantError(t, do(h, "GET", "/calls/1/sip-trunks/t00", ""), 401, "UNAUTHORIZED")
	wantError(t, do(h, "GET", "/calls/1/sip-trunks/t00", "tok"), 404, "NOT_FOUND")
}

type swappable struct{ cfg *config.Config }

func (s *swappable) Config() *config.Config { return s.cfg }
