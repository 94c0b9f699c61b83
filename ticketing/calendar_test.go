package ticketing_test

import (
	"testing"
	"time"

	"turno/ticketing"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// TestHolidays checks the Italian national holidays of 2026–2028: Easter Monday moves (2026-04-06,
// 2027-03-29, 2028-04-17), the fixed days do not, and Saint Francis (4 October) is a holiday again from 2026.
func TestHolidays(t *testing.T) {
	t.Parallel()
	easterMonday := map[int]time.Time{2026: day(2026, 4, 6), 2027: day(2027, 3, 29), 2028: day(2028, 4, 17)}
	for year, want := range easterMonday {
		if got := ticketing.Easter(year).AddDate(0, 0, 1); !got.Equal(want) {
			t.Errorf("Easter Monday %d = %s, want %s", year, got.Format(time.DateOnly), want.Format(time.DateOnly))
		}
		if name, ok := ticketing.Holiday(want); !ok || name != "Lunedì dell'Angelo" {
			t.Errorf("%s: Holiday = %q, %v", want.Format(time.DateOnly), name, ok)
		}
		fixed := []time.Time{day(year, 1, 1), day(year, 1, 6), day(year, 4, 25), day(year, 5, 1), day(year, 6, 2), day(year, 8, 15),
			day(year, 10, 4), day(year, 11, 1), day(year, 12, 8), day(year, 12, 25), day(year, 12, 26)}
		for _, d := range fixed {
			if _, ok := ticketing.Holiday(d); !ok {
				t.Errorf("%s is not a holiday", d.Format(time.DateOnly))
			}
		}
		hs := ticketing.Holidays(year)
		if len(hs) != len(fixed)+2 { // plus Easter Sunday and Monday
			t.Errorf("%d: %d holidays, want %d", year, len(hs), len(fixed)+2)
		}
		for i := 1; i < len(hs); i++ {
			if !hs[i-1].Day.Before(hs[i].Day) {
				t.Errorf("%d: holidays out of order at %s", year, hs[i].Day.Format(time.DateOnly))
			}
		}
	}
	for _, d := range []time.Time{day(2026, 4, 7), day(2027, 3, 30), day(2028, 4, 18), day(2026, 6, 24), day(2026, 8, 14)} {
		if name, ok := ticketing.Holiday(d); ok {
			t.Errorf("%s is not a national holiday, got %q", d.Format(time.DateOnly), name)
		}
	}
	if _, ok := ticketing.Holiday(day(2025, 10, 4)); ok {
		t.Error("4 October 2025 is a working day: Saint Francis is a holiday again from 2026")
	}
}

// TestCalendarIntervals: weekly hours, holidays, the patron-saint day and dated exceptions, and opening
// times across a daylight-saving change.
func TestCalendarIntervals(t *testing.T) {
	t.Parallel()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	h := ticketing.Clock
	cal := &ticketing.Calendar{Loc: rome, PatronDay: "06-24", Exceptions: map[time.Time]ticketing.Exception{
		day(2027, 6, 21): {Day: "2027-06-21", Closed: true, Reason: "Inventario"},
		day(2027, 4, 5):  {Day: "2027-04-05", Intervals: []ticketing.Interval{{Opens: h(9, 0), Closes: h(11, 0)}}},
	}}
	for wd := 1; wd <= 5; wd++ {
		cal.Weekly[wd] = []ticketing.Interval{{Opens: h(8, 30), Closes: h(13, 0)}, {Opens: h(14, 30), Closes: h(18, 0)}}
	}
	cal.Weekly[4] = []ticketing.Interval{{Opens: h(8, 30), Closes: h(13, 0)}, {Opens: h(14, 30), Closes: h(19, 0)}}
	cal.Weekly[6] = []ticketing.Interval{{Opens: h(8, 30), Closes: h(12, 30)}}
	cases := []struct {
		date time.Time
		want int // number of intervals
	}{
		{day(2027, 3, 29), 0}, // Easter Monday
		{day(2027, 3, 30), 2}, // the Tuesday after
		{day(2027, 6, 24), 0}, // patron saint (a Thursday)
		{day(2027, 6, 21), 0}, // closure exception
		{day(2027, 4, 5), 1},  // extra hours replace the weekly ones
		{day(2027, 4, 3), 1},  // Saturday
		{day(2027, 4, 4), 0},  // Sunday
	}
	for _, c := range cases {
		if got := cal.Intervals(c.date); len(got) != c.want {
			t.Errorf("%s: %v, want %d intervals", c.date.Format("Mon 2006-01-02"), got, c.want)
		}
	}
	// Thursday 2027-04-01 at 18:30 local is open until 19:00; the Saturday after Easter closes at 12:30 CEST.
	if open, closes := cal.OpenAt(time.Date(2027, 4, 1, 18, 30, 0, 0, rome)); !open || !closes.Equal(time.Date(2027, 4, 1, 19, 0, 0, 0, rome)) {
		t.Errorf("Thursday 18:30: open %v until %v", open, closes)
	}
	// From Saturday 2026-03-28 13:00 (closed) the next opening skips Sunday — when clocks go forward — and
	// is Monday 08:30 CEST.
	next, ok := cal.NextOpening(time.Date(2026, 3, 28, 13, 0, 0, 0, rome))
	if want := time.Date(2026, 3, 30, 8, 30, 0, 0, rome); !ok || !next.Equal(want) {
		t.Errorf("next opening %v, want %v", next, want)
	}
}
