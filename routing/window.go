package routing

import (
	"fmt"
	"time"

	"github.com/trunkline/trunkline/config"
)

// window is a compiled allowed time window: the days (bit i for time.Weekday
// i) and the [from, to) minutes of the day, in a time zone.
type window struct {
	days     uint8
	from, to int // minutes since midnight; to may be 1440
	loc      *time.Location
}

const everyDay = 1<<7 - 1

var weekdays = map[string]time.Weekday{
	"SUNDAY": time.Sunday, "MONDAY": time.Monday, "TUESDAY": time.Tuesday,
	"WEDNESDAY": time.Wednesday, "THURSDAY": time.Thursday, "FRIDAY": time.Friday,
	"SATURDAY": time.Saturday,
}

func (c *compiler) window(w *config.TimeWindow) (window, error) {
	cw := window{days: everyDay, from: 0, to: 24 * 60, loc: time.UTC}
	if len(w.Days) > 0 {
		cw.days = 0
		for _, d := range w.Days {
			wd, ok := weekdays[d]
			if !ok {
				return window{}, fmt.Errorf("unknown day %q", d)
			}
			cw.days |= 1 << wd
		}
	}
	if w.From != nil {
		cw.from = w.From.Minutes()
	}
	if w.To != nil {
		cw.to = w.To.Minutes()
	}
	if w.Timezone != "" {
		loc := c.zones[w.Timezone]
		if loc == nil {
			var err error
			if loc, err = time.LoadLocation(w.Timezone); err != nil {
				return window{}, err
			}
			c.zones[w.Timezone] = loc
		}
		cw.loc = loc
	}
	return cw, nil
}

// contains reports whether the instant falls inside the window, read on the
// wall clock of the window's zone (so DST shifts move the window with the
// local clock).
func (w *window) contains(at time.Time) bool {
	local := at.In(w.loc)
	if w.days&(1<<local.Weekday()) == 0 {
		return false
	}
	h, m, _ := local.Clock()
	min := h*60 + m
	return min >= w.from && min < w.to
}
