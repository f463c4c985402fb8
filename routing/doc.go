// Package routing makes the routing decision for one call: the inbound number's
// action, the route whose criteria match, and the ordered plan of attempts with
// the reason each destination is kept or skipped.
//
// It is pure: no SIP, no network, no clock reads. The configuration is compiled
// once into an immutable Table (regexes compiled, numbers in a map, criteria
// indexed by the literal prefix of their patterns in tries), and each decision
// takes the call's facts, the instant, trunk health and a random source as
// inputs. It imports config and the standard library only.
package routing
