// Package api is Trunkline's HTTP surface (DESIGN §5): /healthz, /metrics,
// the management API over the configuration, /openapi.json, and later the
// Calls API, webhooks and the console.
//
// New returns one http.Handler. It declares the small interfaces it consumes
// (ConfigSource, ReadyChecker, MetricsWriter, TrunkMonitor, ClusterMonitor,
// ConfigStore, and NotLeader and NoQuorum, which the store's errors may
// implement); cmd/trunkline hands it the implementations. It never imports
// sbc or cluster: what they know reaches it through those interfaces, in
// this package's own types. It imports config (the resource shapes) and
// routing (simulate).
//
// Management: SIP trunks, routes, numbers, calls configurations (JSON),
// scripts (text/plain Lua), export and import (the whole YAML document) and
// route simulation. Reads are served locally from ConfigStore.Config (from
// Deps.Config when there is no store). Every write is one config.Change
// handed to ConfigStore.Apply; errorStatus is the one place mapping what it
// returns to a status: a *config.Error 400 with the field paths, an
// *config.InUseError 409 naming the referencing paths, config.ErrExists
// 409, config.ErrNotFound 404, an error whose NoQuorum() is true or a
// commit that outlives its deadline 503, anything else 500. Without a store
// every write is 503. POST creates (201, an id generated when absent), PUT
// replaces (200; the path's id wins, a body naming another is 400), DELETE
// answers 204.
//
// On a follower Apply returns an error implementing NotLeader: the request,
// as received, is forwarded to http://<LeaderAPI> (method, path, query,
// body, Authorization, Content-Type) and the leader's answer relayed. The
// forwarded request carries X-Trunkline-Forwarded-By: <node id> and is
// never forwarded again (503), so two nodes that each think the other leads
// cannot bounce a write. An unknown or unreachable leader is 503. The
// leader authenticates the forwarded request itself, with the client's
// token: every node must accept the same api.tokens.
//
// Bodies are read whole, up to 1 MiB for a resource and 16 MiB for an
// import (413 beyond); a Content-Type other than the endpoint's is 415;
// JSON is decoded strictly (unknown fields and wrong types are 400 naming
// the field).
//
// Every error, unknown paths and wrong methods included, is the Infobip
// shape {"requestError": {"serviceException": {"messageId", "text"}}} with a
// fitting status. Every endpoint but /healthz needs "Authorization: Bearer
// <token>" when api.tokens is set; with no tokens only loopback clients are
// served.
//
// The mux and the OpenAPI 3.0 document at /openapi.json are built from one
// list of endpoints (routes.go), the schemas from the Go types of the
// bodies; a test checks that the two agree route for route.
package api
