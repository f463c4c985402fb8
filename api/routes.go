package api

import (
	"net/http"
	"reflect"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
)

// endpoint is one method and path the API serves, with what the OpenAPI
// document says of it. The mux and the document are both built from the
// same list, so neither can have a route the other lacks.
type endpoint struct {
	method, path string
	summary      string
	serve        http.HandlerFunc
	public       bool     // served without authentication
	list         bool     // takes the page and size query parameters
	request      *content // nil: no body
	ok           int      // the success status
	response     *content // nil: no body
	errors       []int    // the error statuses it answers besides auth's
}

// content is a body: its media type and schema, either the Go type of a
// JSON body (described by reflection) or a literal OpenAPI schema.
type content struct {
	mediaType string
	schema    any // reflect.Type or map[string]any
}

// Media types of bodies.
const (
	mediaJSON = "application/json"
	mediaYAML = "application/yaml"
	mediaText = "text/plain"
)

func jsonOf[T any]() *content {
	return &content{mediaType: mediaJSON, schema: reflect.TypeFor[T]()}
}

// Error statuses most endpoints share.
var (
	readErrors   = []int{http.StatusNotFound}
	createErrors = []int{http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable}
	updateErrors = []int{http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable}
	deleteErrors = []int{http.StatusNotFound, http.StatusConflict, http.StatusServiceUnavailable}
)

