package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ArrivalCount is how many tickets entered the queues of one skill group in one slot of one local date.
type ArrivalCount struct {
	Day   time.Time // local date at UTC midnight
	Slot  TimeOfDay // the slot's start
	Group string    // the services' category
	N     int
}

// ArrivalCounts counts an office's arrivals in [from, to) per local date, slot of slotMinutes and skill
// group. An arrival is a ticket entering a service's queue (a transfer is an arrival in its new queue);
// cancelled tickets and no-shows needed no service and are left out, and so are appointments' tickets:
// bookings are known demand of their own (scheduling/plan), so the forecast learns the walk-ins alone. It
// is the history the demand forecast learns from.
func (s *Store) ArrivalCounts(ctx context.Context, o *Office, from, to time.Time, slotMinutes int) ([]ArrivalCount, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT (t.queued_at AT TIME ZONE $2)::date,
		       (floor(extract(epoch FROM (t.queued_at AT TIME ZONE $2)::time) / $5) * $5 / 60)::int,
		       s.category, count(*)::int
		FROM tickets t JOIN services s ON s.id = t.service_id
		WHERE t.office_id = $1 AND t.queued_at >= $3 AND t.queued_at < $4 AND t.status NOT IN ('cancelled', 'no_show')
		  AND t.appointment_at IS NULL
		GROUP BY 1, 2, 3`, o.ID, o.TimeZone, from, to, slotMinutes*60)
	if err != nil {
		return nil, fmt.Errorf("ticketing: arrivals of office %d: %w", o.ID, err)
	}
	return collect(rows, func(row pgx.Row) (ArrivalCount, error) {
		var c ArrivalCount
		err := row.Scan(&c.Day, &c.Slot, &c.Group, &c.N)
		return c, err
	})
}

// HandlingTimes returns the mean served time (start to finish, in seconds) of each skill group's tickets
// that entered a queue in [from, to), for the groups that have any.
func (s *Store) HandlingTimes(ctx context.Context, officeID int64, from, to time.Time) (map[string]float64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT s.category, avg(extract(epoch FROM t.finished_at - t.started_at))::float8
		FROM tickets t JOIN services s ON s.id = t.service_id
		WHERE t.office_id = $1 AND t.queued_at >= $2 AND t.queued_at < $3 AND t.status = 'done'
		  AND t.finished_at > t.started_at
		GROUP BY 1`, officeID, from, to)
	if err != nil {
		return nil, fmt.Errorf("ticketing: handling times of office %d: %w", officeID, err)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var g string
		var secs float64
		if err := rows.Scan(&g, &secs); err != nil {
			return nil, fmt.Errorf("ticketing: handling times: %w", err)
		}
		out[g] = secs
	}
	return out, rows.Err()
}

// TicketDays returns the local dates in [from, to) on which an office has tickets.
func (s *Store) TicketDays(ctx context.Context, officeID int64, from, to time.Time) (map[time.Time]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT local_day FROM tickets WHERE office_id = $1 AND local_day >= $2 AND local_day < $3`,
		officeID, from, to)
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket days: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket days: %w", err)
	}
	out := make(map[time.Time]bool, len(days))
	for _, d := range days {
		out[d] = true
	}
	return out, nil
}

// PastTicket is a finished ticket of an office's history, for ImportHistory.
type PastTicket struct {
	Service    *Service
	Number     int       // the day's sequence number of the service's prefix
	Day        time.Time // the office's local date
	Status     Status    // done, no_show, cancelled, expired, or transferred (a later ticket continues it)
	Lang       string
	IssuedAt   time.Time  // the visit's first issue, the same on every ticket of a transferred visit
	QueuedAt   time.Time  // when it entered its service's queue; zero: IssuedAt
	CalledAt   time.Time  // zero: never called (cancelled, expired)
	StartedAt  *time.Time // nil: never served
	FinishedAt time.Time
	DeskID     int64 // 0: none
	StaffID    int64 // 0: none
	Recalls    int
	// Continues is 1 + the index, in the same import, of the transferred ticket this one continues; 0: it
	// was issued at the kiosk.
	Continues int
}

// ImportHistory writes finished tickets of past days in one transaction, with new public codes and no
// events (the event log is about the live hall), and records their visits as the live hall would. It is how
// the demo gets its history; the day counters are left alone, so it must not be given today's tickets.
func (s *Store) ImportHistory(ctx context.Context, officeID int64, past []PastTicket) error {
	if len(past) == 0 {
		return nil
	}
	nullable := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	orNil := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	// A transfer's continuation reuses the number, which only a row with transferred_from may: tickets are
	// written in waves, each wave continuing tickets of the one before.
	codes := make([]string, len(past))
	wave := make([]int, len(past))
	var waves [][]int
	for i, t := range past {
		if st := t.Status; !ended(st) && st != Transferred {
			return fmt.Errorf("ticketing: import history: a past ticket has ended, it is not %s", st)
		}
		if c := t.Continues; c < 0 || c > i || c > 0 && past[c-1].Status != Transferred {
			return fmt.Errorf("ticketing: import history: ticket %d continues %d, which is not a transfer before it", i, c-1)
		}
		codes[i] = newCode()
		if t.Continues > 0 {
			wave[i] = wave[t.Continues-1] + 1
		}
		if wave[i] == len(waves) {
			waves = append(waves, nil)
		}
		waves[wave[i]] = append(waves[wave[i]], i)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ids := map[string]int64{}
		for _, idx := range waves {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"tickets"},
				[]string{"office_id", "service_id", "code", "prefix", "number", "label", "local_day", "status", "lang",
					"issued_at", "queued_at", "called_at", "first_called_at", "started_at", "finished_at", "desk_id", "staff_id",
					"recalls", "transferred_from"},
				pgx.CopyFromSlice(len(idx), func(k int) ([]any, error) {
					i := idx[k]
					t := past[i]
					queued := t.QueuedAt
					if queued.IsZero() {
						queued = t.IssuedAt
					}
					var from any
					if t.Continues > 0 {
						from = ids[codes[t.Continues-1]]
					}
					return []any{officeID, t.Service.ID, codes[i], t.Service.Prefix, t.Number, Label(t.Service.Prefix, t.Number),
						t.Day, t.Status, t.Lang, t.IssuedAt, queued, orNil(t.CalledAt), orNil(t.CalledAt), t.StartedAt, t.FinishedAt,
						nullable(t.DeskID), nullable(t.StaffID), t.Recalls, from}, nil
				}))
			if err != nil {
				return fmt.Errorf("ticketing: import history: %w", err)
			}
			if len(waves) == 1 && s.Visits == nil {
				return nil
			}
			waveCodes := make([]string, len(idx))
			for k, i := range idx {
				waveCodes[k] = codes[i]
			}
			rows, err := tx.Query(ctx, `SELECT code, id FROM tickets WHERE code = ANY($1)`, waveCodes)
			if err != nil {
				return fmt.Errorf("ticketing: import history: %w", err)
			}
			var code string
			var id int64
			if _, err := pgx.ForEachRow(rows, []any{&code, &id}, func() error { ids[code] = id; return nil }); err != nil {
				return fmt.Errorf("ticketing: import history: %w", err)
			}
		}
		if len(waves) > 1 {
			if _, err := tx.Exec(ctx, `UPDATE tickets f SET transferred_to = n.id FROM tickets n
				WHERE n.transferred_from = f.id AND n.code = ANY($1)`, codes); err != nil {
				return fmt.Errorf("ticketing: import history: transfers: %w", err)
			}
		}
		if s.Visits == nil {
			return nil
		}
		var last []int64
		for i, t := range past {
			if t.Status != Transferred {
				last = append(last, ids[codes[i]])
			}
		}
		return s.recordVisits(ctx, tx, last...)
	})
}

// TicketChain returns the ids of the ticket with a public code and of the tickets it became through
// transfers: what the holder of the code may follow.
func (s *Store) TicketChain(ctx context.Context, code string) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `
		WITH RECURSIVE chain(id, next, depth) AS (
			SELECT id, transferred_to, 0 FROM tickets WHERE code = $1
			UNION ALL
			SELECT t.id, t.transferred_to, c.depth + 1 FROM tickets t JOIN chain c ON t.id = c.next WHERE c.depth < 20
		) SELECT id FROM chain`, code)
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket chain: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("ticketing: ticket chain: %w", err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}
