package insight

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// QueueStepMinutes is the spacing of the points of the day at which the queue is counted.
const QueueStepMinutes = 15

// QueuePoint is the queue at one time of the local day over a period: the mean and the largest number of
// people waiting at that time, over the days counted.
type QueuePoint struct {
	Time        string  `json:"time"` // "HH:MM", the office's wall clock
	MeanWaiting float64 `json:"mean_waiting"`
	MaxWaiting  int     `json:"max_waiting"`
}

// QueueLength is the queue length over the day of a period (docs/kpis.md, "Queue length"): one point
// every QueueStepMinutes from the earliest opening to the latest closing of the period (and wherever
// someone waited outside them), averaged over Days days: those on which the office was open or had visits.
type QueueLength struct {
	From        string       `json:"from"`
	To          string       `json:"to"`
	StepMinutes int          `json:"step_minutes"`
	Days        int          `json:"days"`
	Rows        []QueuePoint `json:"rows"`
}

func (h *Handler) getQueueLength(r *http.Request) (int, any, error) {
	q, err := loopQuery(r, MaxLoopDays)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(h.Store.QueueLength(r.Context(), q))
}

// QueueLength counts, at every point of QueueStepMinutes of each local date of q's period, the people who
// had taken a ticket and were not called yet (issued_at ≤ t < first call, or < the end of a visit never
// called), from the visits rollup, and reports per time of day their mean over the days counted and their
// maximum. Only visits that have ended are recorded, so today's figures leave out who is still queuing.
//
// Points are instants: local midnight plus k steps, named by their wall-clock time, so a daylight-saving
// day has 92 or 100 of them. The hour that repeats in autumn gives two points with the same name, whose
// counts that day are averaged (mean) and compared (maximum); the hour skipped in spring has none.
func (s *Store) QueueLength(ctx context.Context, q Query) (*QueueLength, error) {
	o := q.Office
	loc := o.Location()
	step := time.Duration(QueueStepMinutes) * time.Minute
	var days []time.Time
	var mids []time.Time
	var points []int32
	for d := q.From; !d.After(q.To); d = d.AddDate(0, 0, 1) {
		m, next := o.Midnight(d), o.Midnight(d.AddDate(0, 0, 1))
		days, mids, points = append(days, d), append(mids, m), append(points, int32(next.Sub(m)/step))
	}
	rows, err := s.reports.Query(ctx, `
		WITH d AS (SELECT * FROM unnest($2::date[], $3::timestamptz[], $4::int[]) AS d(day, midnight, points))
		SELECT v.local_day, i, count(*)::int
		FROM visits v JOIN d ON d.day = v.local_day,
		LATERAL generate_series(
			greatest(ceil(extract(epoch FROM v.issued_at - d.midnight) / $7)::int, 0),
			least(ceil(extract(epoch FROM coalesce(v.first_called_at, v.finished_at) - d.midnight) / $7)::int - 1, d.points - 1)) i
		WHERE v.office_id = $1 AND v.local_day BETWEEN $5 AND $6
		GROUP BY 1, 2`, o.ID, days, mids, points, q.From, q.To, QueueStepMinutes*60)
	if err != nil {
		return nil, fmt.Errorf("insight: queue length: %w", err)
	}
	type cell struct {
		day time.Time
		i   int
		n   int
	}
	cells, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (cell, error) {
		var c cell
		err := row.Scan(&c.day, &c.i, &c.n)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("insight: queue length: %w", err)
	}
	cal, err := s.tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	counts := map[time.Time]map[int]int{} // day → point index → waiting
	for _, c := range cells {
		if counts[c.day] == nil {
			counts[c.day] = map[int]int{}
		}
		counts[c.day][c.i] = c.n
	}
	type acc struct {
		sum  float64
		max  int
		show bool
	}
	byTime := map[ticketing.TimeOfDay]*acc{}
	at := func(t ticketing.TimeOfDay) *acc {
		if byTime[t] == nil {
			byTime[t] = &acc{}
		}
		return byTime[t]
	}
	counted := 0
	for k, d := range days {
		ivs := cal.Intervals(d)
		if len(ivs) == 0 && counts[d] == nil {
			continue // closed, and nobody came
		}
		counted++
		// The day's value at each time of day: the mean of the points with that name (two in the repeated hour).
		type val struct {
			sum     float64
			n, most int
		}
		vals := map[ticketing.TimeOfDay]*val{}
		for i := range int(points[k]) {
			t := ticketing.TimeOfDayOf(mids[k].Add(time.Duration(i)*step), loc)
			v := vals[t]
			if v == nil {
				v = &val{}
				vals[t] = v
			}
			n := counts[d][i]
			v.sum, v.n, v.most = v.sum+float64(n), v.n+1, max(v.most, n)
			open := slices.ContainsFunc(ivs, func(iv ticketing.Interval) bool { return iv.Opens <= t && t < iv.Closes })
			if open || n > 0 {
				at(t).show = true
			}
		}
		for t, v := range vals {
			a := at(t)
			a.sum += v.sum / float64(v.n)
			a.max = max(a.max, v.most)
		}
	}
	out := &QueueLength{From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly), StepMinutes: QueueStepMinutes,
		Days: counted, Rows: []QueuePoint{}}
	var shown []ticketing.TimeOfDay
	for t, a := range byTime {
		if a.show {
			shown = append(shown, t)
		}
	}
	if len(shown) == 0 {
		return out, nil
	}
	slices.Sort(shown)
	// Every point from the first to the last shown, so a chart's axis has no holes.
	for t := shown[0]; t <= shown[len(shown)-1]; t += QueueStepMinutes {
		p := QueuePoint{Time: t.String()}
		if a := byTime[t]; a != nil && counted > 0 {
			p.MeanWaiting = math.Round(a.sum/float64(counted)*100) / 100
			p.MaxWaiting = a.max
		}
		out.Rows = append(out.Rows, p)
	}
	return out, nil
}
