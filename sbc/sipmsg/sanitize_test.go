package sipmsg

import "testing"

func TestSanitizeValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{" padded ", "padded"},
		{"a\r\nVia: SIP/2.0/UDP evil", "aVia: SIP/2.0/UDP evil"},
		{"nul\x00byte", "nulbyte"},
		{"\r\n", ""},
	}
	for _, c := range cases {
		if got := SanitizeValue(c.in); got != c.want {
			t.Errorf("SanitizeValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSanitizeDisplayName(t *testing.T) {
	if got := SanitizeDisplayName("Bob \"the\" \\Builder\r\n"); got != "Bob the Builder" {
		t.Fatalf("got %q", got)
	}
}

func TestExpandHeader(t *testing.T) {
	cases := []struct{ in, to, from, want string }{
		{"${to}", "447700900123", "331234", "447700900123"},
		{"ref-${from}-${to}", "1", "2", "ref-2-1"},
		{"${other}", "1", "2", "${other}"},
		{"${to}", "1\r\nX-Evil: 1", "2", "1X-Evil: 1"},
	}
	for _, c := range cases {
		if got := ExpandHeader(c.in, c.to, c.from); got != c.want {
			t.Errorf("ExpandHeader(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestValidHeaderName(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Client-Ref": true, "X_a.b!%*+`'~": true,
		"": false, "X Ref": false, "X:Ref": false, "X\r\nVia": false, "Ä": false,
	} {
		if got := ValidHeaderName(name); got != want {
			t.Errorf("ValidHeaderName(%q) = %v, want %v", name, got, want)
		}
	}
}
