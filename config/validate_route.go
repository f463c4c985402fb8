package config

import (
	"slices"
	"strings"
)

// Recording types.
const RecordingAudio = "AUDIO"

func (v *validator) routes() {
	seen := map[string]fieldPath{}
	for i := range v.c.Routes {
		v.route(fieldPath("routes").index(i), &v.c.Routes[i], seen)
	}
}

func (v *validator) route(p fieldPath, r *Route, seen map[string]fieldPath) {
	v.id(p.key("id"), r.ID, seen)
	v.enum(p.key("status"), r.Status, Enabled, Disabled)
	for i := range r.Criteria {
		v.criterion(p.key("criteria").index(i), &r.Criteria[i])
	}
	for i, code := range r.AdvanceOn {
		if code < 300 || code > 699 {
			v.add(p.key("advanceOn").index(i), "%d is outside 300..699", code)
		}
	}
	v.ref(p.key("scriptId"), r.ScriptID, v.scriptIDs, "scripts")
	v.destinations(p.key("destinations"), r.Destinations)
}

func (v *validator) criterion(p fieldPath, c *Criterion) {
	val := c.Value
	if c.To == "" && (val == nil || val.matchesAll()) {
		v.add(p, "matches every call; set to or a value field (a route reached only through a number's routeId needs no criteria)")
	}
	if c.To != "" {
		v.regex(p.key("to"), c.To)
	}
	if val == nil {
		return
	}
	p = p.key("value")
	if v.requiredEnum(p.key("type"), val.Type, CriterionPhone, CriterionSIP) && val.Type == CriterionPhone {
		v.unused(p.key("sipTrunkId"), val.SIPTrunkID != "", "a PHONE criterion (it is for SIP)")
		v.unused(p.key("username"), val.Username != "", "a PHONE criterion (it is for SIP)")
		v.unused(p.key("headers"), len(val.Headers) > 0, "a PHONE criterion (they are for SIP)")
	}
	if val.From != "" {
		v.regex(p.key("from"), val.From)
	}
	if val.SIPTrunkID != "" {
		v.trunkRef(p.key("sipTrunkId"), val.SIPTrunkID, false)
	}
	if val.Username != "" {
		v.regex(p.key("username"), val.Username)
	}
	for i, h := range val.Headers {
		hp := p.key("headers").index(i)
		if !validToken(h.HeaderName) {
			v.add(hp.key("headerName"), "%q is not a header name", h.HeaderName)
		}
		v.regex(hp.key("headerValue"), h.HeaderValue)
	}
}

// matchesAll reports whether the value constrains nothing.
func (c *CriterionValue) matchesAll() bool {
	return c.From == "" && c.SIPTrunkID == "" && c.Username == "" && len(c.Headers) == 0
}

func (v *validator) destinations(p fieldPath, ds []Destination) {
	switch {
	case len(ds) == 0:
		v.add(p, "required: a route needs 1..%d destinations", MaxDestinations)
	case len(ds) > MaxDestinations:
		v.add(p, "%d destinations, at most %d", len(ds), MaxDestinations)
	}
	withPriority := slices.IndexFunc(ds, func(d Destination) bool { return d.Priority != nil })
	for i := range ds {
		v.destination(p.index(i), &ds[i])
		if ds[i].Priority == nil && withPriority >= 0 {
			v.add(p.index(i).key("priority"), "missing: destinations[%d] sets a priority, so every destination of the route needs one (or none does)", withPriority)
		}
	}
}

func (v *validator) destination(p fieldPath, d *Destination) {
	v.requiredEnum(p.key("type"), d.Type, DestinationEndpoint, DestinationURL, DestinationApplication)
	if d.Priority != nil && (*d.Priority < 1 || *d.Priority > 100) {
		v.add(p.key("priority"), "%d is outside 1..100", *d.Priority)
	}
	if d.Weight != nil && *d.Weight < 1 {
		v.add(p.key("weight"), "%d is below 1", *d.Weight)
	}
	if d.ConnectTimeout != nil && *d.ConnectTimeout < 1 {
		v.add(p.key("connectTimeout"), "%d is below 1 (seconds)", *d.ConnectTimeout)
	}
	switch d.Type {
	case DestinationEndpoint:
		v.endpoint(p, d)
	case DestinationURL:
		v.urlDestination(p, d)
	case DestinationApplication:
		v.application(p, d)
	}
	if d.SecurityConfig != nil {
		v.securityConfig(p.key("securityConfig"), d.SecurityConfig)
	}
	if d.Recording != nil {
		v.requiredEnum(p.key("recording").key("recordingType"), d.Recording.RecordingType, RecordingAudio)
	}
	v.timeWindows(p.key("allowedTimeWindows"), d.AllowedTimeWindows)
}

