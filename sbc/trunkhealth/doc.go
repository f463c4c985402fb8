// Package trunkhealth keeps the SIP OPTIONS polling state of the trunks
// (DESIGN §3 sipOptions, §4.4): which trunks, and which addresses of a
// trunk, are out of service.
//
// It owns the schedule, the thresholds and the state; it sends no packet.
// The caller supplies a Prober (the SIP OPTIONS sender, in package sbc) and
// optionally a ResolveFunc (RFC 3263 resolution of the destination hosts,
// called at the start of every round so address changes are followed). It
// imports config and routing (for the routing.Health guard) and the
// standard library; never sipgo.
//
// Rules, per trunk whose sipOptions are enabled:
//
//   - Every interval (default 60s; the first round at once) every address is
//     probed, all concurrently, each waiting at most min(ProbeTimeout,
//     interval), ProbeTimeout defaulting to 5s.
//   - A response below 500 counts as alive; a timeout, a transport error, or
//     a 5xx or 6xx response counts as a failure.
//   - downAfter (default 2) consecutive failures mark an address down;
//     upAfter (default 1) consecutive successes mark it up again.
//   - Addresses start UP: a new trunk, or a newly resolved address, is in
//     service until probes say otherwise, so a (re)start never refuses calls
//     before anything is known, and a dead address takes downAfter rounds to
//     be detected.
//   - A trunk is down when it has addresses and all of them are down. A
//     trunk not polled, or with no address known, is never down.
//   - When resolution fails, the addresses of the previous round are probed.
//
// A Monitor's lifecycle is New (no I/O) → Update → Start(ctx) → Stop().
// Update applies a reloaded configuration at any time. Each polled trunk has
// one goroutine, owned by the Monitor and ended by Stop, by its removal in
// Update, or by the context given to Start; each round's probe goroutines
// are waited for before the round ends. Poll runs one round synchronously,
// for tests and tools.
//
// TrunkDown (routing.Health) and AddressDown are called on every call: they
// read an immutable snapshot through atomic pointers and never lock. Status
// returns the whole state for the API. Every transition of either query is
// reported once to Options.OnChange, which the caller logs and counts.
package trunkhealth
