package config

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Validate checks c as decoded, before defaults are applied: every rule of
// DESIGN §3 on values, every reference between resources, and the node
// settings. It returns nil or an *Error listing every problem found, in the
// order of the fields of the types (Parse re-sorts them into document order).
// file names the source in the error; it may be empty.
func (c *Config) Validate(file string) error {
	if ps := c.check(); len(ps) > 0 {
		return &Error{File: file, Problems: ps}
	}
	return nil
}

func (c *Config) check() []Problem {
	if c == nil {
		return []Problem{{Reason: "no configuration"}}
	}
	v := newValidator(c)
	v.nodeSettings()
	v.sipTrunks()
	v.numbers()
	v.routes()
	v.callsConfigurations()
	v.scripts()
	return v.problems
}

// validator walks one Config and reports what is wrong with it. The id sets
// are built first so that references resolve whatever the order of the lists.
type validator struct {
	report
	c         *Config
	trunkByID map[string]*SIPTrunk // the first trunk of each id
	routeIDs  map[string]bool
	appIDs    map[string]bool
	scriptIDs map[string]bool
}

func newValidator(c *Config) *validator {
	v := &validator{
		c:         c,
		trunkByID: make(map[string]*SIPTrunk, len(c.SIPTrunks)),
		routeIDs:  make(map[string]bool, len(c.Routes)),
		appIDs:    make(map[string]bool, len(c.CallsConfigurations)),
		scriptIDs: make(map[string]bool, len(c.Scripts)),
	}
	for i := range c.SIPTrunks {
		if _, dup := v.trunkByID[c.SIPTrunks[i].ID]; !dup {
			v.trunkByID[c.SIPTrunks[i].ID] = &c.SIPTrunks[i]
		}
	}
	for _, r := range c.Routes {
		v.routeIDs[r.ID] = true
	}
	for _, a := range c.CallsConfigurations {
		v.appIDs[a.ID] = true
	}
	for _, s := range c.Scripts {
		v.scriptIDs[s.ID] = true
	}
	return v
}

// id checks a resource id: set, usable in a URL path, and unique among the
// ids already seen of its kind.
func (v *validator) id(p fieldPath, id string, seen map[string]fieldPath) {
	switch {
	case id == "":
		v.add(p, "required")
	case strings.IndexFunc(id, badIDRune) >= 0:
		v.add(p, "%q: an id may not contain '/', spaces or control characters", id)
	case seen[id] != "":
		v.add(p, "duplicate id %q (also %s)", id, seen[id])
	default:
		seen[id] = p
	}
}

func badIDRune(r rune) bool {
	return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r)
}

// enum checks an optional value against its allowed spellings.
func (v *validator) enum(p fieldPath, s string, allowed ...string) {
	if s != "" && !slices.Contains(allowed, s) {
		v.add(p, "%q is not one of %s", s, strings.Join(allowed, ", "))
	}
}

// requiredEnum checks a value that must be one of allowed.
func (v *validator) requiredEnum(p fieldPath, s string, allowed ...string) bool {
	switch {
	case s == "":
		v.add(p, "required: one of %s", strings.Join(allowed, ", "))
	case !slices.Contains(allowed, s):
		v.add(p, "%q is not one of %s", s, strings.Join(allowed, ", "))
	default:
		return true
	}
	return false
}

// unused refuses a field set where its kind of resource has no use for it.
func (v *validator) unused(p fieldPath, set bool, by string) {
	if set {
		v.add(p, "not used by %s", by)
	}
}

// phoneNumber checks a required number held as E.164 digits without '+'.
func (v *validator) phoneNumber(p fieldPath, s string) bool {
	switch {
	case s == "":
		v.add(p, "required: 1..20 digits")
	case !isDigits(s):
		v.add(p, "%q is not a number: want 1..20 digits (E.164 without '+')", s)
	case len(s) > 20:
		v.add(p, "%q has %d digits, at most 20", s, len(s))
	default:
		return true
	}
	return false
}

// regex checks a pattern that routing compiles with regexp (anchored).
func (v *validator) regex(p fieldPath, s string) {
	if _, err := regexp.Compile(s); err != nil {
		v.add(p, "%q is not a Go regular expression: %v", s, err)
	}
}

// trunkRef checks a reference to a trunk; a destination trunk must have
// somewhere to send calls: destinationHosts, or the contacts a REGISTERED
// trunk registers.
func (v *validator) trunkRef(p fieldPath, id string, destination bool) {
	t, ok := v.trunkByID[id]
	switch {
	case id == "":
		v.add(p, "required: a sipTrunks id")
	case !ok:
		v.add(p, "no sipTrunks entry has id %q", id)
	case destination && len(t.DestinationHosts) == 0 && t.Type != TrunkRegistered:
		v.add(p, "sipTrunk %q has no destinationHosts: an inbound-only trunk cannot be a destination", id)
	}
}

// viaTrunks checks the trunks a PHONE destination or action is sent through.
func (v *validator) viaTrunks(p fieldPath, ids []string) {
	if len(ids) == 0 {
		v.add(p, "required: at least one sipTrunks id")
		return
	}
	for i, id := range ids {
		if j := slices.Index(ids[:i], id); j >= 0 {
			v.add(p.index(i), "%q is listed twice (also %s)", id, p.index(j))
			continue
		}
		v.trunkRef(p.index(i), id, true)
	}
}

// ref checks an optional reference to a resource of kind list.
func (v *validator) ref(p fieldPath, id string, ids map[string]bool, list string) {
	if id != "" && !ids[id] {
		v.add(p, "no %s entry has id %q", list, id)
	}
}
