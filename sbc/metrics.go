package sbc

import (
	"io"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/emiago/sipgo/sip"

	"github.com/trunkline/trunkline/media"
)

// serverMetrics are the series the SIP side exports, in a set the server
// owns (DESIGN §5 names them).
type serverMetrics struct {
	set *metrics.Set

	// requests counts requests received, by method; other methods share
	// "OTHER", so that a peer cannot mint series. Filled by newServerMetrics,
	// read-only afterwards.
	requests      map[sip.RequestMethod]*metrics.Counter
	otherRequests *metrics.Counter
	unknownSource *metrics.Counter
	rateLimited   *metrics.Counter             // UDP datagrams and TCP connections over sip.sourceRateLimit
	luaHook       *metrics.PrometheusHistogram // time of each Lua hook call
}

// newServerMetrics registers the SIP side's series; activeCalls feeds
// trunkline_calls_active.
func newServerMetrics(activeCalls func() float64) *serverMetrics {
	// The methods of RFC 3261 and its common extensions get a series each.
	counted := []sip.RequestMethod{
		sip.INVITE, sip.ACK, sip.BYE, sip.CANCEL, sip.OPTIONS, sip.REGISTER,
		sip.PRACK, sip.UPDATE, sip.INFO, sip.REFER, sip.NOTIFY, sip.SUBSCRIBE,
		sip.MESSAGE, sip.PUBLISH,
	}
	m := &serverMetrics{
		set:      metrics.NewSet(),
		requests: make(map[sip.RequestMethod]*metrics.Counter, len(counted)),
	}
	for _, method := range counted {
		m.requests[method] = m.set.NewCounter(`trunkline_sip_requests_total{method="` + string(method) + `"}`)
	}
	m.otherRequests = m.set.NewCounter(`trunkline_sip_requests_total{method="OTHER"}`)
	m.unknownSource = m.set.NewCounter("trunkline_sip_unknown_source_total")
	m.rateLimited = m.set.NewCounter("trunkline_sip_rate_limited_total")
	m.luaHook = m.set.NewPrometheusHistogram("trunkline_lua_hook_seconds")
	m.set.NewGauge("trunkline_calls_active", activeCalls)
	return m
}

// callEnded counts a call leg that ended, by direction (inbound, outbound),
// trunk (a configured id) and result (its call-log state): bounded labels.
func (m *serverMetrics) callEnded(direction, trunk, state string) {
	m.set.GetOrCreateCounter(`trunkline_calls_total{direction="` + strings.ToLower(direction) +
		`",trunk="` + labelValue(trunk) + `",result="` + strings.ToLower(state) + `"}`).Inc()
}

// attempt counts a hunt attempt's outcome, by trunk and code: the final
// response's code when it is one of codeLabels, its class ("4xx") when not,
// or what happened instead (timeout, unreachable, no_answer, cancelled,
// shutdown).
func (m *serverMetrics) attempt(trunk string, r result) {
	m.set.GetOrCreateCounter(`trunkline_route_attempts_total{trunk="` + labelValue(trunk) +
		`",code="` + attemptLabel(r) + `"}`).Inc()
}

// codeLabels are the final responses counted by their own code.
var codeLabels = map[int]bool{
	200: true, 400: true, 403: true, 404: true, 408: true, 410: true, 415: true,
	480: true, 481: true, 484: true, 486: true, 487: true, 488: true, 500: true,
	501: true, 502: true, 503: true, 504: true, 600: true, 603: true, 604: true,
}

func attemptLabel(r result) string {
	switch r.out {
	case outUnreachable:
		if r.code == sip.StatusRequestTimeout {
			return "timeout"
		}
		return "unreachable"
	case outNoAnswer:
		return "no_answer"
	case outCancelled:
		return "cancelled"
	case outShutdown:
		return "shutdown"
	}
	if codeLabels[r.code] {
		return strconv.Itoa(r.code)
	}
	return strconv.Itoa(r.code/100) + "xx"
}

// writeRTP writes trunkline_rtp_packets_total{dir="in"|"out"}: the RTP
// packets every relay of pool received from peers and sent to them.
func writeRTP(w io.Writer, pool *media.Pool) {
	t := pool.Totals()
	metrics.WriteCounterUint64(w, `trunkline_rtp_packets_total{dir="in"}`, t.PacketsIn)
	metrics.WriteCounterUint64(w, `trunkline_rtp_packets_total{dir="out"}`, t.PacketsOut)
}

// request counts one request of the given method.
func (m *serverMetrics) request(method sip.RequestMethod) {
	if c := m.requests[method]; c != nil {
		c.Inc()
		return
	}
	m.otherRequests.Inc()
}

// trunkUpName is the series of trunk_up for one trunk.
func trunkUpName(id string) string {
	return `trunkline_trunk_up{trunk="` + labelValue(id) + `"}`
}

// labelValue escapes s for a Prometheus label value. Trunk ids exclude
// control characters and spaces, but may hold a quote or a backslash.
func labelValue(s string) string {
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	return labelEscaper.Replace(s)
}

// labelEscaper is labelValue's replacer, built once (a Replacer is safe
// for concurrent use).
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// trunkChange counts a trunk going out of service (down) or back into it,
// as OPTIONS polling decides.
func (m *serverMetrics) trunkChange(trunk string, down bool) {
	state := "up"
	if down {
		state = "down"
	}
	m.set.GetOrCreateCounter(`trunkline_trunk_state_changes_total{trunk="` + labelValue(trunk) + `",state="` + state + `"}`).Inc()
}

// luaError counts a Lua hook that failed or overran its budget.
func (m *serverMetrics) luaError(script, hook string) {
	m.set.GetOrCreateCounter(`trunkline_lua_errors_total{script="` + labelValue(script) + `",hook="` + hook + `"}`).Inc()
}
