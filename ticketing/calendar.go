package ticketing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/web"
)

// Interval is an opening interval of one day, as offsets from the office's local midnight.
type Interval struct {
	Opens  time.Duration `json:"opens"`
	Closes time.Duration `json:"closes"`
}

// Exception replaces the weekly intervals of one date: closed all day, or open at other times.
type Exception struct {
	Day       time.Time  `json:"day"` // a date at UTC midnight
	Closed    bool       `json:"closed"`
	Intervals []Interval `json:"intervals"`
	Reason    string     `json:"reason"`
}

// Calendar is an office's opening hours: weekly intervals, dated exceptions, Italian national holidays
// and the office's patron-saint day.
type Calendar struct {
	Loc        *time.Location
	Weekly     [8][]Interval // index 1 = Monday … 7 = Sunday (ISO weekdays)
	Exceptions map[time.Time]Exception
	PatronDay  string // MM-DD, closed like a holiday
}

// Calendar loads an office's calendar.
func (s *Store) Calendar(ctx context.Context, o *Office) (*Calendar, error) {
	c := &Calendar{Loc: o.Location(), Exceptions: map[time.Time]Exception{}, PatronDay: o.PatronDay}
	rows, err := s.pool.Query(ctx, `SELECT weekday, opens, closes FROM opening_hours WHERE office_id = $1 ORDER BY weekday, opens`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: opening hours: %w", err)
	}
	for rows.Next() {
		var wd int
		var opens, closes pgtype.Time
		if err := rows.Scan(&wd, &opens, &closes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticketing: opening hours: %w", err)
		}
		c.Weekly[wd] = append(c.Weekly[wd], Interval{micros(opens), micros(closes)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: opening hours: %w", err)
	}
	rows, err = s.pool.Query(ctx, `SELECT day, closed, opens, closes, reason FROM opening_exceptions
		WHERE office_id = $1 ORDER BY day, opens`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: opening exceptions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day time.Time
		var closed bool
		var opens, closes pgtype.Time
		var reason string
		if err := rows.Scan(&day, &closed, &opens, &closes, &reason); err != nil {
			return nil, fmt.Errorf("ticketing: opening exceptions: %w", err)
		}
		e := c.Exceptions[day]
		e.Day, e.Reason = day, reason
		e.Closed = e.Closed || closed
		if !closed {
			e.Intervals = append(e.Intervals, Interval{micros(opens), micros(closes)})
		}
		c.Exceptions[day] = e
	}
	return c, rows.Err()
}

func micros(t pgtype.Time) time.Duration { return time.Duration(t.Microseconds) * time.Microsecond }

// Intervals returns the opening intervals of a local date (any time of day; only its date counts).
func (c *Calendar) Intervals(date time.Time) []Interval {
	day := time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC)
	if e, ok := c.Exceptions[day]; ok {
		if e.Closed {
			return nil
		}
		return e.Intervals
	}
	if _, ok := Holiday(day); ok {
		return nil
	}
	if c.PatronDay != "" && day.Format("01-02") == c.PatronDay {
		return nil
	}
	wd := int(day.Weekday())
	if wd == 0 {
		wd = 7
	}
	return c.Weekly[wd]
}

// OpenAt reports whether the office is open at t, and if so the time it closes.
func (c *Calendar) OpenAt(t time.Time) (bool, time.Time) {
	local := t.In(c.Loc)
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, c.Loc)
	for _, iv := range c.Intervals(local) {
		opens, closes := at(midnight, iv.Opens), at(midnight, iv.Closes)
		if !t.Before(opens) && t.Before(closes) {
			return true, closes
		}
	}
	return false, time.Time{}
}

// NextOpening returns the first opening at or after t within 60 days, or false when none.
func (c *Calendar) NextOpening(t time.Time) (time.Time, bool) {
	local := t.In(c.Loc)
	for d := 0; d < 60; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, c.Loc)
		ivs := append([]Interval(nil), c.Intervals(day)...)
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].Opens < ivs[j].Opens })
		for _, iv := range ivs {
			if opens := at(day, iv.Opens); !opens.Before(t) {
				return opens, true
			}
			if at(day, iv.Closes).After(t) {
				return t, true // open now
			}
		}
	}
	return time.Time{}, false
}

// at returns local midnight plus offset, by wall clock, so daylight-saving days keep their hours.
func at(midnight time.Time, offset time.Duration) time.Time {
	h := int(offset / time.Hour)
	m := int(offset % time.Hour / time.Minute)
	return time.Date(midnight.Year(), midnight.Month(), midnight.Day(), h, m, 0, 0, midnight.Location())
}

