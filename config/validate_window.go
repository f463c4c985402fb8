package config

import (
	"fmt"
	"slices"
	"time"

	_ "time/tzdata" // zones load the same on every host, with or without zoneinfo
)

// weekdays are the spellings of TimeWindow.Days, Monday first.
func weekdays() []string {
	return []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"}
}

const endOfDay = 24 * 60 // minutes

// span is a checked time window: the days it covers, [from, to) in minutes
// and its zone.
type span struct {
	days     [7]bool
	from, to int
	zone     string
}

func (v *validator) timeWindows(p fieldPath, ws []TimeWindow) {
	spans := make([]*span, len(ws))
	for j := range ws {
		spans[j] = v.timeWindow(p.index(j), &ws[j])
		if spans[j] == nil {
			continue
		}
		for i := range j {
			if day, ok := overlap(spans[i], spans[j]); ok {
				v.add(p.index(j), "overlaps allowedTimeWindows[%d] on %s", i, day)
			}
		}
	}
}

// timeWindow checks one window and returns its span, or nil when it is invalid.
func (v *validator) timeWindow(p fieldPath, w *TimeWindow) *span {
	before := len(v.problems)
	s := &span{from: 0, to: endOfDay, zone: w.Timezone}
	v.days(p.key("days"), w.Days, &s.days)
	if w.From != nil {
		s.from = v.timeOfDay(p.key("from"), *w.From, false)
	}
	if w.To != nil {
		s.to = v.timeOfDay(p.key("to"), *w.To, true)
	}
	if s.from >= 0 && s.to >= 0 && s.from >= s.to {
		v.add(p, "from %s is not before to %s (a window cannot cross midnight: split it in two)", clock(s.from), clock(s.to))
	}
	switch w.Timezone {
	case "":
		s.zone = "UTC"
	case "Local":
		v.add(p.key("timezone"), "\"Local\" differs from host to host; name an IANA zone such as Europe/London")
	default:
		if _, err := time.LoadLocation(w.Timezone); err != nil {
			v.add(p.key("timezone"), "%q is not an IANA time zone such as Europe/London", w.Timezone)
		}
	}
	if len(v.problems) > before {
		return nil
	}
	return s
}

// days marks the listed days; none listed means every day.
func (v *validator) days(p fieldPath, days []string, set *[7]bool) {
	if len(days) == 0 {
		*set = [7]bool{true, true, true, true, true, true, true}
		return
	}
	names := weekdays()
	for i, d := range days {
		n := slices.Index(names, d)
		switch {
		case n < 0:
			v.add(p.index(i), "%q is not one of MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY", d)
		case set[n]:
			v.add(p.index(i), "%s is listed twice", d)
		default:
			set[n] = true
		}
	}
}

// timeOfDay checks a time and returns it in minutes since midnight, or -1.
// 24:00 is allowed only as the end of a window.
func (v *validator) timeOfDay(p fieldPath, t TimeOfDay, isTo bool) int {
	ok := true
	if t.Hour < 0 || t.Hour > 24 {
		v.add(p.key("hour"), "%d is outside 0..24", t.Hour)
		ok = false
	}
	if t.Minute < 0 || t.Minute > 59 {
		v.add(p.key("minute"), "%d is outside 0..59", t.Minute)
		ok = false
	}
	switch {
	case !ok:
		return -1
	case t.Hour == 24 && !isTo:
		v.add(p, "%s is the end of the day: hour 24 is allowed only in to, as 24:00", clock(t.Minutes()))
		return -1
	case t.Hour == 24 && t.Minute != 0:
		v.add(p, "%s is past the end of the day; the latest to is 24:00", clock(t.Minutes()))
		return -1
	}
	return t.Minutes()
}

// overlap returns the first day on which two windows of one zone overlap.
func overlap(a, b *span) (string, bool) {
	if a.zone != b.zone || a.from >= b.to || b.from >= a.to {
		return "", false
	}
	for d := range a.days {
		if a.days[d] && b.days[d] {
			return weekdays()[d], true
		}
	}
	return "", false
}

func clock(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}
