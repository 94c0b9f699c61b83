package insight

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/cron"
	"turno/internal/web"
	"turno/ticketing"
)

// OperatorSlotMinutes is the length of operator_time's slots: the shortest planning slot, so that every
// planning slot length (15, 30 or 60 minutes) adds up from whole rows.
const OperatorSlotMinutes = 15

// MaxLoopDays bounds the period of the operator-time, queue-length and planning reports: a year and a bit,
// like the statistics.
const MaxLoopDays = MaxStatsDays

// operatorRoutes mounts the reports of operator time, queue length over the day and the planning loop,
// for the office's managers and administrators.
func (h *Handler) operatorRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), h.Tickets.InOffice(ticketing.Managers))
		r.Method("GET", o+"/stats/operators", web.Endpoint(h.getOperatorTime))
		r.Method("GET", o+"/stats/queue", web.Endpoint(h.getQueueLength))
		r.Method("GET", o+"/stats/planning", web.Endpoint(h.getPlanningLoop))
	})
}

// loopQuery reads ?from= and ?to= as StatsQuery does and bounds the period to maxDays.
func loopQuery(r *http.Request, maxDays int) (Query, error) {
	q, err := StatsQuery(r, ticketing.OfficeOf(r))
	if err != nil {
		return q, err
	}
	if q.To.Before(q.From) {
		return q, web.InvalidField("to", "to must not be before from")
	}
	if days := int(q.To.Sub(q.From).Hours()/24) + 1; days > maxDays {
		return q, web.InvalidField("to", "the period may be at most %d days", maxDays)
	}
	return q, nil
}

func (h *Handler) getOperatorTime(r *http.Request) (int, any, error) {
	q, err := loopQuery(r, MaxLoopDays)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(h.Store.OperatorTime(r.Context(), q))
}

// OperatorFigures are operator time over some span: signed in to a desk, serving citizens, paused (in
// all and by reason), available (signed in and not paused) and the utilisation, serving ÷ available
// (docs/kpis.md, "Operator time"). Utilisation is null without available time.
type OperatorFigures struct {
	SignedInSeconds  float64            `json:"signed_in_seconds"`
	ServingSeconds   float64            `json:"serving_seconds"`
	PausedSeconds    float64            `json:"paused_seconds"`
	AvailableSeconds float64            `json:"available_seconds"`
	Utilisation      *float64           `json:"utilisation"`
	Paused           map[string]float64 `json:"paused"`
}

func (f *OperatorFigures) add(d *ticketing.DeskTime) {
	f.SignedInSeconds += d.SignedInSeconds
	f.ServingSeconds += d.ServingSeconds
	if f.Paused == nil {
		f.Paused = map[string]float64{}
	}
	for reason, secs := range d.Paused {
		f.Paused[reason] += secs
		f.PausedSeconds += secs
	}
}

// finish derives the available time and the utilisation and rounds the seconds.
func (f *OperatorFigures) finish() {
	if f.Paused == nil {
		f.Paused = map[string]float64{}
	}
	f.AvailableSeconds = max(f.SignedInSeconds-f.PausedSeconds, 0)
	if f.AvailableSeconds > 0 {
		u := math.Round(f.ServingSeconds/f.AvailableSeconds*10000) / 10000
		f.Utilisation = &u
	}
	for _, p := range []*float64{&f.SignedInSeconds, &f.ServingSeconds, &f.PausedSeconds, &f.AvailableSeconds} {
		*p = math.Round(*p)
	}
	for k, v := range f.Paused {
		f.Paused[k] = math.Round(v)
	}
}

// OperatorDay is the operator time of one local date.
type OperatorDay struct {
	Day string `json:"day"`
	OperatorFigures
}

