package scheduling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
	"turno/ticketing"
)

// Span is an opening interval in local "HH:MM" times.
type Span struct {
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// WeeklyHours are an office's weekly opening intervals by ISO weekday (1 = Monday … 7 = Sunday).
type WeeklyHours struct {
	Hours map[int][]Span `json:"hours"`
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// parseClock parses "HH:MM" (00:00–24:00) into an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	if s == "24:00" {
		return 24 * time.Hour, true
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

func pgClock(d time.Duration) pgtype.Time {
	return pgtype.Time{Microseconds: d.Microseconds(), Valid: true}
}

func fromPG(t pgtype.Time) time.Duration { return time.Duration(t.Microseconds) * time.Microsecond }

// spans turns intervals into Spans.
func spans(ivs []ticketing.Interval) []Span {
	out := make([]Span, 0, len(ivs))
	for _, iv := range ivs {
		out = append(out, Span{clock(iv.Opens), clock(iv.Closes)})
	}
	return out
}

// intervals parses and checks spans: each must be a valid, non-inverted interval within the day, and none
// may overlap another. Errors name field.
func intervals(field string, ss []Span) ([]ticketing.Interval, error) {
	out := make([]ticketing.Interval, 0, len(ss))
	for _, s := range ss {
		o, ok1 := parseClock(s.Opens)
		c, ok2 := parseClock(s.Closes)
		if !ok1 || !ok2 {
			return nil, web.InvalidField(field, "%q–%q: times must look like 08:30", s.Opens, s.Closes)
		}
		if o >= c {
			return nil, web.InvalidField(field, "interval %s–%s is inverted: it must open before it closes", s.Opens, s.Closes)
		}
		out = append(out, ticketing.Interval{Opens: o, Closes: c})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Opens < out[j].Opens })
	for i := 1; i < len(out); i++ {
		if out[i].Opens < out[i-1].Closes {
			return nil, web.InvalidField(field, "intervals %s–%s and %s–%s overlap", clock(out[i-1].Opens), clock(out[i-1].Closes),
				clock(out[i].Opens), clock(out[i].Closes))
		}
	}
	return out, nil
}

// OpeningHours returns an office's weekly intervals as WeeklyHours (every weekday present, maybe empty).
func OpeningHours(ctx context.Context, store *ticketing.Store, o *ticketing.Office) (*WeeklyHours, error) {
	cal, err := store.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	h := &WeeklyHours{Hours: map[int][]Span{}}
	for wd := 1; wd <= 7; wd++ {
		h.Hours[wd] = spans(cal.Weekly[wd])
	}
	return h, nil
}

func (a *API) getOpeningHours(w http.ResponseWriter, r *http.Request) {
	h, err := OpeningHours(r.Context(), a.Store, officeOf(r))
	reply(w, r, http.StatusOK, h, err)
}

// putOpeningHours replaces the weekly hours. Inverted, malformed or overlapping intervals are a 422 on
// "hours" and nothing is written (ticketing.Store.SetWeeklyHours checks again in its transaction).
func (a *API) putOpeningHours(w http.ResponseWriter, r *http.Request) {
	var in WeeklyHours
	if err := web.Decode(r, &in, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if in.Hours == nil {
		web.WriteError(w, r, web.InvalidField("hours", "hours is required: weekday → list of {opens, closes}"))
		return
	}
	weekly := map[int][]ticketing.Interval{}
	for wd, ss := range in.Hours {
		if wd < 1 || wd > 7 {
			web.WriteError(w, r, web.InvalidField("hours", "weekday %d is not between 1 (Monday) and 7 (Sunday)", wd))
			return
		}
		ivs, err := intervals("hours", ss)
		if err != nil {
			var we *web.Error
			if errors.As(err, &we) {
				we.Message = fmt.Sprintf("weekday %d: %s", wd, we.Message)
			}
			web.WriteError(w, r, err)
			return
		}
		weekly[wd] = ivs
	}
	o := officeOf(r)
	if err := a.Store.SetWeeklyHours(r.Context(), o.ID, weekly); err != nil {
		web.WriteError(w, r, err)
		return
	}
	h, err := OpeningHours(r.Context(), a.Store, o)
	reply(w, r, http.StatusOK, h, err)
}

// Exception is a dated change of the opening hours: closed all day, or open during Intervals instead of the
// weekly hours.
type Exception struct {
	Day       string `json:"day"` // YYYY-MM-DD
	Closed    bool   `json:"closed"`
	Intervals []Span `json:"intervals"`
	Reason    string `json:"reason"`
}

func parseDay(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, web.InvalidField(field, "%s must be a date like 2026-03-02, not %q", field, s)
	}
	return d, nil
}

// SaveException validates e and replaces the exceptions of its date. A closed day has no intervals; an open
// one needs at least one, none inverted or overlapping.
func SaveException(ctx context.Context, pool *pgxpool.Pool, officeID int64, e Exception) error {
	day, err := parseDay("day", e.Day)
	if err != nil {
		return err
	}
	if y := day.Year(); y < 2000 || y > 2100 {
		return web.InvalidField("day", "day %s is out of range", e.Day)
	}
	ivs, err := intervals("intervals", e.Intervals)
	if err != nil {
		return err
	}
	if e.Closed && len(ivs) > 0 {
		return web.InvalidField("intervals", "a closed day has no opening intervals")
	}
	if !e.Closed && len(ivs) == 0 {
		return web.InvalidField("intervals", "give the opening intervals of the day, or mark it closed")
	}
	if len(e.Reason) > 200 {
		return web.InvalidField("reason", "reason is longer than 200 characters")
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM opening_exceptions WHERE office_id = $1 AND day = $2`, officeID, day); err != nil {
			return fmt.Errorf("scheduling: replace exception %s: %w", e.Day, err)
		}
		if e.Closed {
			_, err := tx.Exec(ctx, `INSERT INTO opening_exceptions (office_id, day, closed, reason) VALUES ($1, $2, true, $3)`, officeID, day, e.Reason)
			if err != nil {
				return fmt.Errorf("scheduling: save exception %s: %w", e.Day, err)
			}
			return nil
		}
		for _, iv := range ivs {
			if _, err := tx.Exec(ctx, `INSERT INTO opening_exceptions (office_id, day, closed, opens, closes, reason) VALUES ($1, $2, false, $3, $4, $5)`,
				officeID, day, pgClock(iv.Opens), pgClock(iv.Closes), e.Reason); err != nil {
				return fmt.Errorf("scheduling: save exception %s: %w", e.Day, err)
			}
		}
		return nil
	})
}

// Exceptions lists an office's exceptions from one date to another, both included.
func Exceptions(ctx context.Context, pool *pgxpool.Pool, officeID int64, from, to time.Time) ([]Exception, error) {
	rows, err := pool.Query(ctx, `SELECT day, closed, opens, closes, reason FROM opening_exceptions
		WHERE office_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day, opens`, officeID, from, to)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list exceptions: %w", err)
	}
	defer rows.Close()
	out := []Exception{}
	for rows.Next() {
		var day time.Time
		var closed bool
		var opens, closes pgtype.Time
		var reason string
		if err := rows.Scan(&day, &closed, &opens, &closes, &reason); err != nil {
			return nil, fmt.Errorf("scheduling: list exceptions: %w", err)
		}
		ds := day.Format(time.DateOnly)
		if n := len(out); n == 0 || out[n-1].Day != ds {
			out = append(out, Exception{Day: ds, Reason: reason, Intervals: []Span{}})
		}
		e := &out[len(out)-1]
		e.Closed = e.Closed || closed
		if !closed {
			e.Intervals = append(e.Intervals, Span{clock(fromPG(opens)), clock(fromPG(closes))})
		}
	}
	return out, rows.Err()
}

// dateRange reads ?from= and ?to= (dates), defaulting to the given span.
func dateRange(r *http.Request, from, to time.Time) (time.Time, time.Time, error) {
	var err error
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = parseDay("from", s); err != nil {
			return from, to, err
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = parseDay("to", s); err != nil {
			return from, to, err
		}
	}
	if to.Before(from) {
		return from, to, web.InvalidField("to", "to is before from")
	}
	return from, to, nil
}

func (a *API) listExceptions(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	today := o.LocalDay(a.now())
	from, to, err := dateRange(r, today.AddDate(0, 0, -31), today.AddDate(1, 0, 0))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	list, err := Exceptions(r.Context(), a.pool(), o.ID, from, to)
	reply(w, r, http.StatusOK, list, err)
}

func (a *API) saveException(w http.ResponseWriter, r *http.Request) {
	var e Exception
	if err := web.Decode(r, &e, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if e.Intervals == nil {
		e.Intervals = []Span{}
	}
	reply(w, r, http.StatusCreated, e, SaveException(r.Context(), a.pool(), officeOf(r).ID, e))
}

func (a *API) deleteException(w http.ResponseWriter, r *http.Request) {
	day, err := parseDay("day", chi.URLParam(r, "day"))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	tag, err := a.pool().Exec(r.Context(), `DELETE FROM opening_exceptions WHERE office_id = $1 AND day = $2`, officeOf(r).ID, day)
	if err != nil {
		web.WriteError(w, r, fmt.Errorf("scheduling: delete exception: %w", err))
		return
	}
	if tag.RowsAffected() == 0 {
		web.WriteError(w, r, web.NotFound("unknown_exception", "no exception on %s", day.Format(time.DateOnly)))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Holiday is a day the office is closed by law or custom.
type Holiday struct {
	Day  string `json:"day"`
	Name string `json:"name"`
	Kind string `json:"kind"` // "national" or "patron"
}

// Holidays lists the national holidays of a year and the office's patron-saint day.
func Holidays(o *ticketing.Office, year int) []Holiday {
	var out []Holiday
	for _, h := range ticketing.Holidays(year) {
		out = append(out, Holiday{h.Day.Format(time.DateOnly), h.Name, "national"})
	}
	if o.PatronDay != "" {
		if d, err := time.Parse("2006-01-02", fmt.Sprintf("%d-%s", year, o.PatronDay)); err == nil {
			out = append(out, Holiday{d.Format(time.DateOnly), "Santo patrono", "patron"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

func (a *API) holidays(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	year := o.LocalDay(a.now()).Year()
	if s := r.URL.Query().Get("year"); s != "" {
		if _, err := fmt.Sscanf(s, "%d", &year); err != nil || year < 1900 || year > 2200 {
			web.WriteError(w, r, web.InvalidField("year", "year must be a number between 1900 and 2200"))
			return
		}
	}
	web.JSON(w, http.StatusOK, Holidays(o, year))
}
