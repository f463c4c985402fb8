package sbc

import (
	"errors"
	"fmt"

	"github.com/trunkline/trunkline/config"
	"github.com/trunkline/trunkline/media/sdp"
	"github.com/trunkline/trunkline/media/srtp"
)

// SRTP with SDES keys (RFC 4568), per leg (DESIGN §4.7): the appliance ends
// SRTP on each leg that uses it, so one leg may be SRTP and the other plain
// RTP, and keys never cross from one leg to the other. A trunk's srtp
// setting decides its legs: REQUIRED (also what tls: true implies) offers
// RTP/SAVP with our keys and refuses plain offers and answers (488);
// OPTIONAL accepts SRTP offers and plain ones, and offers plain RTP;
// DISABLED (the default) refuses SRTP offers.

// srtpSuites are the suites the appliance offers and accepts, strongest
// first.
var srtpSuites = srtp.AllSuites

// Errors of SDES negotiation; carrySDP's callers answer them with 488.
var (
	errSRTPRequired = errors.New("srtp: the trunk requires SRTP (RTP/SAVP with a=crypto)")
	errSRTPDisabled = errors.New("srtp: SRTP offered on a trunk with srtp DISABLED")
	errSRTPAnswer   = errors.New("srtp: the answer does not match the SRTP offer")
)

// srtpSide is the SDES state of one leg.
type srtpSide struct {
	offered []srtp.Crypto // our a=crypto lines in the last offer sent to the leg
	answer  []srtp.Crypto // our a=crypto line answering the leg's last offer
	local   string        // the keys in force: ours (what we send it) …
	remote  string        // … and its own (what it sends us); "" for plain RTP
}

// legKeys are a leg's keys as a negotiation settled them: both empty for
// plain RTP.
type legKeys struct {
	local, remote srtp.Crypto
	plain         bool
}

// srtpPolicy is the srtp setting of the trunk of a leg.
func (c *call) srtpPolicy(sd side) string {
	t := c.trunk
	if sd == sideB {
		t = nil
		if c.b != nil {
			t = c.b.trunk
		} else if n := len(c.attempts); n > 0 {
			t = c.attempts[n-1].trunk
		}
	}
	switch {
	case t == nil:
		return config.SRTPDisabled
	case t.TLS:
		return config.SRTPRequired
	case t.SRTP == "":
		return config.SRTPDisabled
	}
	return t.SRTP
}

// negotiateKeys settles the keys of leg from, whose description (peer) is
// an offer or the answer to ours, and returns our a=crypto lines for the
// description going to the other leg: an offer's when peer is an offer, our
// answer to that leg's offer when peer answers.
func (c *call) negotiateKeys(from side, peer sdp.Media, offer bool) (keys *legKeys, ours []srtp.Crypto, err error) {
	to := from.other()
	ks := &c.sdes[from]
	if offer {
		switch policy := c.srtpPolicy(from); {
		case peer.SRTP() && policy == config.SRTPDisabled:
			return nil, nil, errSRTPDisabled
		case peer.SRTP():
			remote, local, err := srtp.Negotiate(peer.Crypto, srtpSuites, nil)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %w", sdp.ErrMalformed, err)
			}
			if remote.String() == ks.remote && len(ks.answer) == 1 {
				local = ks.answer[0] // the same offer again: the same answer
			}
			ks.answer = []srtp.Crypto{local}
			keys = &legKeys{local: local, remote: remote}
		case policy == config.SRTPRequired:
			return nil, nil, errSRTPRequired
		default:
			ks.answer = nil
			keys = &legKeys{plain: true}
		}
		// Toward the other leg, an offer: SRTP when its trunk requires it.
		kt := &c.sdes[to]
		kt.offered = nil
		if c.srtpPolicy(to) == config.SRTPRequired {
			if kt.offered, err = srtp.Offer(srtpSuites); err != nil {
				return nil, nil, err
			}
		}
		return keys, kt.offered, nil
	}

	// An answer to our offer to from.
	switch {
	case len(ks.offered) > 0:
		local, remote, ok := matchAnswer(ks.offered, peer)
		if !ok {
			return nil, nil, errSRTPAnswer
		}
		keys = &legKeys{local: local, remote: remote}
	case peer.SRTP():
		return nil, nil, errSRTPAnswer // SRTP in answer to a plain offer
	default:
		keys = &legKeys{plain: true}
	}
	return keys, c.sdes[to].answer, nil
}

// matchAnswer finds, in an answer's a=crypto lines, the one accepting one
// of our offered lines (same tag and suite): the keys of both directions.
func matchAnswer(offered []srtp.Crypto, peer sdp.Media) (local, remote srtp.Crypto, ok bool) {
	if !peer.SRTP() {
		return srtp.Crypto{}, srtp.Crypto{}, false
	}
	for _, v := range peer.Crypto {
		r, err := srtp.ParseCrypto(v)
		if err != nil || srtp.Usable(r) != nil {
			continue
		}
		for _, o := range offered {
			if o.Tag == r.Tag && o.Suite == r.Suite {
				return o, r, true
			}
		}
	}
	return srtp.Crypto{}, srtp.Crypto{}, false
}

// applyKeys gives the relay's leg for sd the keys a negotiation settled
// (nil: it settled nothing), unless they are those in force already — a
// session refresh keeps the replay windows and rollover counters.
func (c *call) applyKeys(sd side, keys *legKeys) {
	if keys == nil {
		return
	}
	ks := &c.sdes[sd]
	local, remote := "", ""
	if !keys.plain {
		local, remote = keys.local.String(), keys.remote.String()
	}
	if local == ks.local && remote == ks.remote {
		return
	}
	leg := c.relay.Leg(mediaSide(sd))
	if keys.plain {
		leg.SetSRTP(nil)
	} else {
		sess, err := srtp.NewSession(keys.local, keys.remote)
		if err != nil {
			c.log.Warn("SRTP keys not usable", "side", sd.String(), "error", err.Error())
			return
		}
		leg.SetSRTP(sess)
		c.log.Debug("SRTP keys set", "side", sd.String(), "suite", keys.local.Suite.String())
	}
	ks.local, ks.remote = local, remote
}

// resetMediaB forgets what was negotiated with the previous attempt's
// callee: the next attempt's trunk may want other keys, or none.
func (c *call) resetMediaB() {
	c.desc[sideB].lastIn, c.desc[sideB].lastOut = nil, nil
	c.sdes[sideB] = srtpSide{}
	if c.relay != nil {
		c.relay.Leg(mediaSide(sideB)).SetSRTP(nil)
	}
}
