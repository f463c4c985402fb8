package routing

import (
	"regexp"
	"regexp/syntax"
)

// pattern is a compiled criterion value: a literal number or a regular
// expression matched against the whole value.
type pattern struct {
	set     bool           // false: the field is absent and matches anything
	literal bool           // the whole pattern is a literal: compare strings
	prefix  string         // what every matching value starts with
	re      *regexp.Regexp // anchored; nil when literal
}

// compilePattern compiles expr anchored at both ends. An empty expr is an
// absent field.
func compilePattern(expr string) (pattern, error) {
	if expr == "" {
		return pattern{}, nil
	}
	prefix, complete, err := literalPrefix(expr)
	if err != nil {
		return pattern{}, err
	}
	if complete {
		return pattern{set: true, literal: true, prefix: prefix}, nil
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return pattern{}, err
	}
	return pattern{set: true, prefix: prefix, re: re}, nil
}

func (p *pattern) match(s string) bool {
	switch {
	case !p.set:
		return true
	case p.literal:
		return s == p.prefix
	case len(s) < len(p.prefix) || s[:len(p.prefix)] != p.prefix:
		return false
	}
	return p.re.MatchString(s)
}

// literalPrefix returns the literal text every full match of expr starts
// with, and whether expr matches exactly that text and nothing else.
func literalPrefix(expr string) (prefix string, complete bool, err error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false, err
	}
	re = re.Simplify()
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	// Anchors are redundant (matching is anchored anyway) at the ends only.
	if len(subs) > 0 && subs[0].Op == syntax.OpBeginText {
		subs = subs[1:]
	}
	if len(subs) > 0 && subs[len(subs)-1].Op == syntax.OpEndText {
		subs = subs[:len(subs)-1]
	}
	var buf []rune
	complete = true
	for _, sub := range subs {
		if !literalRunes(sub, &buf) {
			complete = false
			break
		}
	}
	return string(buf), complete, nil
}

// literalRunes appends the literal head of re to buf and reports whether re is
// nothing but that literal.
func literalRunes(re *syntax.Regexp, buf *[]rune) bool {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return false
		}
		*buf = append(*buf, re.Rune...)
		return true
	case syntax.OpCapture:
		return literalRunes(re.Sub[0], buf)
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !literalRunes(sub, buf) {
				return false
			}
		}
		return true
	case syntax.OpEmptyMatch:
		return true
	}
	return false
}
