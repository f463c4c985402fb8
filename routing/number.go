package routing

import (
	"strings"

	"github.com/trunkline/trunkline/config"
)

// Normalize turns a number as a trunk sends it into the internal form: E.164
// digits without '+'. format is the trunk's numberFormat ("" means UNCHANGED),
// countryCode its country code for national formats. A leading '+' is always
// stripped; US_NATIONAL restores the leading 1 of a 10-digit number.
func Normalize(format, countryCode, number string) string {
	n := strings.TrimPrefix(number, "+")
	switch format {
	case config.FormatUSNational:
		if len(n) == 10 && allDigits(n) {
			return "1" + n
		}
	}
	return n
}

// Format writes an internal E.164 number (no '+') as a trunk expects it.
// UNCHANGED writes what the number is; received is what came in on the wire
// and is used by UNCHANGED when it is not empty.
func Format(format, number, received string) string {
	switch format {
	case config.FormatE164:
		return number
	case config.FormatInternational:
		return "+" + number
	case config.FormatUSNational:
		if len(number) == 11 && number[0] == '1' {
			return number[1:]
		}
		return number
	}
	if received != "" {
		return received
	}
	return number
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
