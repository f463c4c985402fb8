package srtp

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Negotiate answers an SDES offer (RFC 4568 §5.1.2): offered holds the
// peer's a=crypto values in its order of preference, supported the suites
// we accept. It picks the first offered line that parses, whose suite is
// supported, and whose session parameters we can honour (see Usable), and
// returns it as remote together with our answer: the same tag and suite, a
// fresh key read from rand (crypto/rand when nil), and the parameters that
// bind both directions (UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP) echoed.
//
// remote keys the Decrypter for what the peer sends, local the Encrypter
// for what we send it. With no acceptable line the error wraps
// ErrNoCommonSuite and says why each line was passed over.
func Negotiate(offered []string, supported []Suite, rand io.Reader) (remote, local Crypto, err error) {
	var why []string
	for _, v := range offered {
		c, err := ParseCrypto(v)
		if err == nil && !slices.Contains(supported, c.Suite) {
			err = fmt.Errorf("%w: %s not enabled", ErrUnsupported, c.Suite)
		}
		if err == nil {
			err = Usable(c)
		}
		if err != nil {
			why = append(why, err.Error())
			continue
		}
		k, err := newKey(c.Suite, rand)
		if err != nil {
			return Crypto{}, Crypto{}, err
		}
		local = Crypto{Tag: c.Tag, Suite: c.Suite, Keys: []Key{k}}
		for _, p := range c.Params {
			if p == "UNENCRYPTED_SRTP" || p == "UNENCRYPTED_SRTCP" {
				local.Params = append(local.Params, p)
			}
		}
		return c, local, nil
	}
	if len(why) == 0 {
		return Crypto{}, Crypto{}, fmt.Errorf("%w: no a=crypto offered", ErrNoCommonSuite)
	}
	return Crypto{}, Crypto{}, fmt.Errorf("%w: %s", ErrNoCommonSuite, strings.Join(why, "; "))
}

// Usable reports, as an error wrapping ErrUnsupported, why pion/srtp could
// not run the line c describes: a key derivation rate (pion derives session
// keys once), FEC, UNAUTHENTICATED_SRTP, or a session parameter this
// package does not know (RFC 4568 §6.3 has the answerer refuse those).
// UNENCRYPTED_SRTP, UNENCRYPTED_SRTCP and WSH are honoured.
func Usable(c Crypto) error {
	if !c.Suite.Valid() {
		return fmt.Errorf("%w: %v", ErrUnknownSuite, c.Suite)
	}
	if len(c.Keys) == 0 {
		return fmt.Errorf("%w: no key", ErrMalformed)
	}
	for _, k := range c.Keys {
		if len(k.Key) != c.Suite.KeyLen() || len(k.Salt) != c.Suite.SaltLen() {
			return fmt.Errorf("%w: key or salt length does not fit %s", ErrMalformed, c.Suite)
		}
	}
	if err := checkMKIs(c.Keys); err != nil {
		return err
	}
	for _, p := range c.Params {
		if err := checkParam(p); err != nil {
			return err
		}
		switch name, _, _ := strings.Cut(p, "="); name {
		case "UNENCRYPTED_SRTP", "UNENCRYPTED_SRTCP", "WSH":
		case "KDR":
			return fmt.Errorf("%w: %s: pion/srtp derives session keys only once", ErrUnsupported, p)
		default:
			return fmt.Errorf("%w: session parameter %s", ErrUnsupported, p)
		}
	}
	return nil
}
