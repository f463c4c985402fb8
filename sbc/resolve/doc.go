// Package resolve locates the SIP server of a trunk destination as RFC 3263
// §4 says: an IP literal or an explicit port is used as it is (with A/AAAA
// look-ups for a name); otherwise NAPTR records choose the transports and
// the SRV names (SIP+D2U, SIP+D2T, SIPS+D2T), SRV records give the hosts
// and ports in priority order and, within a priority, in RFC 2782 weighted
// random order, and A then AAAA records give the addresses. A name with no
// SRV records is reached at its A/AAAA addresses on the transport's default
// port (5060, 5061 for TLS).
//
// A Resolver asks the configured DNS servers itself, with
// github.com/miekg/dns: UDP first, TCP when the answer is truncated, the
// next server when one fails or times out. It caches every answer for the
// smallest TTL of its records, and a negative answer (NXDOMAIN, no data) for
// the zone's negative TTL, at most 30 s. The cache is bounded and safe for
// concurrent use; the clock and the random source are injectable for tests.
//
// Errors say why no address was found: ErrNotFound (the name or its records
// do not exist), ErrUnavailable (an SRV target of "." declares the service
// absent) and ErrNoAnswer (no server gave a usable answer), each wrapped in
// an *Error naming the question. Any of them is a DNS failure to the
// caller's hunt, which advances to its next destination.
//
// OrderSRV is the pure ordering of SRV records, usable without a Resolver.
//
// The package imports the standard library and miekg/dns only: it knows
// nothing of SIP messages, the configuration or the rest of sbc, which
// hands it the servers of dns.servers and the destination's host, port and
// transport.
package resolve
