// Package config owns Trunkline's configuration: the typed model of the
// document described in DESIGN §3 (node settings plus the replicated resources:
// SIP trunks, numbers, routes, Calls API applications and Lua scripts), its
// strict YAML loading, its defaults and its validation.
//
// Load and Parse decode YAML strictly (unknown fields, wrong types and several
// documents are refused), validate the result and only then apply defaults, so
// a Config they return is complete and coherent. Every problem found is
// reported, in document order, as an *Error whose lines read
//
//	trunkline.yaml: routes[0].destinations[3].priority: 0 is outside 1..100
//
// The same types are the JSON bodies of the HTTP API; Validate and ApplyDefaults
// serve a document that arrived that way, and Clone gives the replicated store
// its immutable copies.
//
// config is a leaf: it imports the standard library and gopkg.in/yaml.v3 only,
// and does no I/O beyond reading the file handed to Load (Validate loads time
// zones, which the embedded time/tzdata makes available everywhere).
package config
