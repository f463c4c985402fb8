package routing

import (
	"testing"
	"time"

	"github.com/trunkline/trunkline/config"
)

func tod(h, m int) *config.TimeOfDay { return &config.TimeOfDay{Hour: h, Minute: m} }

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestWindowContains(t *testing.T) {
	weekdays := []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"}
	office := config.TimeWindow{Days: weekdays, From: tod(8, 0), To: tod(17, 30)}
	london := config.TimeWindow{Days: weekdays, From: tod(8, 0), To: tod(17, 30), Timezone: "Europe/London"}
	lateMonday := config.TimeWindow{Days: []string{"MONDAY"}, From: tod(22, 0), To: tod(24, 0)}
	night := config.TimeWindow{From: tod(1, 0), To: tod(2, 0), Timezone: "Europe/London"}
	newYork := config.TimeWindow{Days: []string{"SUNDAY"}, From: tod(2, 0), To: tod(3, 0), Timezone: "America/New_York"}
	auckland := config.TimeWindow{Days: []string{"MONDAY"}, From: tod(8, 0), To: tod(9, 0), Timezone: "Pacific/Auckland"}
	always := config.TimeWindow{}

	tests := []struct {
		name string
		w    config.TimeWindow
		at   string
		want bool
	}{
		// 2026-11-23 is a Monday.
		{"from is inclusive", office, "2026-11-23T08:00:00Z", true},
		{"before from", office, "2026-11-23T07:59:59Z", false},
		{"last minute", office, "2026-11-23T17:29:59Z", true},
		{"to is exclusive", office, "2026-11-23T17:30:00Z", false},
		{"day not listed", office, "2026-11-22T10:00:00Z", false},
		{"no days means every day", always, "2026-11-22T10:00:00Z", true},
		{"no bounds means all day", always, "2026-11-22T00:00:00Z", true},
		{"24:00 covers the last minute", lateMonday, "2026-11-23T23:59:59Z", true},
		{"24:00 starts at from", lateMonday, "2026-11-23T22:00:00Z", true},
		{"24:00 ends at midnight", lateMonday, "2026-11-24T00:00:00Z", false},
		{"before a 24:00 window", lateMonday, "2026-11-23T21:59:59Z", false},
		// London in winter is UTC, in summer UTC+1.
		{"winter London = UTC", london, "2026-11-23T08:00:00Z", true},
		{"summer London 07:30Z is 08:30", london, "2026-06-15T07:30:00Z", true},
		{"summer London 16:45Z is 17:45", london, "2026-06-15T16:45:00Z", false},
		// Spring forward 2026-03-29 (Sunday) at 01:00Z: 01:00-02:00 local does not exist.
		{"spring: 00:59Z is 00:59 GMT", night, "2026-03-29T00:59:00Z", false},
		{"spring: 01:00Z is 02:00 BST", night, "2026-03-29T01:00:00Z", false},
		{"day before spring: 01:30 GMT", night, "2026-03-28T01:30:00Z", true},
		{"day after spring: 00:30Z is 01:30 BST", night, "2026-03-30T00:30:00Z", true},
		{"Monday after spring: 08:30 BST", london, "2026-03-30T07:30:00Z", true},
		{"Friday before spring: 07:30 GMT", london, "2026-03-27T07:30:00Z", false},
		// Fall back 2026-10-25 at 01:00Z: 01:00-02:00 local happens twice.
		{"fall: first 01:30 (BST)", night, "2026-10-25T00:30:00Z", true},
		{"fall: second 01:30 (GMT)", night, "2026-10-25T01:30:00Z", true},
		{"fall: 02:00 GMT", night, "2026-10-25T02:00:00Z", false},
		{"fall: 00:59 BST", night, "2026-10-24T23:59:00Z", false},
		// New York springs forward 2026-03-08 at 02:00 local (07:00Z).
		{"NY spring: 06:59Z is 01:59 EST", newYork, "2026-03-08T06:59:00Z", false},
		{"NY spring: 07:00Z is 03:00 EDT", newYork, "2026-03-08T07:00:00Z", false},
		{"NY week after: 02:30 EDT", newYork, "2026-03-15T06:30:00Z", true},
		{"NY fall 2026-11-01: 01:30 EDT is not 02:00", newYork, "2026-11-01T05:30:00Z", false},
		{"NY fall: 07:30Z is 02:30 EST", newYork, "2026-11-01T07:30:00Z", true},
		// The weekday is the zone's: Monday 08:30 in Auckland is Sunday 19:30Z.
		{"weekday in the zone", auckland, "2026-11-22T19:30:00Z", true},
		{"UTC Monday is Tuesday in Auckland", auckland, "2026-11-23T19:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compiler{zones: map[string]*time.Location{}}
			w, err := c.window(&tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.contains(mustTime(t, tt.at)); got != tt.want {
				t.Errorf("contains(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestCompileWindowErrors(t *testing.T) {
	c := compiler{zones: map[string]*time.Location{}}
	if _, err := c.window(&config.TimeWindow{Timezone: "Mars/Olympus"}); err == nil {
		t.Error("unknown zone accepted")
	}
	if _, err := c.window(&config.TimeWindow{Days: []string{"FUNDAY"}}); err == nil {
		t.Error("unknown day accepted")
	}
}
