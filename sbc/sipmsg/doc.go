// Package sipmsg holds the checks and builders Trunkline applies to SIP
// messages on top of sipgo's parser: ValidateRequest, which refuses what the
// lenient parser lets through (RFC 3261 §8.2 and the invalid messages of
// RFC 4475); the sanitising of header values that configuration, scripts or
// the API set (SanitizeValue, ExpandHeader); and the builders of requests
// within a dialog (Dialog, Cancel, RouteSet), from which the call path makes
// every message it sends a leg: nothing of the other leg is copied.
//
// It is pure: it reads and builds messages, and never touches the network,
// the configuration or a clock. It imports sipgo's sip package and the
// standard library only; sbc is its only importer.
package sipmsg
