// Package sbc is the SIP side of Trunkline: the B2BUA and session border
// controller of DESIGN §4, over sipgo. It is the only package that imports
// github.com/emiago/sipgo; the rest of the appliance sees plain Go types.
//
// A Server owns the SIP listeners (sockets it opens itself, so that bind
// errors are synchronous and port 0 works), the classification of every
// request, the answer of each method, drain, and the SIP metrics in its own
// metrics.Set. Its lifecycle is New (no I/O), Start(ctx), Shutdown(ctx);
// SetConfig swaps the configuration whole, after building everything derived
// from it.
//
// What the SIP side answers today:
//
//   - A request whose source no trunk owns gets 403 with no detail, or
//     nothing at all with sip.dropUnknown (then dropped before parsing, and
//     TCP connections closed on accept); both are counted in
//     trunkline_sip_unknown_source_total. Sources identify STATIC trunks;
//     REGISTERED and AUTHENTICATED trunks identify by digest credentials,
//     which come with the call path, so their peers are unknown for now.
//   - A request from a known trunk that RFC 3261 refuses gets the answer of
//     sipmsg.ValidateRequest (400, 416, 483, 505).
//   - OPTIONS: 200 with Allow, Accept and Supported; 503 while draining.
//   - INVITE: 501 "Call handling not available" until the call path answers
//     it; 503 while draining; 481 within a dialog (none exists yet).
//   - BYE, CANCEL, UPDATE, INFO: 481 (no dialog or pending INVITE matches).
//   - REGISTER: 501 "Registration not available".
//   - PRACK, REFER, NOTIFY, SUBSCRIBE, MESSAGE, PUBLISH: 405 with Allow; any
//     other method: 501 with Allow. ACK: never answered.
//
// Sub-packages: sipmsg (validation of requests; later header sanitising and
// leg builders). sbc imports config, routing and sbc/...; never api or
// cluster.
package sbc
