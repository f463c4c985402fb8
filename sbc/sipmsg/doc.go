// Package sipmsg holds the checks and builders Trunkline applies to SIP
// messages on top of sipgo's parser: today, ValidateRequest, which refuses
// what the lenient parser lets through (RFC 3261 §8.2 and the invalid
// messages of RFC 4475). It grows the header sanitising and B-leg builders of
// the call path.
//
// It is pure: it reads and builds messages, and never touches the network,
// the configuration or a clock. It imports sipgo's sip package and the
// standard library only; sbc is its only importer.
package sipmsg
