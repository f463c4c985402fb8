package resolve

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. The errors Resolve returns wrap one of
// them, or the context's error, in an *Error.
var (
	// ErrNotFound: the name does not exist, or has no usable records.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the domain's SRV record has the target ".", which
	// declares the service decidedly not available (RFC 2782).
	ErrUnavailable = errors.New("service not available")
	// ErrNoAnswer: no DNS server gave a usable answer (timeout, network
	// error, SERVFAIL, REFUSED, ...).
	ErrNoAnswer = errors.New("no answer from DNS servers")
)

// Error is a failed look-up: the name and record type asked for, and why.
type Error struct {
	Name string // the name asked for, without the trailing dot
	Type string // "NAPTR", "SRV", "A/AAAA", ...
	Err  error  // wraps ErrNotFound, ErrUnavailable, ErrNoAnswer or a context error
}

func (e *Error) Error() string {
	return fmt.Sprintf("resolve %s %s: %v", e.Type, e.Name, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }
