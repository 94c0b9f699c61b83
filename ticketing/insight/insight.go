// Package insight is what Turno knows about how its halls run: the record of every ended visit and the
// operator time that the KPIs of docs/kpis.md are computed from, the statistics API and the reports
// pages, citizen feedback, the per-agency accounting and its monthly statements, and network
// benchmarking across offices and installations.
//
// It owns the tables visits, visit_work, operator_time, feedback and benchmark_imports. Ticketing hands
// it each visit as it ends (ticketing.VisitRecorder), in the transaction that ends it, so the rollups are
// always up to date and no report scans the history of tickets.
package insight

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/ticketing"
)

// Store is the insight part on a PostgreSQL pool. Reports may read from a replica: Reports is the pool
// they query (the primary when no replica is configured).
type Store struct {
	pool    *pgxpool.Pool
	reports *pgxpool.Pool
	tickets *ticketing.Store
}

// NewStore returns a Store writing to pool and reading reports from reports (pool when nil).
func NewStore(pool, reports *pgxpool.Pool, tickets *ticketing.Store) *Store {
	if reports == nil {
		reports = pool
	}
	return &Store{pool: pool, reports: reports, tickets: tickets}
}

// report runs fn in a read-only transaction on the reports pool, with the memory a report's sorts need.
// Percentiles sort every visit of the period, and with PostgreSQL's default work_mem (4 MB) a year of one
// office spills to disk: measured on `turno bench stats` data, a year's daily report took 485 ms with the
// default and 102 ms with 64 MB. JIT is off because its compile time (about 30 ms) outweighs what it saves
// on queries of this size. SET LOCAL ends with the transaction, so the shared pool keeps its defaults.
func (s *Store) report(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.reports, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`); err != nil {
			return err
		}
		return fn(tx)
	})
}

// visitRow is a visit as the visits table keeps it: the figures docs/kpis.md defines, derived once.
type visitRow struct {
	wait, service *float64
	within        *bool
	transfers     int
	recalls       int
}

// derive computes a visit's figures. The wait runs from the first issue to the first call of the first
// segment (a recall does not move it, a transfer does not reset it); the service time adds up every
// segment an operator served; a visit counts towards the wait target when it was called, or when it left
// unserved after the target had passed.
func derive(v *ticketing.Visit) visitRow {
	var r visitRow
	first := v.First()
	r.transfers = len(v.Segments) - 1
	for _, s := range v.Segments {
		r.recalls += s.Recalls
		if s.StartedAt != nil {
			d := s.FinishedAt.Sub(*s.StartedAt).Seconds()
			if r.service == nil {
				r.service = new(float64)
			}
			*r.service += max(d, 0)
		}
	}
	target := time.Duration(v.TargetSeconds) * time.Second
	if first.FirstCalledAt != nil {
		w := first.FirstCalledAt.Sub(first.IssuedAt)
		secs := w.Seconds()
		in := w <= target
		r.wait, r.within = &secs, &in
	} else if v.Last().FinishedAt.Sub(first.IssuedAt) > target {
		r.within = new(bool)
	}
	return r
}

func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// RecordVisits writes the visits that just ended, and the operator work in each, in one statement inside
// the transaction that ended them. It implements ticketing.VisitRecorder.
func (s *Store) RecordVisits(ctx context.Context, tx pgx.Tx, visits []ticketing.Visit) error {
	if len(visits) == 0 {
		return nil
	}
	n := len(visits)
	var (
		last, first, office, service, agency, final = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		desk, staff                                 = make([]*int64, n), make([]*int64, n)
		day                                         = make([]time.Time, n)
		hour, weekday, transfers, recalls, target   = make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n), make([]int32, n)
		outcome                                     = make([]string, n)
		priority, appointment, handedOff            = make([]bool, n), make([]bool, n), make([]bool, n)
		issued, finished                            = make([]time.Time, n), make([]time.Time, n)
		called                                      = make([]*time.Time, n)
		wait, service2                              = make([]*float64, n), make([]*float64, n)
		within                                      = make([]*bool, n)
	)
	var (
		wTicket, wLast, wOffice, wService, wAgency []int64
		wDesk, wStaff                              []*int64
		wDay, wStarted                             []time.Time
		wSeconds                                   []float64
	)
	for i := range visits {
		v := &visits[i]
		f, l := v.First(), v.Last()
		r := derive(v)
		last[i], first[i], office[i], service[i], agency[i], final[i] = l.TicketID, f.TicketID, v.OfficeID, f.ServiceID, f.AgencyID, l.ServiceID
		desk[i], staff[i] = nullID(f.DeskID), nullID(f.StaffID)
		day[i], hour[i], weekday[i] = v.LocalDay, int32(v.LocalHour), int32(v.Weekday)
		transfers[i], recalls[i], target[i] = int32(r.transfers), int32(r.recalls), int32(v.TargetSeconds)
		outcome[i], priority[i], appointment[i], handedOff[i] = string(v.Outcome), v.Priority, v.Appointment, v.HandedOff
		issued[i], finished[i], called[i] = f.IssuedAt, l.FinishedAt, f.FirstCalledAt
		wait[i], service2[i], within[i] = r.wait, r.service, r.within
		for _, sg := range v.Segments {
			if sg.StartedAt == nil {
				continue
			}
			wTicket, wLast, wOffice = append(wTicket, sg.TicketID), append(wLast, l.TicketID), append(wOffice, v.OfficeID)
			wService, wAgency = append(wService, sg.ServiceID), append(wAgency, sg.AgencyID)
			wDesk, wStaff = append(wDesk, nullID(sg.DeskID)), append(wStaff, nullID(sg.StaffID))
			wDay, wStarted = append(wDay, sg.StartDay), append(wStarted, *sg.StartedAt)
			wSeconds = append(wSeconds, max(sg.FinishedAt.Sub(*sg.StartedAt).Seconds(), 0))
		}
	}
	_, err := tx.Exec(ctx, `
		WITH v AS (
			INSERT INTO visits (last_ticket_id, first_ticket_id, office_id, local_day, local_hour, weekday, service_id,
				agency_id, final_service_id, desk_id, staff_id, outcome, transfers, recalls, priority, appointment,
				issued_at, first_called_at, finished_at, wait_seconds, service_seconds, target_seconds, within_target, handed_off)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::date[], $5::smallint[], $6::smallint[],
				$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::text[], $13::smallint[],
				$14::int[], $15::bool[], $16::bool[], $17::timestamptz[], $18::timestamptz[], $19::timestamptz[],
				$20::float8[], $21::float8[], $22::int[], $23::bool[], $34::bool[])
			RETURNING last_ticket_id
		)
		INSERT INTO visit_work (ticket_id, last_ticket_id, office_id, local_day, service_id, agency_id, desk_id, staff_id,
			started_at, seconds)
		SELECT * FROM unnest($24::bigint[], $25::bigint[], $26::bigint[], $27::date[], $28::bigint[], $29::bigint[],
			$30::bigint[], $31::bigint[], $32::timestamptz[], $33::float8[])`,
		last, first, office, day, hour, weekday, service, agency, final, desk, staff, outcome, transfers, recalls,
		priority, appointment, issued, called, finished, wait, service2, target, within,
		wTicket, wLast, wOffice, wDay, wService, wAgency, wDesk, wStaff, wStarted, wSeconds, handedOff)
	if err != nil {
		return fmt.Errorf("insight: record %d visits: %w", n, err)
	}
	return nil
}
