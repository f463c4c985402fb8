package config

import (
	"fmt"
	"strconv"
	"strings"
)

// fieldPath names a value of the document the way problems report it:
// "routes[0].destinations[3].priority". Map keys that are not plain words are
// quoted: customHeaders["X Odd"].
type fieldPath string

// key returns the path of the mapping entry k under p.
func (p fieldPath) key(k string) fieldPath {
	if !plainKey(k) {
		return p + fieldPath("["+strconv.Quote(k)+"]")
	}
	if p == "" {
		return fieldPath(k)
	}
	return p + "." + fieldPath(k)
}

// index returns the path of the list item i under p.
func (p fieldPath) index(i int) fieldPath {
	return p + fieldPath("["+strconv.Itoa(i)+"]")
}

// parent returns the path one level up; the parent of a top-level field is "".
// It always returns a shorter path, so walking up ends.
func (p fieldPath) parent() fieldPath {
	i := strings.LastIndexAny(string(p), ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigits(s string) bool {
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

// report collects problems in the order they are found.
type report struct {
	problems []Problem
}

func (r *report) add(p fieldPath, format string, args ...any) {
	r.problems = append(r.problems, Problem{Path: string(p), Reason: fmt.Sprintf(format, args...)})
}
