package ticketing

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Observer is told of every ticket event once, on the node that made it, after the transaction that made
// it has committed: a rolled-back action is never counted, and an event is counted by one node only, so
// counters summed over the nodes are right. cmd/turno sets Store.Observer to the Prometheus metrics.
// Observe runs on the ticket's path: it must not block, and it cannot fail the action.
type Observer interface {
	Observe(ObservedEvent)
}

// ObservedEvent is a ticket event as an Observer sees it: no code, no number, nothing about the citizen.
type ObservedEvent struct {
	OfficeID int64
	Service  string // the ticket's service code
	Type     EventType
	// Wait is set for EventCalled: the time from the first issue of the ticket (kept across transfers) to
	// this call.
	Wait time.Duration
}

// observingTx is a transaction whose ticket events are noted for the Observer (ticketEvent notes them).
type observingTx struct {
	pgx.Tx
	pending []ObservedEvent
}

// observedTx runs fn in a transaction, as pgx.BeginFunc does, and once it has committed hands the ticket
// events it wrote to the Observer.
func (s *Store) observedTx(ctx context.Context, fn func(pgx.Tx) error) error {
	if s.Observer == nil {
		return pgx.BeginFunc(ctx, s.pool, fn)
	}
	var otx *observingTx
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		otx = &observingTx{Tx: tx}
		return fn(otx)
	})
	if err != nil {
		return err
	}
	s.observe(otx.pending)
	return nil
}

// observe hands events to the Observer; a panic in it is logged, never passed on to the ticket's caller.
func (s *Store) observe(events []ObservedEvent) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("ticketing: observer failed", "panic", fmt.Sprint(p))
		}
	}()
	for _, e := range events {
		s.Observer.Observe(e)
	}
}

// noteEvent remembers a ticket event for the Observer when tx runs under observedTx.
func noteEvent(tx pgx.Tx, typ EventType, t *Ticket) {
	otx, ok := tx.(*observingTx)
	if !ok {
		return
	}
	e := ObservedEvent{OfficeID: t.OfficeID, Service: t.Service, Type: typ}
	if typ == EventCalled && t.CalledAt != nil {
		e.Wait = t.CalledAt.Sub(t.IssuedAt)
	}
	otx.pending = append(otx.pending, e)
}

// WaitingLine is how many tickets wait for one service of one office, for the metrics.
type WaitingLine struct {
	Office  string // slug
	Service string // code
	Waiting int
	// OldestWait is how long the longest-waiting ticket has waited since its first issue.
	OldestWait time.Duration
}

// WaitingLines returns, for every office and service with waiting tickets, how many wait and since when.
// It reads the partial index of waiting tickets, so it costs about the size of the queues, not of the
// history; the metrics call it at each scrape.
func (s *Store) WaitingLines(ctx context.Context) ([]WaitingLine, error) {
	now := s.now()
	rows, err := s.pool.Query(ctx, `
		SELECT o.slug, s.code, count(*)::int, min(t.issued_at)
		FROM tickets t JOIN services s ON s.id = t.service_id JOIN offices o ON o.id = t.office_id
		WHERE t.status = 'waiting'
		GROUP BY o.slug, s.code ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("ticketing: waiting lines: %w", err)
	}
	return collect(rows, func(row pgx.Row) (WaitingLine, error) {
		var l WaitingLine
		var oldest time.Time
		err := row.Scan(&l.Office, &l.Service, &l.Waiting, &oldest)
		l.OldestWait = max(now.Sub(oldest), 0)
		return l, err
	})
}

// OfficeSlugs returns every office's slug by id; the metrics label observed events with it.
func (s *Store) OfficeSlugs(ctx context.Context) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, slug FROM offices`)
	if err != nil {
		return nil, fmt.Errorf("ticketing: office slugs: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var slug string
		if err := rows.Scan(&id, &slug); err != nil {
			return nil, fmt.Errorf("ticketing: office slugs: %w", err)
		}
		out[id] = slug
	}
	return out, rows.Err()
}
