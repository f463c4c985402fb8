// Package api is Trunkline's HTTP surface (DESIGN §5): /healthz, /metrics,
// the management API over the configuration, and later the Calls API,
// webhooks and the console.
//
// New returns one http.Handler. It declares the small interfaces it consumes
// (ConfigSource, ReadyChecker, MetricsWriter, TrunkMonitor, ClusterMonitor);
// cmd/trunkline hands it the implementations. It never imports sbc or
// cluster: what they know reaches it through those interfaces, in this
// package's own types.
//
// Every error, unknown paths and wrong methods included, is the Infobip
// shape {"requestError": {"serviceException": {"messageId", "text"}}} with a
// fitting status. Every endpoint but /healthz needs "Authorization: Bearer
// <token>" when api.tokens is set; with no tokens only loopback clients are
// served.
package api
