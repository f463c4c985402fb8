// Package digest is SIP Digest authentication (RFC 3261 §22 over RFC 7616,
// with the SHA-256 of RFC 8760), as pure logic over header values: it
// parses and formats WWW-Authenticate / Proxy-Authenticate challenges and
// Authorization / Proxy-Authorization credentials, verifies credentials as
// a server (Verifier), and answers challenges as a client (Client). It
// does not import sipgo: the caller hands it header values as strings and
// puts the strings it returns in headers.
//
// The server side (DESIGN §4.1, trunks identified by digest credentials):
//
//   - Verifier.Challenge offers SHA-256 then MD5 (RFC 8760 §2.4), one header
//     value each, with qop="auth" and one nonce. The nonce carries its time
//     of issue and an HMAC under a secret drawn when the Verifier is built,
//     so nothing is stored per challenge and a nonce is good only for the
//     realm it was issued for.
//   - Verifier.Verify checks the scheme and syntax, the algorithm (one we
//     offered), the qop (auth, or none for RFC 2069 clients unless
//     RequireQOP), the uri against the Request-URI, the nonce's HMAC (and
//     so the realm), then the response in constant time with the password
//     Lookup gives, computed for unknown users too. Only then does the
//     nonce's age count: right response and expired nonce is Stale, to be
//     challenged again with stale=true. Last, replay: with qop each nc is
//     taken once per nonce (a late one up to 64 below the highest seen,
//     since requests may arrive out of order); without qop a nonce is
//     taken once. The replay table holds only nonces answered correctly,
//     forgets them when they expire and, when full (Options.MaxNonces),
//     forgets the oldest and makes every nonce issued before it Stale.
//   - Every failure is Fail, whatever its reason, so that the caller answers
//     them alike (DESIGN §7: unknown sources learn nothing); the error
//     returned beside it wraps one of the Err values for the log.
//
// The client side: Choose picks the strongest of several challenge values
// and Client.Answer computes the credentials (MD5, SHA-256, SHA-512-256 and
// their -sess variants; qop auth, auth-int, or none), with a random cnonce
// and nc counted per nonce.
//
// It imports the standard library only, holds no package-level mutable
// state, and never touches the network; its clock is injectable.
package digest
