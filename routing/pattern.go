package routing

import (
	"regexp"
	"regexp/syntax"
)

// pattern is a compiled criterion value: a literal number or a regular
// expression matched against the whole value. A regexp is split into its
// literal prefix, compared as a string, and the rest, compiled once per
// distinct text and shared by every pattern with that rest: a table of ten
// thousand `<prefix>(.+)` routes holds one regexp.
type pattern struct {
	set     bool           // false: the field is absent and matches anything
	literal bool           // the whole pattern is the literal prefix
	prefix  string         // what every matching value starts with
	rest    *regexp.Regexp // anchored; matched against what follows prefix
}

// patterns compiles patterns, sharing the regexp of equal rests.
type patterns map[string]*regexp.Regexp

// compile compiles expr anchored at both ends. An empty expr is an absent
// field.
func (ps patterns) compile(expr string) (pattern, error) {
	if expr == "" {
		return pattern{}, nil
	}
	prefix, rest, err := splitPattern(expr)
	if err != nil {
		return pattern{}, err
	}
	if rest == "" {
		return pattern{set: true, literal: true, prefix: prefix}, nil
	}
	re := ps[rest]
	if re == nil {
		if re, err = regexp.Compile(`^(?:` + rest + `)$`); err != nil {
			return pattern{}, err
		}
		ps[rest] = re
	}
	return pattern{set: true, prefix: prefix, rest: re}, nil
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
	return p.rest.MatchString(s[len(p.prefix):])
}

// splitPattern splits expr into the literal text every full match starts with
// and a regexp for what follows it ("" when expr is that literal alone).
// Captures are flattened (nothing reads submatches) and anchors at either end
// dropped (matching is anchored anyway). When the rest holds an assertion
// whose meaning depends on what precedes it (^, $, \b, \B inside), it cannot
// be matched on its own: the prefix is then "" and the rest expr itself.
func splitPattern(expr string) (prefix, rest string, err error) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", "", err
	}
	atoms := flatten(re.Simplify(), nil)
	if len(atoms) > 0 && atoms[0].Op == syntax.OpBeginText {
		atoms = atoms[1:]
	}
	if n := len(atoms); n > 0 && atoms[n-1].Op == syntax.OpEndText {
		atoms = atoms[:n-1]
	}
	var lit []rune
	for len(atoms) > 0 && isLiteral(atoms[0]) {
		if atoms[0].Op == syntax.OpLiteral {
			lit = append(lit, atoms[0].Rune...)
		}
		atoms = atoms[1:]
	}
	switch {
	case len(atoms) == 0:
		return string(lit), "", nil
	case hasAssertion(atoms):
		return "", expr, nil
	case len(atoms) == 1:
		return string(lit), atoms[0].String(), nil
	}
	return string(lit), (&syntax.Regexp{Op: syntax.OpConcat, Sub: atoms}).String(), nil
}

// flatten appends the sequence of atoms re matches in order, looking through
// concatenations and captures.
func flatten(re *syntax.Regexp, atoms []*syntax.Regexp) []*syntax.Regexp {
	switch re.Op {
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			atoms = flatten(sub, atoms)
		}
		return atoms
	case syntax.OpCapture:
		return flatten(re.Sub[0], atoms)
	}
	return append(atoms, re)
}

func isLiteral(re *syntax.Regexp) bool {
	return re.Op == syntax.OpEmptyMatch || re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0
}

func hasAssertion(atoms []*syntax.Regexp) bool {
	for _, re := range atoms {
		switch re.Op {
		case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
			syntax.OpWordBoundary, syntax.OpNoWordBoundary:
			return true
		}
		if hasAssertion(re.Sub) {
			return true
		}
	}
	return false
}
