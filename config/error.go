package config

import "strings"

// Problem is one thing wrong with a configuration: where and why.
type Problem struct {
	// Path names the field, as in "routes[0].destinations[3].priority". It is
	// empty when the problem is not about one field (a YAML syntax error, a
	// document that is not a mapping).
	Path string `json:"path"`
	// Reason says what the value is and what is allowed instead.
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Reason
	}
	return p.Path + ": " + p.Reason
}

// Error is a configuration refused by Parse, Load or Validate. It lists every
// problem found, in the order their fields appear in the document.
type Error struct {
	File     string // the name given to Parse or Validate; may be empty
	Problems []Problem
}

// Error returns one line per problem, "file: path: reason" ("path: reason"
// when File is empty), joined by newlines.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteString(": ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}
