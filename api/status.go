package api

import (
	"fmt"
	"net/http"

	"github.com/trunkline/trunkline/config"
)

// trunkStatusRequest is the body of POST /calls/1/sip-trunks/{id}/status.
type trunkStatusRequest struct {
	AdminStatus string `json:"adminStatus"` // ENABLED | DISABLED
}

// routeStatusRequest is the body of POST /callrouting/1/routes/{id}/status.
type routeStatusRequest struct {
	RouteStatus string `json:"routeStatus"` // ENABLED | DISABLED
}

// setTrunkStatus replaces the trunk with one of the given adminStatus and
// answers 200 with its status.
func (h *handler) setTrunkStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var req trunkStatusRequest
	if !decodeJSON(w, body, &req) || !checkStatus(w, "adminStatus", req.AdminStatus) {
		return
	}
	tr := findTrunk(h.resources(), id)
	if tr == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no SIP trunk %q", id))
		return
	}
	// A deep copy: the store's configuration is shared and immutable.
	changed := (&config.Config{SIPTrunks: []config.SIPTrunk{*tr}}).Clone().SIPTrunks[0]
	changed.AdminStatus = req.AdminStatus
	cfg, ok := h.apply(w, r, body, config.Change{Op: config.OpPut, Kind: config.KindSIPTrunk, ID: id, Replace: true, SIPTrunk: &changed})
	if !ok {
		return
	}
	if stored := findTrunk(cfg, id); stored != nil {
		tr = stored
	} else {
		tr = &changed
	}
	writeJSON(w, http.StatusOK, h.statusOf(tr))
}

// setRouteStatus replaces the route with one of the given status and
// answers 200 with the stored route.
func (h *handler) setRouteStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var req routeStatusRequest
	if !decodeJSON(w, body, &req) || !checkStatus(w, "routeStatus", req.RouteStatus) {
		return
	}
	rt := findRoute(h.resources(), id)
	if rt == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %q", id))
		return
	}
	changed := (&config.Config{Routes: []config.Route{*rt}}).Clone().Routes[0]
	changed.Status = req.RouteStatus
	cfg, ok := h.apply(w, r, body, config.Change{Op: config.OpPut, Kind: config.KindRoute, ID: id, Replace: true, Route: &changed})
	if !ok {
		return
	}
	if stored := findRoute(cfg, id); stored != nil {
		writeJSON(w, http.StatusOK, stored)
		return
	}
	writeJSON(w, http.StatusOK, &changed)
}

// checkStatus answers 400 unless status is ENABLED or DISABLED.
func checkStatus(w http.ResponseWriter, field, status string) bool {
	switch status {
	case config.Enabled, config.Disabled:
		return true
	case "":
		writeError(w, http.StatusBadRequest, field+": required (ENABLED or DISABLED)")
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not ENABLED or DISABLED", field, status))
	}
	return false
}

// findRoute returns the route with the given id in cfg, or nil.
func findRoute(cfg *config.Config, id string) *config.Route {
	if cfg == nil {
		return nil
	}
	for i := range cfg.Routes {
		if cfg.Routes[i].ID == id {
			return &cfg.Routes[i]
		}
	}
	return nil
}
