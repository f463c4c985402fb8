package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/trunkline/trunkline/config"
)

// handler is the API: a net/http mux behind authentication, with errors in
// one shape.
type handler struct {
	deps   Deps
	log    *slog.Logger
	mux    *http.ServeMux
	client *http.Client // forwards writes to the leader

	// endpoints are what the mux serves, in registration order; openapi is
	// the document describing them, served at /openapi.json.
	endpoints []endpoint
	openapi   []byte
}

// New returns the API's handler. deps.Config, deps.Ready and deps.Metrics
// must be set. log receives the API's events; nil discards them.
func New(deps Deps, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		deps: deps,
		log:  log,
		mux:  http.NewServeMux(),
		client: &http.Client{
			Timeout: forwardTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // relay the leader's answer as it is
			},
		},
	}
	h.endpoints = h.routes()
	for _, e := range h.endpoints {
		h.mux.HandleFunc(e.method+" "+e.path, e.serve)
	}
	h.openapi = openAPIDocument(h.endpoints)
	return h
}

// ServeHTTP authenticates the request (all but /healthz), then routes it;
// a path or method with no endpoint gets the error shape too.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/healthz" && !h.authorize(w, r) {
		return
	}
	route, pattern := h.mux.Handler(r)
	if pattern == "" {
		h.noEndpoint(w, r, route)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// noEndpoint answers a request the mux has no pattern for. The mux knows
// whether the path exists under another method (405, with Allow); its own
// answer is recorded and given in the API's shape.
func (h *handler) noEndpoint(w http.ResponseWriter, r *http.Request, route http.Handler) {
	rec := &recorder{header: http.Header{}}
	route.ServeHTTP(rec, r)
	switch rec.code {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, rec.header.Get("Allow")))
	case http.StatusNotFound:
		writeError(w, http.StatusNotFound, fmt.Sprintf("no endpoint %s", r.URL.Path))
	default: // a redirect to the clean path
		route.ServeHTTP(w, r)
	}
}

// recorder keeps the status and headers of a response, and drops its body.
type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return len(b), nil
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

// authorize lets the request through, or answers it and returns false.
// With api.tokens set, it needs "Authorization: Bearer <one of them>" (401
// otherwise); without, it serves loopback clients only (403 otherwise).
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) bool {
	tokens := h.deps.Config.Config().API.Tokens
	if len(tokens) == 0 {
		if isLoopback(r.RemoteAddr) {
			return true
		}
		writeError(w, http.StatusForbidden, "no api.tokens are configured: only loopback clients are served")
		return false
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Bearer") && tokenMatches(strings.TrimSpace(token), tokens) {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="trunkline"`)
	writeError(w, http.StatusUnauthorized, "missing or invalid bearer token")
	return false
}

// tokenMatches compares token with every configured token in constant time:
// digests make the comparison independent of the lengths, and no comparison
// stops early.
func tokenMatches(token string, tokens []string) bool {
	if token == "" {
		return false
	}
	got := sha256.Sum256([]byte(token))
	match := 0
	for _, t := range tokens {
		want := sha256.Sum256([]byte(t))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// isLoopback reports whether a request's remote address is a loopback one.
func isLoopback(remoteAddr string) bool {
	ap, err := netip.ParseAddrPort(remoteAddr)
	return err == nil && ap.Addr().Unmap().IsLoopback()
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	if !h.deps.Ready.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.deps.Metrics.WritePrometheus(w)
}

// trunkStatus answers GET /calls/1/sip-trunks/{id}/status.
func (h *handler) trunkStatus(w http.ResponseWriter, r *http.Request) {
	tr := findTrunk(h.resources(), r.PathValue("id"))
	if tr == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no SIP trunk %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, h.statusOf(tr))
}

// statusOf is a trunk's status: live from the monitor, administrative from
// the configuration.
func (h *handler) statusOf(tr *config.SIPTrunk) TrunkStatus {
	var st TrunkStatus
	if h.deps.Trunks != nil {
		st = h.deps.Trunks.TrunkStatus(tr)
	} else {
		st = unmonitoredStatus(tr)
	}
	st.AdminStatus = tr.AdminStatus
	if st.Hosts == nil {
		st.Hosts = []HostStatus{}
	}
	return st
}

// unmonitoredStatus is a trunk's status when nothing monitors trunks.
func unmonitoredStatus(tr *config.SIPTrunk) TrunkStatus {
	st := TrunkStatus{
		RegistrationStatus: RegistrationNA,
		OptionsStatus:      StatusUnknown,
		Hosts:              make([]HostStatus, len(tr.DestinationHosts)),
	}
	if tr.Type == config.TrunkRegistered {
		st.RegistrationStatus = RegistrationUnregistered
	}
	for i, host := range tr.DestinationHosts {
		st.Hosts[i] = HostStatus{Host: host, Status: StatusUnknown}
	}
	return st
}

func (h *handler) clusterStatus(w http.ResponseWriter, r *http.Request) {
	var st ClusterStatus
	if h.deps.Cluster != nil {
		st = h.deps.Cluster.ClusterStatus()
	} else {
		id := h.deps.Config.Config().Node.ID
		st = ClusterStatus{NodeID: id, Role: RoleLeader, Leader: id}
	}
	if st.Peers == nil {
		st.Peers = []Peer{}
	}
	writeJSON(w, http.StatusOK, st)
}

// findTrunk returns the trunk with the given id in cfg, or nil.
func findTrunk(cfg *config.Config, id string) *config.SIPTrunk {
	if cfg == nil {
		return nil
	}
	for i := range cfg.SIPTrunks {
		if cfg.SIPTrunks[i].ID == id {
			return &cfg.SIPTrunks[i]
		}
	}
	return nil
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // a write error means the client is gone
}

// writeError writes the API's error body, its messageId derived from status.
func writeError(w http.ResponseWriter, status int, text string) {
	writeJSON(w, status, errorBody{requestError{serviceException{MessageID: messageID(status), Text: text}}})
}

// messageID names an HTTP status as Infobip's error bodies do.
func messageID(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BAD_REQUEST"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "FORBIDDEN"
	case http.StatusNotFound:
		return "NOT_FOUND"
	case http.StatusMethodNotAllowed:
		return "METHOD_NOT_ALLOWED"
	case http.StatusConflict:
		return "CONFLICT"
	case http.StatusRequestEntityTooLarge:
		return "PAYLOAD_TOO_LARGE"
	case http.StatusUnsupportedMediaType:
		return "UNSUPPORTED_MEDIA_TYPE"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	case http.StatusServiceUnavailable:
		return "SERVICE_UNAVAILABLE"
	default:
		return "GENERAL_ERROR"
	}
}
