package routing

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		format, cc, in, want string
	}{
		{"", "", "+442071234567", "442071234567"},
		{"UNCHANGED", "", "442071234567", "442071234567"},
		{"E164", "", "442071234567", "442071234567"},
		{"INTERNATIONAL", "", "+442071234567", "442071234567"},
		{"US_NATIONAL", "1", "2125550100", "12125550100"},
		{"US_NATIONAL", "1", "+12125550100", "12125550100"},
		{"US_NATIONAL", "1", "12125550100", "12125550100"},
		{"US_NATIONAL", "1", "911", "911"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.format, tt.cc, tt.in); got != tt.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", tt.format, tt.in, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		format, number, received, want string
	}{
		{"E164", "442071234567", "+442071234567", "442071234567"},
		{"INTERNATIONAL", "442071234567", "", "+442071234567"},
		{"US_NATIONAL", "12125550100", "", "2125550100"},
		{"US_NATIONAL", "442071234567", "", "442071234567"},
		{"UNCHANGED", "442071234567", "+442071234567", "+442071234567"},
		{"UNCHANGED", "442071234567", "", "442071234567"},
	}
	for _, tt := range tests {
		if got := Format(tt.format, tt.number, tt.received); got != tt.want {
			t.Errorf("Format(%s, %q, %q) = %q, want %q", tt.format, tt.number, tt.received, got, tt.want)
		}
	}
}
