package ticketing

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Interval is an opening interval of one day in local wall-clock times.
type Interval struct {
	Opens  TimeOfDay `json:"opens"`
	Closes TimeOfDay `json:"closes"`
}

// checkIntervals validates one day's intervals, sorting them: each must be well formed and not inverted,
// and none may overlap another. Errors are 422s on field.
func checkIntervals(field string, ivs []Interval) error {
	for _, iv := range ivs {
		if !iv.Opens.Valid() || !iv.Closes.Valid() {
			return web.InvalidField(field, "times must look like 08:30, from 00:00 to 24:00")
		}
		if iv.Opens >= iv.Closes {
			return web.InvalidField(field, "interval %s–%s is inverted: it must open before it closes", iv.Opens, iv.Closes)
		}
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].Opens < ivs[j].Opens })
	for i := 1; i < len(ivs); i++ {
		if ivs[i].Opens < ivs[i-1].Closes {
			return web.InvalidField(field, "intervals %s–%s and %s–%s overlap", ivs[i-1].Opens, ivs[i-1].Closes, ivs[i].Opens, ivs[i].Closes)
		}
	}
	return nil
}

// Exception replaces the weekly intervals of one date: closed all day, or open at other times.
type Exception struct {
	Day       string     `json:"day"` // the office's local date, YYYY-MM-DD
	Closed    bool       `json:"closed"`
	Intervals []Interval `json:"intervals"`
	Reason    string     `json:"reason"`
	// CancelledBookings is how many bookings saving a closed day cancelled (ClosureHook); output only.
	CancelledBookings int `json:"cancelled_bookings,omitempty"`
}

// ClosureHook is told, in the transaction that saves it, of a day an office closes by an opening
// exception, and returns how many appointments of that day it cancelled. booking.Store is one, wired by
// cmd/turno: ticketing knows nothing of bookings.
type ClosureHook interface {
	DayClosed(ctx context.Context, tx pgx.Tx, officeID int64, day time.Time) (int, error)
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
		var iv Interval
		if err := rows.Scan(&wd, &iv.Opens, &iv.Closes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticketing: opening hours: %w", err)
		}
		c.Weekly[wd] = append(c.Weekly[wd], iv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: opening hours: %w", err)
	}
	list, err := s.exceptions(ctx, o.ID, "")
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		day, _ := time.Parse(time.DateOnly, e.Day)
		c.Exceptions[day] = e
	}
	return c, nil
}

// Intervals returns the opening intervals of a local date (any time of day; only its date counts).
func (c *Calendar) Intervals(date time.Time) []Interval {
	day := Date(date)
	if e, ok := c.Exceptions[day]; ok {
		if e.Closed {
			return nil
		}
		return e.Intervals
	}
	if c.Closed(day) {
		return nil
	}
	return c.Weekly[ISOWeekday(day)]
}

// Closed reports whether a date is a national holiday or the patron-saint day.
func (c *Calendar) Closed(day time.Time) bool {
	if _, ok := Holiday(day); ok {
		return true
	}
	return c.PatronDay != "" && day.Format("01-02") == c.PatronDay
}

// OpenAt reports whether the office is open at t, and if so the time it closes.
func (c *Calendar) OpenAt(t time.Time) (bool, time.Time) {
	local := t.In(c.Loc)
	for _, iv := range c.Intervals(local) {
		opens, closes := iv.Opens.On(local, c.Loc), iv.Closes.On(local, c.Loc)
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
		day := local.AddDate(0, 0, d)
		ivs := slices.Clone(c.Intervals(day))
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].Opens < ivs[j].Opens })
		for _, iv := range ivs {
			if opens := iv.Opens.On(day, c.Loc); !opens.Before(t) {
				return opens, true
			}
			if iv.Closes.On(day, c.Loc).After(t) {
				return t, true // open now
			}
		}
	}
	return time.Time{}, false
}

// LastClosing returns the last closing time of a local date, and false when the office is closed all day.
func (c *Calendar) LastClosing(date time.Time) (time.Time, bool) {
	var last TimeOfDay
	for _, iv := range c.Intervals(date) {
		last = max(last, iv.Closes)
	}
	if last == 0 {
		return time.Time{}, false
	}
	return last.On(date, c.Loc), true
}

// WeeklyHours are an office's weekly opening intervals by ISO weekday (1 = Monday … 7 = Sunday).
type WeeklyHours struct {
	Hours map[int][]Interval `json:"hours"`
}

// WeeklyHours returns an office's weekly intervals, every weekday present (maybe empty).
func (s *Store) WeeklyHours(ctx context.Context, o *Office) (*WeeklyHours, error) {
	cal, err := s.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	h := &WeeklyHours{Hours: map[int][]Interval{}}
	for wd := 1; wd <= 7; wd++ {
		h.Hours[wd] = append([]Interval{}, cal.Weekly[wd]...)
	}
	return h, nil
}