// Holiday reports whether a date (at UTC midnight) is an Italian national holiday, and its name.
func Holiday(day time.Time) (string, bool) {
	y := day.Year()
	for _, h := range Holidays(y) {
		if h.Day.Equal(day) {
			return h.Name, true
		}
	}
	return "", false
}

// NamedDay is a dated holiday.
type NamedDay struct {
	Day  time.Time `json:"day"`
	Name string    `json:"name"`
}

// Holidays lists the Italian national public holidays of a year, Easter Monday included, and Saint Francis
// (4 October) from 2026, when it became a national holiday again (Law 151/2025).
func Holidays(year int) []NamedDay {
	d := func(m time.Month, day int) time.Time { return time.Date(year, m, day, 0, 0, 0, 0, time.UTC) }
	easter := Easter(year)
	out := []NamedDay{
		{d(time.January, 1), "Capodanno"},
		{d(time.January, 6), "Epifania"},
		{easter, "Pasqua"},
		{easter.AddDate(0, 0, 1), "Lunedì dell'Angelo"},
		{d(time.April, 25), "Festa della Liberazione"},
		{d(time.May, 1), "Festa del Lavoro"},
		{d(time.June, 2), "Festa della Repubblica"},
		{d(time.August, 15), "Ferragosto"},
		{d(time.November, 1), "Ognissanti"},
		{d(time.December, 8), "Immacolata Concezione"},
		{d(time.December, 25), "Natale"},
		{d(time.December, 26), "Santo Stefano"},
	}
	if year >= 2026 {
		out = append(out, NamedDay{d(time.October, 4), "San Francesco d'Assisi"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out
}

// Easter returns Western Easter Sunday of a year (anonymous Gregorian algorithm), at UTC midnight.
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// IssuingOpen reports whether the office issues tickets at t: around the clock when so configured,
// otherwise while open and until IssuingStopMinutes before closing. When closed it also returns the next
// time issuing opens (zero if none within 60 days).
func (o *Office) IssuingOpen(c *Calendar, t time.Time) (bool, time.Time) {
	if o.IssuingAlwaysOpen {
		return true, time.Time{}
	}
	open, closes := c.OpenAt(t)
	if open && t.Before(closes.Add(-time.Duration(o.IssuingStopMinutes)*time.Minute)) {
		return true, time.Time{}
	}
	from := t
	if open {
		from = closes
	}
	next, ok := c.NextOpening(from)
	if !ok {
		return false, time.Time{}
	}
	return false, next
}

// SetWeeklyHours replaces an office's weekly opening intervals (index 1 = Monday … 7 = Sunday). Inverted,
// out-of-day or overlapping intervals are refused with a 422 on the field "hours", and nothing is written.
func (s *Store) SetWeeklyHours(ctx context.Context, officeID int64, weekly map[int][]Interval) error {
	for wd, ivs := range weekly {
		if wd < 1 || wd > 7 {
			return web.InvalidField("hours", "weekday %d is not between 1 (Monday) and 7 (Sunday)", wd)
		}
		sorted := append([]Interval(nil), ivs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Opens < sorted[j].Opens })
		for i, iv := range sorted {
			if iv.Opens < 0 || iv.Closes > 24*time.Hour || iv.Opens >= iv.Closes {
				return web.InvalidField("hours", "weekday %d: interval %s–%s is inverted or outside the day", wd, hhmm(iv.Opens), hhmm(iv.Closes))
			}
			if i > 0 && iv.Opens < sorted[i-1].Closes {
				return web.InvalidField("hours", "weekday %d: intervals %s–%s and %s–%s overlap", wd,
					hhmm(sorted[i-1].Opens), hhmm(sorted[i-1].Closes), hhmm(iv.Opens), hhmm(iv.Closes))
			}
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM opening_hours WHERE office_id = $1`, officeID); err != nil {
			return fmt.Errorf("ticketing: opening hours: %w", err)
		}
		for wd, ivs := range weekly {
			for _, iv := range ivs {
				if _, err := tx.Exec(ctx, `INSERT INTO opening_hours (office_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)`,
					officeID, wd, pgtype.Time{Microseconds: iv.Opens.Microseconds(), Valid: true},
					pgtype.Time{Microseconds: iv.Closes.Microseconds(), Valid: true}); err != nil {
					return fmt.Errorf("ticketing: opening hours: %w", err)
				}
			}
		}
		return nil
	})
}

// hhmm formats an offset from midnight as "15:04".
func hhmm(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
