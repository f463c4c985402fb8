package routing

import (
	"regexp"
	"testing"
)

func TestSplitPattern(t *testing.T) {
	tests := []struct {
		expr   string
		prefix string
		rest   string
	}{
		{"4420(.+)", "4420", "(?-s:.+)"},
		{"442071234567", "442071234567", ""},
		{"^4420.*$", "4420", "(?-s:.*)"},
		{"^4420$", "4420", ""},
		{"(4420)(.+)", "4420", "(?-s:.+)"},
		{"((44)20)\\d+", "4420", "[0-9]+"},
		{"(4420(.+))", "4420", "(?-s:.+)"},
		{"4420|4421", "442", "[01]"}, // the parser factors the common prefix
		{"(?i)acme-.*", "", "(?i-s:ACME-.*)"},
		{".*", "", "(?-s:.*)"},
		{"1?234", "", "1?234"},
		{"sip\\.user", "sip.user", ""},
		{"44^20", "", "44^20"},     // an inner anchor keeps the whole pattern
		{"44\\b20", "", "44\\b20"}, // so does a word boundary
		{"", "", ""},
	}
	for _, tt := range tests {
		prefix, rest, err := splitPattern(tt.expr)
		if err != nil {
			t.Fatalf("splitPattern(%q): %v", tt.expr, err)
		}
		if prefix != tt.prefix || rest != tt.rest {
			t.Errorf("splitPattern(%q) = %q, %q; want %q, %q", tt.expr, prefix, rest, tt.prefix, tt.rest)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		expr  string
		value string
		want  bool
	}{
		{"", "anything", true}, // absent field
		{"4420", "4420", true},
		{"4420", "44201", false}, // a literal number is exact, not a prefix
		{"4420", "14420", false},
		{"4420(.+)", "442071234567", true},
		{"4420(.+)", "4420", false},
		{"20(.+)", "442071234567", false},  // anchored at the start
		{"4420.*7", "442071234568", false}, // anchored at the end
		{"(?i)ACME-.*", "acme-eu", true},
		{"acme-.*", "ACME-eu", false},
		{"4420|4421", "4421", true},
		{"4420|4421", "44211", false}, // the whole alternation is anchored
		{"^4420$", "4420", true},
		{"[0-9]{3}", "123", true},
		{"[0-9]{3}", "1234", false},
		{"44^20", "4420", false},
		{"a\\bb", "ab", false},
		{"a\\b", "a", true},
	}
	for _, tt := range tests {
		p, err := patterns{}.compile(tt.expr)
		if err != nil {
			t.Fatalf("compile(%q): %v", tt.expr, err)
		}
		if got := p.match(tt.value); got != tt.want {
			t.Errorf("%q matching %q = %v, want %v", tt.expr, tt.value, got, tt.want)
		}
	}
}

func TestPatternInvalid(t *testing.T) {
	for _, expr := range []string{"4420(", "[9-0]", "a**"} {
		if _, err := (patterns{}).compile(expr); err == nil {
			t.Errorf("compile(%q) accepted an invalid regexp", expr)
		}
	}
}

// TestPatternsShareRests checks that equal rests share one compiled regexp.
func TestPatternsShareRests(t *testing.T) {
	ps := patterns{}
	for _, expr := range []string{"4420(.+)", "4421(.+)", "33.+", "(.+)"} {
		if _, err := ps.compile(expr); err != nil {
			t.Fatal(err)
		}
	}
	if len(ps) != 1 {
		t.Errorf("%d regexps compiled for one distinct rest: %v", len(ps), ps)
	}
}

// FuzzPattern checks that splitting a pattern into prefix and rest matches
// exactly what the whole anchored regexp matches.
func FuzzPattern(f *testing.F) {
	seeds := [][2]string{
		{"4420(.+)", "442071234567"}, {"(44(20))\\d*", "4420"}, {"(?i)ab(c|d)", "ABd"},
		{"a\\b", "a"}, {"^ab$", "ab"}, {"x*", ""}, {"(ab)*c", "ababc"}, {"44^20", "4420"},
		{"a(?m:^)b", "ab"}, {"[^a]b", "\nb"}, {"a.b", "a\nb"}, {"é+x", "ééx"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, expr, value string) {
		if _, err := regexp.Compile(expr); err != nil {
			return // refused at load
		}
		whole := regexp.MustCompile(`^(?:` + expr + `)$`)
		p, err := patterns{}.compile(expr)
		if err != nil {
			t.Fatalf("compile(%q): %v, but the whole regexp compiles", expr, err)
		}
		if expr == "" {
			return // an absent field matches anything
		}
		if got, want := p.match(value), whole.MatchString(value); got != want {
			t.Fatalf("%q matching %q: split %v, whole %v (prefix %q)", expr, value, got, want, p.prefix)
		}
	})
}
