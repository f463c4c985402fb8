package config

import (
	"slices"
	"time"
)

// Trunk option spellings (DESIGN §3).
const (
	StrategyFailover   = "FAILOVER"
	StrategyRoundRobin = "ROUND_ROBIN"

	TransportUDP = "UDP"
	TransportTCP = "TCP"
	TransportTLS = "TLS"

	SRTPDisabled = "DISABLED"
	SRTPOptional = "OPTIONAL"
	SRTPRequired = "REQUIRED"

	DTMFRFC2833 = "RFC2833"
	DTMFInband  = "INBAND"
	DTMFInfo    = "INFO"
)

// Codecs a trunk may list.
const (
	CodecPCMU = "PCMU"
	CodecPCMA = "PCMA"
	CodecG722 = "G722"
	CodecG729 = "G729"
	CodecOpus = "OPUS"
)

func (v *validator) sipTrunks() {
	seen := map[string]fieldPath{}
	users := map[string]fieldPath{} // inboundAuth usernames: one picks one trunk
	for i := range v.c.SIPTrunks {
		p, t := fieldPath("sipTrunks").index(i), &v.c.SIPTrunks[i]
		v.sipTrunk(p, t, seen)
		if t.InboundAuth == nil || t.InboundAuth.Username == "" {
			continue
		}
		up := p.key("inboundAuth").key("username")
		if first, dup := users[t.InboundAuth.Username]; dup {
			v.add(up, "duplicate username %q (also %s): a username identifies one trunk", t.InboundAuth.Username, first)
			continue
		}
		users[t.InboundAuth.Username] = up
	}
}

func (v *validator) sipTrunk(p fieldPath, t *SIPTrunk, seen map[string]fieldPath) {
	v.id(p.key("id"), t.ID, seen)
	v.enum(p.key("type"), t.Type, TrunkStatic, TrunkRegistered, TrunkAuthenticated)
	v.enum(p.key("adminStatus"), t.AdminStatus, Enabled, Disabled)
	v.trunkHosts(p, t)
	v.enum(p.key("strategy"), t.Strategy, StrategyFailover, StrategyRoundRobin)
	v.enum(p.key("transport"), t.Transport, TransportUDP, TransportTCP, TransportTLS)
	if t.TLS && t.Transport != "" && t.Transport != TransportTLS {
		v.add(p.key("transport"), "%q contradicts tls: true (want TLS, or leave transport unset)", t.Transport)
	}
	v.enum(p.key("srtp"), t.SRTP, SRTPDisabled, SRTPOptional, SRTPRequired)
	v.codecs(p.key("codecs"), t.Codecs)
	v.enum(p.key("dtmf"), t.DTMF, DTMFRFC2833, DTMFInband, DTMFInfo)
	v.sipOptions(p.key("sipOptions"), t)
	if t.ChannelLimit < 0 {
		v.add(p.key("channelLimit"), "%d is negative; want 0 (no limit) or more", t.ChannelLimit)
	}
	if t.CPSLimit < 0 {
		v.add(p.key("cpsLimit"), "%d is negative; want 0 (no limit) or more", t.CPSLimit)
	}
	v.numberFormat(p, t)
	if (t.Type == TrunkRegistered || t.Type == TrunkAuthenticated) && t.InboundAuth == nil {
		v.add(p.key("inboundAuth"), "required for a %s trunk: {username: …, password: …}", t.Type)
	}
	v.credentials(p.key("inboundAuth"), t.InboundAuth)
	v.credentials(p.key("outboundAuth"), t.OutboundAuth)
}

func (v *validator) trunkHosts(p fieldPath, t *SIPTrunk) {
	for i, h := range t.SourceHosts {
		if err := checkSourceHost(h); err != nil {
			v.add(p.key("sourceHosts").index(i), "%v", err)
		}
	}
	for i, h := range t.DestinationHosts {
		if err := checkDestinationHost(h); err != nil {
			v.add(p.key("destinationHosts").index(i), "%v", err)
		}
	}
}

func (v *validator) codecs(p fieldPath, codecs []string) {
	for i, c := range codecs {
		if j := slices.Index(codecs[:i], c); j >= 0 {
			v.add(p.index(i), "%s is listed twice (also %s)", c, p.index(j))
			continue
		}
		v.enum(p.index(i), c, CodecPCMU, CodecPCMA, CodecG722, CodecG729, CodecOpus)
	}
}

func (v *validator) sipOptions(p fieldPath, t *SIPTrunk) {
	o := t.SIPOptions
	if o == nil {
		return
	}
	if o.Enabled && len(t.DestinationHosts) == 0 {
		v.add(p.key("enabled"), "nothing to poll: the trunk has no destinationHosts")
	}
	if o.Interval != 0 && o.Interval.D() < time.Second {
		v.add(p.key("interval"), "%s is below 1s", o.Interval)
	}
	if o.DownAfter < 0 {
		v.add(p.key("downAfter"), "%d is below 1", o.DownAfter)
	}
	if o.UpAfter < 0 {
		v.add(p.key("upAfter"), "%d is below 1", o.UpAfter)
	}
}

func (v *validator) numberFormat(p fieldPath, t *SIPTrunk) {
	v.enum(p.key("numberFormat"), t.NumberFormat, FormatE164, FormatInternational, FormatUSNational, FormatUnchanged)
	cc := t.CountryCode
	if cc == "" {
		return
	}
	switch {
	case !isDigits(cc) || len(cc) > 3:
		v.add(p.key("countryCode"), "%q is not a country code: want 1..3 digits", cc)
	case t.NumberFormat == FormatUSNational && cc != "1":
		v.add(p.key("countryCode"), "%q contradicts numberFormat US_NATIONAL (country code 1)", cc)
	}
}

func (v *validator) credentials(p fieldPath, c *Credentials) {
	if c == nil {
		return
	}
	if c.Username == "" {
		v.add(p.key("username"), "required")
	}
	if c.Password == "" {
		v.add(p.key("password"), "required")
	}
}
