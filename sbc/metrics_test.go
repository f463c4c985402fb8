package sbc

import "testing"

func TestLabelValue(t *testing.T) {
	for in, want := range map[string]string{
		"carrier-1": "carrier-1",
		`a"b\c`:     `a\"b\\c`,
		"x\ny":      `x\ny`,
	} {
		if got := labelValue(in); got != want {
			t.Errorf("labelValue(%q) = %q, want %q", in, got, want)
		}
	}
}
