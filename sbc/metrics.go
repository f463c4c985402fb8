package sbc

import (
	"strings"

	"github.com/VictoriaMetrics/metrics"
	"github.com/emiago/sipgo/sip"
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
	m.set.NewGauge("trunkline_calls_active", activeCalls)
	return m
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
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}
