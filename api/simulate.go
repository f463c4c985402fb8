package api

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/routing"
)

// simulateRequest is the body of POST /callrouting/1/routes/simulate:
// Infobip's {"to", "endpoint"} plus our "at", "downSipTrunkIds" and "seed".
type simulateRequest struct {
	To       string           `json:"to"`
	Endpoint simulateEndpoint `json:"endpoint"`
	// At is the instant of the call, RFC 3339; absent: now.
	At string `json:"at,omitempty"`
	// DownSIPTrunkIDs are trunks to treat as out of service.
	DownSIPTrunkIDs []string `json:"downSipTrunkIds,omitempty"`
	// Seed fixes the weighted order; absent: a fresh random order.
	Seed *uint64 `json:"seed,omitempty"`
}

// simulateEndpoint is where the simulated call comes from.
type simulateEndpoint struct {
	Type       string `json:"type"` // PHONE | SIP
	From       string `json:"from"`
	SIPTrunkID string `json:"sipTrunkId,omitempty"` // the trunk it comes in on; its numberFormat applies
	// Username is the R-URI user as received; absent: "to".
	Username string               `json:"username,omitempty"`
	Headers  []config.HeaderMatch `json:"headers,omitempty"`
}

// simulate answers with the decision `trunkline route simulate --json`
// prints for the same call, over the resources this node holds.
func (h *handler) simulate(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, resourceLimit, jsonMedia)
	if !ok {
		return
	}
	var req simulateRequest
	if !decodeJSON(w, body, &req) {
		return
	}
	ep := req.Endpoint
	switch {
	case req.To == "":
		writeError(w, http.StatusBadRequest, "to: required")
		return
	case ep.Type != config.CriterionPhone && ep.Type != config.CriterionSIP:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("endpoint.type: %q is not PHONE or SIP", ep.Type))
		return
	case ep.From == "":
		writeError(w, http.StatusBadRequest, "endpoint.from: required")
		return
	}
	when := time.Now()
	if req.At != "" {
		t, err := time.Parse(time.RFC3339, req.At)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("at: %q is not an RFC 3339 time such as 2026-11-23T10:00:00Z", req.At))
			return
		}
		when = t
	}
	table, err := routing.Compile(h.resources())
	if err != nil {
		h.log.Error("cannot compile the routing table", "error", err.Error())
		writeError(w, http.StatusInternalServerError, "cannot compile the routing table: "+err.Error())
		return
	}

	call := &routing.Request{
		From:     strings.TrimPrefix(ep.From, "+"),
		To:       strings.TrimPrefix(req.To, "+"),
		Username: ep.Username,
	}
	for _, hd := range ep.Headers {
		call.Headers = append(call.Headers, routing.Header{Name: hd.HeaderName, Value: hd.HeaderValue})
	}
	if ep.SIPTrunkID != "" {
		trunk := table.Trunk(ep.SIPTrunkID)
		if trunk == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("endpoint.sipTrunkId: no SIP trunk %q", ep.SIPTrunkID))
			return
		}
		call.SIPTrunkID = trunk.ID
		call.From = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, ep.From)
		call.To = routing.Normalize(trunk.NumberFormat, trunk.CountryCode, req.To)
	}
	if call.Username == "" {
		call.Username = strings.TrimPrefix(req.To, "+") // as received
	}
	down := downTrunks{}
	for i, id := range req.DownSIPTrunkIDs {
		if table.Trunk(id) == nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("downSipTrunkIds[%d]: no SIP trunk %q", i, id))
			return
		}
		down[id] = true
	}
	var rnd *rand.Rand
	if req.Seed != nil {
		rnd = rand.New(rand.NewPCG(*req.Seed, *req.Seed))
	} else {
		rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}

	d := table.Decide(call, when, down, rnd)
	if d.Attempts == nil {
		d.Attempts = []routing.Attempt{}
	}
	if d.Skipped == nil {
		d.Skipped = []routing.Skip{}
	}
	writeJSON(w, http.StatusOK, d)
}

// downTrunks is the set of trunks a simulation treats as out of service.
type downTrunks map[string]bool

func (d downTrunks) TrunkDown(id string) bool { return d[id] }

var _ routing.Health = downTrunks(nil)
