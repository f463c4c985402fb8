package routing

import "testing"

func TestLiteralPrefix(t *testing.T) {
	tests := []struct {
		expr     string
		prefix   string
		complete bool
	}{
		{"4420(.+)", "4420", false},
		{"442071234567", "442071234567", true},
		{"^4420.*$", "4420", false},
		{"^4420$", "4420", true},
		{"(4420)(.+)", "4420", false},
		{"((44)20)\\d+", "4420", false},
		{"4420|4421", "442", false}, // the parser factors the common prefix
		{"(?i)acme-.*", "", false},
		{".*", "", false},
		{"[0-9]+", "", false},
		{"1?234", "", false},
		{"sip\\.user", "sip.user", true},
		{"", "", true},
	}
	for _, tt := range tests {
		prefix, complete, err := literalPrefix(tt.expr)
		if err != nil {
			t.Fatalf("literalPrefix(%q): %v", tt.expr, err)
		}
		if prefix != tt.prefix || complete != tt.complete {
			t.Errorf("literalPrefix(%q) = %q, %v; want %q, %v", tt.expr, prefix, complete, tt.prefix, tt.complete)
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
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.expr)
		if err != nil {
			t.Fatalf("compilePattern(%q): %v", tt.expr, err)
		}
		if got := p.match(tt.value); got != tt.want {
			t.Errorf("%q matching %q = %v, want %v", tt.expr, tt.value, got, tt.want)
		}
	}
}

func TestPatternInvalid(t *testing.T) {
	for _, expr := range []string{"4420(", "[9-0]", "a**"} {
		if _, err := compilePattern(expr); err == nil {
			t.Errorf("compilePattern(%q) accepted an invalid regexp", expr)
		}
	}
}