// SetWeeklyHours replaces an office's weekly opening intervals (index 1 = Monday … 7 = Sunday). Malformed,
// inverted or overlapping intervals and unknown weekdays are refused with a 422 on the field "hours", and
// nothing is written.
func (s *Store) SetWeeklyHours(ctx context.Context, officeID int64, weekly map[int][]Interval) error {
	if weekly == nil {
		return web.InvalidField("hours", "hours is required: weekday → list of {opens, closes}")
	}
	for wd, ivs := range weekly {
		if wd < 1 || wd > 7 {
			return web.InvalidField("hours", "weekday %d is not between 1 (Monday) and 7 (Sunday)", wd)
		}
		if err := checkIntervals("hours", ivs); err != nil {
			return err.(*web.Error).Within("weekday %d", web.Weekday(wd))
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM opening_hours WHERE office_id = $1`, officeID); err != nil {
			return fmt.Errorf("ticketing: opening hours: %w", err)
		}
		for wd, ivs := range weekly {
			for _, iv := range ivs {
				if _, err := tx.Exec(ctx, `INSERT INTO opening_hours (office_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)`,
					officeID, wd, iv.Opens, iv.Closes); err != nil {
					return fmt.Errorf("ticketing: opening hours: %w", err)
				}
			}
		}
		return nil
	})
}

// SaveException validates e and replaces the exceptions of its date. A closed day has no intervals; an open
// one needs at least one, none inverted or overlapping. Errors name the field; nothing is written on error.
// A closed day cancels that day's appointments through the Closures hook, in the same transaction, and
// sets e.CancelledBookings.
func (s *Store) SaveException(ctx context.Context, officeID int64, e *Exception) error {
	day, err := ParseDate("day", e.Day)
	if err != nil {
		return err
	}
	if e.Intervals == nil {
		e.Intervals = []Interval{}
	}
	if err := checkIntervals("intervals", e.Intervals); err != nil {
		return err
	}
	switch {
	case e.Closed && len(e.Intervals) > 0:
		return web.InvalidField("intervals", "a closed day has no opening intervals")
	case !e.Closed && len(e.Intervals) == 0:
		return web.InvalidField("intervals", "give the opening intervals of the day, or mark it closed")
	case len(e.Reason) > 200:
		return web.InvalidField("reason", "reason is longer than 200 characters")
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM opening_exceptions WHERE office_id = $1 AND day = $2`, officeID, day); err != nil {
			return fmt.Errorf("ticketing: replace exception %s: %w", e.Day, err)
		}
		if e.Closed {
			_, err := tx.Exec(ctx, `INSERT INTO opening_exceptions (office_id, day, closed, reason) VALUES ($1, $2, true, $3)`, officeID, day, e.Reason)
			if err != nil {
				return fmt.Errorf("ticketing: save exception %s: %w", e.Day, err)
			}
			if s.Closures != nil {
				e.CancelledBookings, err = s.Closures.DayClosed(ctx, tx, officeID, day)
			}
			return err
		}
		for _, iv := range e.Intervals {
			if _, err := tx.Exec(ctx, `INSERT INTO opening_exceptions (office_id, day, closed, opens, closes, reason) VALUES ($1, $2, false, $3, $4, $5)`,
				officeID, day, iv.Opens, iv.Closes, e.Reason); err != nil {
				return fmt.Errorf("ticketing: save exception %s: %w", e.Day, err)
			}
		}
		return nil
	})
}

// DeleteException removes the exception of a date; a date without one is a 404.
func (s *Store) DeleteException(ctx context.Context, officeID int64, day time.Time) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM opening_exceptions WHERE office_id = $1 AND day = $2`, officeID, day)
	if err != nil {
		return fmt.Errorf("ticketing: delete exception: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_exception", "no exception on %s", day.Format(time.DateOnly))
	}
	return nil
}

// Exceptions lists an office's exceptions from one date to another, both included.
func (s *Store) Exceptions(ctx context.Context, officeID int64, from, to time.Time) ([]Exception, error) {
	return s.exceptions(ctx, officeID, `AND day BETWEEN $2 AND $3`, from, to)
}

func (s *Store) exceptions(ctx context.Context, officeID int64, where string, args ...any) ([]Exception, error) {
	rows, err := s.pool.Query(ctx, `SELECT day, closed, opens, closes, reason FROM opening_exceptions
		WHERE office_id = $1 `+where+` ORDER BY day, opens`, append([]any{officeID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("ticketing: opening exceptions: %w", err)
	}
	defer rows.Close()
	out := []Exception{}
	for rows.Next() {
		var day time.Time
		var closed bool
		var opens, closes *TimeOfDay
		var reason string
		if err := rows.Scan(&day, &closed, &opens, &closes, &reason); err != nil {
			return nil, fmt.Errorf("ticketing: opening exceptions: %w", err)
		}
		ds := day.Format(time.DateOnly)
		if n := len(out); n == 0 || out[n-1].Day != ds {
			out = append(out, Exception{Day: ds, Reason: reason, Intervals: []Interval{}})
		}
		e := &out[len(out)-1]
		e.Closed = e.Closed || closed
		if !closed && opens != nil && closes != nil {
			e.Intervals = append(e.Intervals, Interval{*opens, *closes})
		}
	}
	return out, rows.Err()
}

// ParseDate parses a YYYY-MM-DD date of a request field (years 2000–2100) as a time at UTC midnight,
// naming the field when it is malformed.
func ParseDate(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, web.InvalidField(field, "%s must be a date like 2026-03-02, not %q", web.Term(field), s)
	}
	if y := d.Year(); y < 2000 || y > 2100 {
		return time.Time{}, web.InvalidField(field, "%s %s is out of range", web.Term(field), s)
	}
	return d, nil
}
