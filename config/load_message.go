package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The messages of a *yaml.TypeError, after their "line N: ". "column C: …"
// is this package's own form, used by Duration.
var (
	msgLine       = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
	msgColumn     = regexp.MustCompile(`(?s)^column (\d+): (.*)$`)
	msgNotFound   = regexp.MustCompile(`^field (.*) not found in type (\S+)$`)
	msgAlreadySet = regexp.MustCompile(`^field (.*) already set in type (\S+)$`)
	msgDuplicate  = regexp.MustCompile(`^mapping key (".*") already defined at line (\d+)$`)
	msgWrongType  = regexp.MustCompile(`^cannot unmarshal \S+.* into (\S+)$`)
)

// locator turns yaml.v3's messages, which give only a line, into problems on
// field paths. A message names a value by its line and what yaml.v3 says of
// it (the key, the Go type); the values of the index are bucketed by those
// facts. When several values fit, each message takes the first not yet taken,
// as yaml.v3 reports them in document order.
type locator struct {
	x       *docIndex
	buckets map[bucket][]int // site numbers, in document order
	taken   []bool
}

// bucket groups the sites that one kind of message may name.
type bucket struct {
	line int
	kind string // "value", "column", "type", "key", "key in"
	name string // the column, type, key or key+type
}

func newLocator(x *docIndex) *locator {
	l := &locator{x: x, buckets: make(map[bucket][]int), taken: make([]bool, len(x.sites))}
	for i, s := range x.sites {
		v := s.value
		l.put(bucket{v.Line, "value", ""}, i)
		l.put(bucket{v.Line, "column", strconv.Itoa(v.Column)}, i)
		l.put(bucket{v.Line, "type", typeName(s.typ)}, i)
		if k := s.key; k != nil {
			l.put(bucket{k.Line, "key", k.Value}, i)
			l.put(bucket{k.Line, "key in", k.Value + " " + typeName(s.owner)}, i)
		}
	}
	return l
}

func (l *locator) put(b bucket, site int) {
	l.buckets[b] = append(l.buckets[b], site)
}

// take returns the first site of b not yet taken, else the last one, else nil.
func (l *locator) take(b bucket) *site {
	sites := l.buckets[b]
	for len(sites) > 1 && l.taken[sites[0]] {
		sites = sites[1:]
	}
	l.buckets[b] = sites
	if len(sites) == 0 {
		return nil
	}
	l.taken[sites[0]] = true
	return &l.x.sites[sites[0]]
}

func (l *locator) problem(msg string) Problem {
	m := msgLine.FindStringSubmatch(msg)
	if m == nil {
		return Problem{Reason: msg}
	}
	line, _ := strconv.Atoi(m[1]) // fails only past MaxInt; line 0 names nothing
	rest := m[2]
	for _, tr := range []func(int, string) (Problem, bool){l.column, l.unknownField, l.duplicateKey, l.wrongType} {
		if p, ok := tr(line, rest); ok {
			return p
		}
	}
	if s := l.take(bucket{line, "value", ""}); s != nil {
		return Problem{Path: string(s.path), Reason: rest}
	}
	return Problem{Reason: msg}
}

// column locates this package's own "column C: reason" messages exactly.
func (l *locator) column(line int, rest string) (Problem, bool) {
	m := msgColumn.FindStringSubmatch(rest)
	if m == nil {
		return Problem{}, false
	}
	s := l.take(bucket{line, "column", m[1]})
	if s == nil {
		return Problem{Reason: fmt.Sprintf("line %d: %s", line, m[2])}, true
	}
	return Problem{Path: string(s.path), Reason: m[2]}, true
}

func (l *locator) unknownField(line int, rest string) (Problem, bool) {
	m, unknown := msgNotFound.FindStringSubmatch(rest), true
	if m == nil {
		m, unknown = msgAlreadySet.FindStringSubmatch(rest), false
	}
	if m == nil {
		return Problem{}, false
	}
	name, typ := m[1], m[2]
	s := l.take(bucket{line, "key in", name + " " + typ})
	if s == nil {
		s = l.take(bucket{line, "key", name})
	}
	switch {
	case s == nil:
		return Problem{}, false
	case !unknown:
		return Problem{Path: string(s.path), Reason: "set twice (a merged mapping sets it too)"}, true
	}
	return Problem{Path: string(s.path), Reason: unknownFieldReason(name, s.owner)}, true
}

func (l *locator) duplicateKey(line int, rest string) (Problem, bool) {
	m := msgDuplicate.FindStringSubmatch(rest)
	if m == nil {
		return Problem{}, false
	}
	name, err := strconv.Unquote(m[1])
	if err != nil {
		return Problem{}, false
	}
	s := l.take(bucket{line, "key", name})
	if s == nil {
		return Problem{}, false
	}
	return Problem{Path: string(s.path), Reason: "set twice (first on line " + m[2] + ")"}, true
}

func (l *locator) wrongType(line int, rest string) (Problem, bool) {
	m := msgWrongType.FindStringSubmatch(rest)
	if m == nil {
		return Problem{}, false
	}
	s := l.take(bucket{line, "type", m[1]})
	if s == nil {
		return Problem{}, false
	}
	return Problem{Path: string(s.path), Reason: wrongTypeReason(s.value, s.typ)}, true
}

func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}

// unknownFieldReason suggests the field meant: the closest known name within
// two edits (ignoring case), or else every field the mapping has.
func unknownFieldReason(name string, owner reflect.Type) string {
	known := yamlFields(owner)
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(k), strings.ToLower(name)); d < bestDist {
			best, bestDist = k, d
		}
	}
	switch {
	case best != "":
		return "unknown field; did you mean " + best + "?"
	case len(known) == 0:
		return "unknown field"
	}
	return "unknown field; want one of " + strings.Join(known, ", ")
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// wrongTypeReason says what a value is and what its field wants.
func wrongTypeReason(n *yaml.Node, t reflect.Type) string {
	want := describeType(t)
	switch n.Kind {
	case yaml.MappingNode:
		return "got a mapping, want " + want
	case yaml.SequenceNode:
		return "got a list, want " + want
	}
	tag := n.ShortTag()
	if isInteger(t) && (tag == "!!int" || tag == "!!float") {
		return clip(n.Value) + " is out of range for an integer"
	}
	if tag == "!!str" {
		return strconv.Quote(clip(n.Value)) + " is a string, want " + want
	}
	return clip(n.Value) + " is " + describeTag(tag) + ", want " + want
}

func describeType(t reflect.Type) string {
	switch {
	case t == nil:
		return "something else"
	case t == reflect.TypeFor[Duration]():
		return `a duration such as "60s"`
	case isInteger(t):
		return "an integer"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	}
	return t.String()
}

func describeTag(tag string) string {
	switch tag {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return "tagged " + tag
}

// clip shortens a value quoted in a reason.
func clip(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit-1]) + "…"
}
