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

func TestCountryCode(t *testing.T) {
	for _, tc := range []struct{ number, want string }{
		{"14155550100", "1"},     // NANP
		{"74951234567", "7"},     // Russia
		{"447700900123", "44"},   // United Kingdom
		{"4930123456", "49"},     // Germany
		{"33142685300", "33"},    // France
		{"8613800138000", "86"},  // China
		{"35312345678", "353"},   // Ireland
		{"38551234567", "385"},   // Croatia
		{"97141234567", "971"},   // United Arab Emirates
		{"8525551234", "852"},    // Hong Kong
		{"2348012345678", "234"}, // Nigeria
		{"6834001", "683"},       // Niue: seven digits with the code
		{"1000", ""},             // an extension
		{"123456", ""},           // too short for E.164
		{"0207946000", ""},       // a national number
		{"alice", ""},            // a user name
		{"", ""},
	} {
		if got := CountryCode(tc.number); got != tc.want {
			t.Errorf("CountryCode(%q) = %q, want %q", tc.number, got, tc.want)
		}
	}
}

func TestInternational(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		want     bool
	}{
		{"447700900123", "442079460000", false},
		{"447700900123", "4930123456", true},
		{"14155550100", "12125550100", false},
		{"14155550100", "447700900123", true},
		{"1000", "447700900123", false},
		{"100", "447700900123", false}, // an extension calls out
		{"alice", "4930123456", false},
	} {
		if got := International(tc.from, tc.to); got != tc.want {
			t.Errorf("International(%q, %q) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}