func (v *validator) endpoint(p fieldPath, d *Destination) {
	v.unused(p.key("url"), d.URL != "", "an ENDPOINT destination")
	val := d.Value
	p = p.key("value")
	if val == nil {
		v.add(p, "required for an ENDPOINT destination: {type: SIP, sipTrunkId: …} or {type: PHONE, phoneNumber: …, viaSipTrunkIds: […]}")
		return
	}
	if v.requiredEnum(p.key("type"), val.Type, EndpointSIP, EndpointPhone) {
		switch val.Type {
		case EndpointSIP:
			v.trunkRef(p.key("sipTrunkId"), val.SIPTrunkID, true)
			v.unused(p.key("phoneNumber"), val.PhoneNumber != "", "a SIP endpoint")
			v.unused(p.key("viaSipTrunkIds"), len(val.ViaSIPTrunkIDs) > 0, "a SIP endpoint")
		case EndpointPhone:
			v.unused(p.key("sipTrunkId"), val.SIPTrunkID != "", "a PHONE endpoint (it goes via viaSipTrunkIds)")
			v.phoneNumber(p.key("phoneNumber"), val.PhoneNumber)
			v.viaTrunks(p.key("viaSipTrunkIds"), val.ViaSIPTrunkIDs)
		}
		v.unused(p.key("applicationId"), val.ApplicationID != "", "an ENDPOINT destination")
	}
	v.customHeaders(p.key("customHeaders"), val.CustomHeaders)
	v.timeout(p.key("timeout"), val.Timeout)
}

func (v *validator) urlDestination(p fieldPath, d *Destination) {
	v.unused(p.key("value"), d.Value != nil, "a URL destination")
	if d.URL == "" {
		v.add(p.key("url"), "required for a URL destination: http:// or https://")
	} else if err := checkHTTPURL(d.URL); err != nil {
		v.add(p.key("url"), "%v", err)
	}
}

func (v *validator) application(p fieldPath, d *Destination) {
	val := d.Value
	vp := p.key("value")
	if val == nil {
		v.add(vp, "required for an APPLICATION destination: {type: CALLS_APPLICATION, applicationId: …}")
	} else {
		v.requiredEnum(vp.key("type"), val.Type, EndpointCallsApplication)
		by := "an APPLICATION destination"
		v.unused(vp.key("sipTrunkId"), val.SIPTrunkID != "", by)
		v.unused(vp.key("username"), val.Username != "", by)
		v.unused(vp.key("customHeaders"), len(val.CustomHeaders) > 0, by)
		v.unused(vp.key("phoneNumber"), val.PhoneNumber != "", by)
		v.unused(vp.key("viaSipTrunkIds"), len(val.ViaSIPTrunkIDs) > 0, by)
		if val.ApplicationID == "" {
			v.add(vp.key("applicationId"), "required: a callsConfigurations id")
		}
		v.ref(vp.key("applicationId"), val.ApplicationID, v.appIDs, "callsConfigurations")
		v.timeout(vp.key("timeout"), val.Timeout)
	}
	v.unused(p.key("url"), d.URL != "", "an APPLICATION destination")
}

func (v *validator) timeout(p fieldPath, seconds int) {
	if seconds < 0 {
		v.add(p, "%d is negative (seconds)", seconds)
	}
}

// customHeaders checks header names and values a destination adds; the keys
// are visited in sorted order so that the report is stable.
func (v *validator) customHeaders(p fieldPath, h map[string]string) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		switch {
		case !validToken(name):
			v.add(p.key(name), "%q is not a header name", name)
		case strings.ContainsAny(h[name], "\r\n\x00"):
			v.add(p.key(name), "the value contains CR, LF or NUL")
		}
	}
}
