// Package sbc is the SIP side of Trunkline: the B2BUA and session border
// controller of DESIGN §4, over sipgo. It is the only package that imports
// github.com/emiago/sipgo; the rest of the appliance sees plain Go types.
//
// A Server owns the SIP listeners (sockets it opens itself, so that bind
// errors are synchronous and port 0 works), the classification of every
// request, the answer of each method, the call path, drain, and the SIP
// metrics in its own metrics.Set. Its lifecycle is New (no I/O), Start(ctx),
// Shutdown(ctx); SetConfig swaps the configuration whole, after building
// everything derived from it.
//
// What the SIP side answers today:
//
//   - A request within the dialog of a live call goes to that call, whatever
//     its source: its Call-ID and tags identify it (a callee's BYE comes from
//     its trunk's destination, which need not be any trunk's source).
//   - Any other request is classified (classify, auth.go): sources identify
//     STATIC trunks (X-Access-Code choosing between trunks sharing one);
//     REGISTERED and AUTHENTICATED trunks, and STATIC ones with inboundAuth,
//     identify by digest credentials (sbc/digest; realm "trunkline"; 407
//     Proxy-Authenticate, 401 WWW-Authenticate for REGISTER), and by their
//     source too when they list sourceHosts; a STATIC trunk with only an
//     accessCode, by X-Access-Code. A source a credential trunk owns is
//     challenged, and so is any source while a REGISTERED or AUTHENTICATED
//     trunk lists none; ACK and CANCEL never are, nor OPTIONS from a known
//     source (a credential trunk's, or a live registration's). Wrong
//     credentials, a source the authenticated trunk does not list, or an
//     initial INVITE without its trunk's accessCode get the same bare 403;
//     a stale nonce is challenged again with stale=true.
//   - A request nothing identifies gets 403 with no detail, or nothing at
//     all with sip.dropUnknown (then dropped before parsing, and TCP
//     connections closed on accept); these and refused credentials or
//     access codes are counted in trunkline_sip_unknown_source_total. With
//     sip.dropUnknown, destination hosts given by address, and the
//     addresses live calls sent INVITEs to, are not unknown.
//   - A request from a known trunk that RFC 3261 refuses gets the answer of
//     sipmsg.ValidateRequest (400, 416, 483, 505).
//   - OPTIONS: 200 with Allow, Accept and Supported; 503 while draining.
//   - INVITE: a call (below); 503 while draining; 481 within a dialog no
//     call holds.
//   - BYE, CANCEL, UPDATE, INFO, PRACK outside any call: 481.
//   - REGISTER (registrar.go): a REGISTERED trunk's peer, authenticated,
//     binds its contacts (Expires header or contact parameter, default
//     3600 s, at most 7200 s, below 60 s 423 with Min-Expires; 0 or "*"
//     removes) and gets 200 listing them; registeredTargets gives the call
//     path where to send its calls. Any other trunk: 403.
//   - REFER, NOTIFY, SUBSCRIBE, MESSAGE, PUBLISH: 405 with Allow; any
//     other method: 501 with Allow. ACK: never answered.
//
// The call path (call.go, call_hunt.go, call_bridge.go), for STATIC trunks:
// 100 Trying at once; refusals before a call exists (trunk DISABLED 403,
// cpsLimit 503 with Retry-After, channelLimit 503, Require of an extension
// other than 100rel and timer 420, a Session-Expires below Min-SE (90 s)
// 422, a body that is not SDP 415); the numbers normalised per the trunk's numberFormat;
// routing.Table.Decide (NO_ACTION 403, no route 404, nothing to try 480);
// the hunt of the plan's SIP and PHONE attempts (URL and APPLICATION
// attempts are skipped as failed, 480), each a new B leg sent to its trunk's
// destination hosts in turn, with the re-routing delay, connectTimeout,
// CANCEL, advanceOn and the RFC 3261 §16.7 best response; early media;
// reliable provisional responses (RFC 3262, call_prack.go) on each leg on
// its own: to a caller that supports 100rel, PRACKed by callees; session
// timers (RFC 4028, call_timer.go), negotiated, refreshed and enforced per
// leg, refreshes answered by the appliance and never relayed;
// the bridge with SDP rewritten on both legs through a media.Relay;
// re-INVITE, UPDATE and INFO relayed across (a rejected offer puts the
// relay back on the sender's previous media address); BYE from either side; 2xx
// retransmitted to the caller until its ACK and re-ACKed toward the callee;
// late 2xx hung up; one call-leg record per leg (CallLogs, and one log
// line each). Each call is run by one goroutine, its INVITE handler's; see
// the call type.
//
// Sub-packages: sipmsg (validation and sanitising of requests, dialog
// request builders). sbc imports config, routing, media and sbc/...; never
// api or cluster.
package sbc
