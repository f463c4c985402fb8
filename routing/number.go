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

// twoDigitCodes are the E.164 country calling codes of two digits (ITU-T
// E.164 Annex, list of assigned codes). The codes form a prefix code: 1 and 7
// are the only ones of one digit, every code not of one or two digits has
// three.
var twoDigitCodes = map[string]bool{
	"20": true, "27": true,
	"30": true, "31": true, "32": true, "33": true, "34": true, "36": true, "39": true,
	"40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true, "48": true, "49": true,
	"51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true, "58": true,
	"60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true,
	"81": true, "82": true, "84": true, "86": true,
	"90": true, "91": true, "92": true, "93": true, "94": true, "95": true, "98": true,
}

// CountryCode returns the E.164 country calling code an internal number
// (digits, no '+') starts with, or "" when it is no E.164 number: fewer
// than seven digits (the shortest numbering plans have seven with their
// code), a leading 0 (a national number), or not digits (a user name). An
// extension or a short code thus has no country.
func CountryCode(number string) string {
	if len(number) < 7 || !allDigits(number) || number[0] == '0' {
		return ""
	}
	switch {
	case number[0] == '1' || number[0] == '7':
		return number[:1]
	case twoDigitCodes[number[:2]]:
		return number[:2]
	}
	return number[:3]
}

// International reports whether a call from one number to another crosses
// a border: both are E.164 numbers and their country codes differ. A call
// where either side is no E.164 number (an extension, a user name) is not
// international.
func International(from, to string) bool {
	a, b := CountryCode(from), CountryCode(to)
	return a != "" && b != "" && a != b
}
