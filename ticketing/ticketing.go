// Package ticketing is the core of Turno: offices and their catalogue (agencies, services, desks, priority
// categories), staff and skills, the calendar (opening hours, exceptions, holidays, the patron day),
// tickets and their lifecycle, the call-next policy, and the office event log every change appends to.
//
// It is the only writer of those tables, and it serves their JSON API (the desk and ticket actions and the
// manager's office-setup API) and pages (the desk, and the /manage pages of the catalogue, staff and
// skills, and opening hours). It knows nothing of WebSockets: it writes events and NOTIFYs, and the
// displays package reads them through Events. Other parts reach this data only through Store's methods.
package ticketing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
)

// Store is the ticketing core on a PostgreSQL pool.
type Store struct {
	pool *pgxpool.Pool
	// Now is the clock; tests replace it to place tickets in time.
	Now func() time.Time
	// Outlook, when set, is the published roster's staff for the coming hours: wait estimates use it while
	// no desk is open (estimate.go). cmd/turno sets it to the roster planner.
	Outlook StaffOutlook
	// Visits, when set, records every visit as it ends, in the same transaction (visit.go). cmd/turno sets
	// it to the insight store, which owns the reports' rollups.
	Visits VisitRecorder
	// Observer, when set, is told of every ticket event after it has committed (observe.go). cmd/turno
	// sets it to the Prometheus metrics.
	Observer Observer
	// Closures, when set, is told of a day the office closes by an exception (calendar.go). cmd/turno sets
	// it to the bookings, which cancels that day's appointments.
	Closures ClosureHook
	// WalkIns, when set, names the services that take appointments only (the back office's): no walk-in
	// ticket is issued for them, and the kiosks do not offer them. cmd/turno sets it to the booking store.
	WalkIns WalkInPolicy
}

// NewStore returns a Store on pool with the real clock.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Now: time.Now}
}

func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

// queryer is a pool or a transaction.
type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// collect scans every row with scan.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{} // an empty list is [] in JSON, not null
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("ticketing: scan: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: rows: %w", err)
	}
	return out, nil
}

// dbError turns constraint violations into 4xx *web.Error values and wraps everything else.
func dbError(err error, what string) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return web.Conflict("duplicate", "%s: %s already exists", what, pgErr.ConstraintName)
		case "23514", "22P02", "23502":
			return web.Invalid("invalid", "%s: %s", what, pgErr.Message)
		case "23503":
			return web.Invalid("invalid_reference", "%s: refers to something that does not exist", what)
		}
	}
	var we *web.Error
	if errors.As(err, &we) {
		return err
	}
	return fmt.Errorf("ticketing: %s: %w", what, err)
}