// OperatorStaff is one staff member's operator time over the period. Staff 0 gathers the time whose
// operator is no longer known (anonymised after the office's retention period).
type OperatorStaff struct {
	StaffID int64  `json:"staff_id"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	OperatorFigures
}

// PauseTotal is the time paused for one reason over the period, and its share of all paused time (0–1).
type PauseTotal struct {
	Reason  string  `json:"reason"`
	Seconds float64 `json:"seconds"`
	Share   float64 `json:"share"`
}

// OperatorTime is the operator-time report of a period: totals per day and per pause reason, and per
// staff member only when the office shows staff figures individually (Aggregated false).
type OperatorTime struct {
	From       string          `json:"from"`
	To         string          `json:"to"`
	Aggregated bool            `json:"aggregated"`
	Days       []OperatorDay   `json:"days"`
	Pauses     []PauseTotal    `json:"pauses"`
	Totals     OperatorFigures `json:"totals"`
	Staff      []OperatorStaff `json:"staff,omitempty"`
}

// OperatorTime reports the operator time of q's office on the local dates q.From to q.To: one row per day
// with any time, the pause reasons, the totals, and, only when the office does not keep staff figures
// aggregated, one row per staff member. Callers must show it to the office's managers only. Past days
// come from the operator_time rollup; today, and days within the retention period the nightly job has
// not rolled up yet, are computed from the desk sessions.
func (s *Store) OperatorTime(ctx context.Context, q Query) (*OperatorTime, error) {
	o := q.Office
	rows, err := s.operatorSlots(ctx, o, q.From, q.To)
	if err != nil {
		return nil, err
	}
	out := &OperatorTime{From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly), Aggregated: o.StaffFiguresAggregated,
		Days: []OperatorDay{}, Pauses: []PauseTotal{}}
	byDay := map[time.Time]*OperatorFigures{}
	byStaff := map[int64]*OperatorFigures{}
	for i := range rows {
		d := &rows[i]
		if byDay[d.Day] == nil {
			byDay[d.Day] = &OperatorFigures{}
		}
		byDay[d.Day].add(d)
		out.Totals.add(d)
		if !o.StaffFiguresAggregated {
			if byStaff[d.StaffID] == nil {
				byStaff[d.StaffID] = &OperatorFigures{}
			}
			byStaff[d.StaffID].add(d)
		}
	}
	for _, day := range slices.SortedFunc(maps.Keys(byDay), time.Time.Compare) {
		f := byDay[day]
		f.finish()
		out.Days = append(out.Days, OperatorDay{Day: day.Format(time.DateOnly), OperatorFigures: *f})
	}
	for reason, secs := range out.Totals.Paused {
		p := PauseTotal{Reason: reason, Seconds: math.Round(secs)}
		if out.Totals.PausedSeconds > 0 {
			p.Share = math.Round(secs/out.Totals.PausedSeconds*10000) / 10000
		}
		out.Pauses = append(out.Pauses, p)
	}
	slices.SortFunc(out.Pauses, func(a, b PauseTotal) int {
		return cmp.Or(cmp.Compare(b.Seconds, a.Seconds), cmp.Compare(a.Reason, b.Reason))
	})
	out.Totals.finish()
	if o.StaffFiguresAggregated {
		return out, nil
	}
	staff, err := s.tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	names := map[int64]*ticketing.Staff{}
	for _, st := range staff {
		names[st.ID] = st
	}
	out.Staff = []OperatorStaff{}
	for id, f := range byStaff {
		f.finish()
		row := OperatorStaff{StaffID: id, OperatorFigures: *f}
		if st := names[id]; st != nil {
			row.Code, row.Name = st.Code, st.FullName
		}
		out.Staff = append(out.Staff, row)
	}
	slices.SortFunc(out.Staff, func(a, b OperatorStaff) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.StaffID, b.StaffID))
	})
	return out, nil
}

// operatorSlots returns the operator time of an office's local dates from to to in slots of
// OperatorSlotMinutes: the stored rollup, and the live figures of today and of the days within the
// retention period that have no stored rows.
func (s *Store) operatorSlots(ctx context.Context, o *ticketing.Office, from, to time.Time) ([]ticketing.DeskTime, error) {
	now := s.tickets.Now()
	today := o.LocalDay(now)
	rows, err := s.reports.Query(ctx, `SELECT local_day, slot, staff_id, signed_in_seconds, serving_seconds, paused
		FROM operator_time WHERE office_id = $1 AND local_day BETWEEN $2 AND $3 AND local_day < $4
		ORDER BY local_day, slot, staff_id`, o.ID, from, to, today)
	if err != nil {
		return nil, fmt.Errorf("insight: operator time: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ticketing.DeskTime, error) {
		var d ticketing.DeskTime
		var slot int16
		err := row.Scan(&d.Day, &slot, &d.StaffID, &d.SignedInSeconds, &d.ServingSeconds, &d.Paused)
		d.Slot = ticketing.TimeOfDay(slot)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("insight: operator time: %w", err)
	}
	stored := map[time.Time]bool{}
	for _, d := range out {
		stored[d.Day] = true
	}
	// Days whose desk sessions the purge may have removed keep what the rollup stored.
	liveFrom := latest(from, intactFrom(o, now))
	liveTo := earliest(to, today)
	for !liveFrom.After(liveTo) && stored[liveFrom] {
		liveFrom = liveFrom.AddDate(0, 0, 1)
	}
	if liveFrom.After(liveTo) {
		return out, nil
	}
	live, err := s.tickets.DeskTime(ctx, o, liveFrom, liveTo, OperatorSlotMinutes)
	if err != nil {
		return nil, err
	}
	for _, d := range live {
		if !stored[d.Day] {
			out = append(out, d)
		}
	}
	return out, nil
}

// intactFrom is the first local date whose desk sessions the nightly purge cannot have removed yet: it
// deletes sessions closed before now minus the retention period.
func intactFrom(o *ticketing.Office, now time.Time) time.Time {
	return o.LocalDay(now.AddDate(0, 0, -o.RetentionDays)).AddDate(0, 0, 1)
}

// RollUpOperatorTime stores an office's operator time of one local date in operator_time, replacing what
// was stored for that date, and returns the rows written. The desk sessions of the date must still be
// there (see OperatorTimeJob).
func (s *Store) RollUpOperatorTime(ctx context.Context, o *ticketing.Office, day time.Time) (int, error) {
	rows, err := s.tickets.DeskTime(ctx, o, day, day, OperatorSlotMinutes)
	if err != nil {
		return 0, err
	}
	n := len(rows)
	slots, staff := make([]int16, n), make([]int64, n)
	signed, serving := make([]float64, n), make([]float64, n)
	paused := make([]map[string]float64, n)
	for i, d := range rows {
		slots[i], staff[i], signed[i], serving[i], paused[i] = int16(d.Slot), d.StaffID, d.SignedInSeconds, d.ServingSeconds, d.Paused
		if paused[i] == nil {
			paused[i] = map[string]float64{}
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM operator_time WHERE office_id = $1 AND local_day = $2`, o.ID, day); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO operator_time (office_id, local_day, slot, staff_id, signed_in_seconds, serving_seconds, paused)
			SELECT $1, $2, * FROM unnest($3::smallint[], $4::bigint[], $5::float8[], $6::float8[], $7::jsonb[])`,
			o.ID, day, slots, staff, signed, serving, paused)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("insight: roll up operator time of office %d on %s: %w", o.ID, day.Format(time.DateOnly), err)
	}
	return n, nil
}

// rollUpDays is how many past days the nightly job rolls up again, so that a night it missed heals.
const rollUpDays = 7

// OperatorTimeJob rolls each office's operator time up into operator_time every night at 00:20 office
// time: yesterday, and the six days before it that the purge (03:15) cannot have touched, so that a missed
// night heals. It runs before the purge removes old desk sessions, so their figures outlive them.
func (s *Store) OperatorTimeJob() cron.Job {
	return cron.Job{Name: "operator-time", Spec: "20 0 * * *", Run: func(ctx context.Context, t cron.Target, at time.Time) (string, error) {
		o, err := s.tickets.OfficeByID(ctx, t.ID)
		if err != nil {
			return "", err
		}
		today, first := o.LocalDay(at), intactFrom(o, at)
		days, n := 0, 0
		for k := 1; k <= rollUpDays; k++ {
			day := today.AddDate(0, 0, -k)
			// Yesterday is intact at 00:20 whatever the retention: the last purge ran the night before.
			if k > 1 && day.Before(first) {
				break
			}
			rows, err := s.RollUpOperatorTime(ctx, o, day)
			if err != nil {
				return fmt.Sprintf("%d days rolled up", days), err
			}
			days, n = days+1, n+rows
		}
		return fmt.Sprintf("%d days rolled up, %d rows", days, n), nil
	}}
}

// PurgeOperatorStaff forgets which operator the operator time of the days before cutoff belongs to: it is
// personal data about workers, kept no longer than the desk sessions it comes from. The figures stay,
// added up under staff 0. It is a ticketing.PurgeStep and returns the rows changed.
func (s *Store) PurgeOperatorStaff(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
	o, err := s.tickets.OfficeByID(ctx, officeID)
	if err != nil {
		return 0, err
	}
	// Whole days only: the day of the cutoff keeps its staff until the next night.
	var n int64
	err = s.pool.QueryRow(ctx, `
		WITH gone AS (
			DELETE FROM operator_time WHERE office_id = $1 AND local_day < $2 AND staff_id <> 0
			RETURNING local_day, slot, signed_in_seconds, serving_seconds, paused
		), sums AS (
			SELECT local_day, slot, sum(signed_in_seconds) AS signed, sum(serving_seconds) AS serving
			FROM gone GROUP BY local_day, slot
		), pauses AS (
			SELECT local_day, slot, jsonb_object_agg(key, secs) AS paused
			FROM (SELECT local_day, slot, key, sum(value::float8) AS secs
			      FROM gone, jsonb_each_text(paused) GROUP BY local_day, slot, key) p
			GROUP BY local_day, slot
		), merged AS ( -- a data-modifying WITH runs to completion whether read or not
			INSERT INTO operator_time AS t (office_id, local_day, slot, staff_id, signed_in_seconds, serving_seconds, paused)
			SELECT $1, s.local_day, s.slot, 0, s.signed, s.serving, coalesce(p.paused, '{}')
			FROM sums s LEFT JOIN pauses p USING (local_day, slot)
			ON CONFLICT (office_id, local_day, slot, staff_id) DO UPDATE SET
				signed_in_seconds = t.signed_in_seconds + EXCLUDED.signed_in_seconds,
				serving_seconds = t.serving_seconds + EXCLUDED.serving_seconds,
				paused = (SELECT coalesce(jsonb_object_agg(key, secs), '{}') FROM (
					SELECT key, sum(value::float8) AS secs FROM (
						SELECT * FROM jsonb_each_text(t.paused) UNION ALL SELECT * FROM jsonb_each_text(EXCLUDED.paused)) x
					GROUP BY key) y)
		)
		SELECT count(*) FROM gone`, officeID, o.LocalDay(cutoff)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("insight: purge operator staff: %w", err)
	}
	return n, nil
}

// latest returns the latest of some times.
func latest(t time.Time, more ...time.Time) time.Time {
	for _, m := range more {
		if m.After(t) {
			t = m
		}
	}
	return t
}

// earliest returns the earliest of some times.
func earliest(t time.Time, more ...time.Time) time.Time {
	for _, m := range more {
		if m.Before(t) {
			t = m
		}
	}
	return t
}
