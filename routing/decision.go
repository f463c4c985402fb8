package routing

import (
	"github.com/trunkline/trunkline/config"
)

// Request is what routing knows of one call. Numbers are normalised E.164
// digits without '+' (see Normalize).
type Request struct {
	From       string   // calling number
	To         string   // called number
	Username   string   // R-URI user as received
	SIPTrunkID string   // trunk the call came in on; "" when unknown
	Headers    []Header // SIP headers as received
	// Route, when it names an ENABLED route, is the route: a Lua script's
	// call:set_route overrides the number's action and the criteria. An
	// unknown or DISABLED id is ignored.
	Route string
}

// Header is one SIP header of the inbound request.
type Header struct {
	Name  string
	Value string
}

// Health tells whether a trunk is out of service (OPTIONS polling). The SBC
// implements it; a nil Health means every trunk is up.
type Health interface {
	TrunkDown(id string) bool
}

// Rand is the random source for weighted ordering. *math/rand/v2.Rand
// satisfies it; nil means the global source of math/rand/v2.
type Rand interface {
	IntN(n int) int
}

// Attempt types.
const (
	AttemptSIP         = "SIP"
	AttemptPhone       = "PHONE"
	AttemptURL         = "URL"
	AttemptApplication = "APPLICATION"
)

// Skip reasons.
const (
	SkipOutsideTimeWindow = "OUTSIDE_TIME_WINDOW"
	SkipTrunkDisabled     = "TRUNK_DISABLED"
	SkipTrunkDown         = "TRUNK_DOWN"
)

// Attempt is one entry of the ordered hunt plan.
type Attempt struct {
	Index          int    `json:"index"`              // the destination's position in the route
	Type           string `json:"type"`               // SIP | PHONE | URL | APPLICATION
	Priority       int    `json:"priority,omitempty"` // absent when the route sets none
	Weight         int    `json:"weight"`
	SIPTrunkID     string `json:"sipTrunkId,omitempty"`
	Username       string `json:"username,omitempty"`
	PhoneNumber    string `json:"phoneNumber,omitempty"`
	URL            string `json:"url,omitempty"`
	ApplicationID  string `json:"applicationId,omitempty"`
	ConnectTimeout int    `json:"connectTimeout"` // seconds

	// Destination is the configured destination this attempt comes from (nil for
	// FORWARD_TO_PHONE), for what the hunt needs beyond the plan: custom headers,
	// recording, the URL's security config.
	Destination *config.Destination `json:"-"`
}

// Skip is a destination, or one trunk of it, left out of the plan.
type Skip struct {
	Index      int    `json:"index"`
	SIPTrunkID string `json:"sipTrunkId,omitempty"`
	Reason     string `json:"reason"`
}

// Decision is what happens to one call: the number's action, the matched route
// and the ordered attempts. Its JSON is the `route simulate --json` contract.
type Decision struct {
	Action string  `json:"action"`
	Route  *string `json:"route"` // nil: no route
	// CallsConfigurationID is the application of FORWARD_TO_SUBSCRIPTION.
	CallsConfigurationID string    `json:"callsConfigurationId,omitempty"`
	Attempts             []Attempt `json:"attempts"`
	Skipped              []Skip    `json:"skipped"`
}