// routes lists every endpoint of the API.
func (h *handler) routes() []endpoint {
	trunks := &resourceAPI[config.SIPTrunk]{h: h, kind: config.KindSIPTrunk, noun: "SIP trunk", idField: "id", generateID: true,
		all:  func(c *config.Config) []config.SIPTrunk { return c.SIPTrunks },
		id:   func(t *config.SIPTrunk) *string { return &t.ID },
		into: func(ch *config.Change, t *config.SIPTrunk) { ch.SIPTrunk = t }}
	routes := &resourceAPI[config.Route]{h: h, kind: config.KindRoute, noun: "route", idField: "id", generateID: true,
		all:  func(c *config.Config) []config.Route { return c.Routes },
		id:   func(r *config.Route) *string { return &r.ID },
		into: func(ch *config.Change, r *config.Route) { ch.Route = r }}
	numbers := &resourceAPI[config.Number]{h: h, kind: config.KindNumber, noun: "number", idField: "number",
		all:  func(c *config.Config) []config.Number { return c.Numbers },
		id:   func(n *config.Number) *string { return &n.Number },
		into: func(ch *config.Change, n *config.Number) { ch.Number = n }}
	apps := &resourceAPI[config.CallsConfiguration]{h: h, kind: config.KindCallsConfiguration, noun: "calls configuration", idField: "id", generateID: true,
		all:  func(c *config.Config) []config.CallsConfiguration { return c.CallsConfigurations },
		id:   func(a *config.CallsConfiguration) *string { return &a.ID },
		into: func(ch *config.Change, a *config.CallsConfiguration) { ch.CallsConfiguration = a }}

	var eps []endpoint
	eps = append(eps,
		endpoint{method: "GET", path: "/healthz", summary: "Whether the node serves (503 while not ready or draining)", serve: h.healthz, public: true,
			ok: http.StatusOK, response: jsonOf[healthBody](), errors: []int{http.StatusServiceUnavailable}},
		endpoint{method: "GET", path: "/metrics", summary: "Prometheus metrics", serve: h.metrics,
			ok: http.StatusOK, response: &content{mediaType: mediaText, schema: map[string]any{"type": "string"}}},
		endpoint{method: "GET", path: "/openapi.json", summary: "This document", serve: h.serveOpenAPI,
			ok: http.StatusOK, response: &content{mediaType: mediaJSON, schema: map[string]any{"type": "object"}}},
	)
	eps = append(eps, trunks.endpoints("/calls/1/sip-trunks", "{id}")...)
	eps = append(eps,
		endpoint{method: "GET", path: "/calls/1/sip-trunks/{id}/status", summary: "A SIP trunk's administrative and live status", serve: h.trunkStatus,
			ok: http.StatusOK, response: jsonOf[TrunkStatus](), errors: readErrors},
		endpoint{method: "POST", path: "/calls/1/sip-trunks/{id}/status", summary: "Enable or disable a SIP trunk", serve: h.setTrunkStatus,
			request: jsonOf[trunkStatusRequest](), ok: http.StatusOK, response: jsonOf[TrunkStatus](), errors: updateErrors},
	)
	eps = append(eps, routes.endpoints("/callrouting/1/routes", "{id}")...)
	eps = append(eps,
		endpoint{method: "POST", path: "/callrouting/1/routes/{id}/status", summary: "Enable or disable a route", serve: h.setRouteStatus,
			request: jsonOf[routeStatusRequest](), ok: http.StatusOK, response: jsonOf[config.Route](), errors: updateErrors},
		endpoint{method: "POST", path: "/callrouting/1/routes/simulate", summary: "What would happen to one call, without sending SIP", serve: h.simulate,
			request: jsonOf[simulateRequest](), ok: http.StatusOK, response: jsonOf[routing.Decision](),
			errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}},
	)
	eps = append(eps, numbers.endpoints("/numbers/1/numbers", "{number}")...)
	eps = append(eps, apps.endpoints("/calls/1/configurations", "{id}")...)
	script := &content{mediaType: mediaText, schema: map[string]any{"type": "string", "description": "Lua source"}}
	eps = append(eps,
		endpoint{method: "GET", path: "/scripts/1/scripts/{id}", summary: "A Lua script's source", serve: h.getScript,
			ok: http.StatusOK, response: script, errors: []int{http.StatusNotFound, http.StatusConflict}},
		endpoint{method: "PUT", path: "/scripts/1/scripts/{id}", summary: "Create (201) or replace (200) a Lua script", serve: h.putScript,
			request: script, ok: http.StatusOK, response: script, errors: createErrors},
		endpoint{method: "DELETE", path: "/scripts/1/scripts/{id}", summary: "Delete a Lua script", serve: h.deleteScript,
			ok: http.StatusNoContent, errors: deleteErrors},
		endpoint{method: "GET", path: "/config/1/export", summary: "The whole configuration document (DESIGN §3) as YAML", serve: h.export,
			ok: http.StatusOK, response: &content{mediaType: mediaYAML, schema: reflect.TypeFor[config.Config]()}},
		endpoint{method: "POST", path: "/config/1/import", summary: "Replace every resource with the document's (node settings are kept)", serve: h.importConfig,
			request: &content{mediaType: mediaYAML, schema: reflect.TypeFor[config.Config]()}, ok: http.StatusOK, response: jsonOf[importResult](),
			errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable}},
		endpoint{method: "GET", path: "/cluster/1/status", summary: "This node's view of the cluster", serve: h.clusterStatus,
			ok: http.StatusOK, response: jsonOf[ClusterStatus]()},
		endpoint{method: "GET", path: "/kv/1/{key}", summary: "A value of the replicated key/value store (tl.kv_get)", serve: h.getKV,
			ok: http.StatusOK, response: kvText, errors: []int{http.StatusNotFound, http.StatusServiceUnavailable}},
		endpoint{method: "PUT", path: "/kv/1/{key}", summary: "Set a value on every node (tl.kv_set)", serve: h.putKV,
			request: kvText, ok: http.StatusOK, response: kvText,
			errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable}},
		endpoint{method: "DELETE", path: "/kv/1/{key}", summary: "Remove a key on every node", serve: h.deleteKV,
			ok: http.StatusNoContent, errors: []int{http.StatusBadRequest, http.StatusServiceUnavailable}},
		endpoint{method: "POST", path: "/cluster/1/members", summary: "Add a node to the cluster as a voter", serve: h.addMember,
			request: jsonOf[memberRequest](), ok: http.StatusCreated, response: jsonOf[Peer](),
			errors: []int{http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusServiceUnavailable}},
		endpoint{method: "DELETE", path: "/cluster/1/members/{id}", summary: "Remove a node from the cluster", serve: h.removeMember,
			ok: http.StatusNoContent, errors: []int{http.StatusBadRequest, http.StatusNotFound, http.StatusServiceUnavailable}},
	)
	return eps
}

// healthBody is the body of /healthz.
type healthBody struct {
	Status string `json:"status"` // ok | unavailable
}
