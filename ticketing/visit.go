package ticketing

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Visit is one citizen's visit as it ended: the ticket issued at the kiosk and the tickets it became through
// transfers, oldest first. Ticketing hands it to its VisitRecorder in the transaction that ends the visit;
// what the reports make of it (wait, service time, share within target) is defined by the recorder and
// docs/kpis.md.
type Visit struct {
	OfficeID int64
	// LocalDay, LocalHour and Weekday (ISO, 1 = Monday) place the first issue in the office's time zone.
	LocalDay  time.Time
	LocalHour int
	Weekday   int
	// Outcome is how the last segment ended: done, no_show, cancelled or expired.
	Outcome     Status
	Priority    bool
	Appointment bool
	// HandedOff is true when an operator booked a back-office appointment for the citizen during the
	// visit (a segment's ticket was handed off; see handoff.go).
	HandedOff bool
	// TargetSeconds is the first service's wait target when the visit ended.
	TargetSeconds int
	Segments      []VisitSegment
}

// VisitSegment is one ticket of a visit: its time in one service's queue and at one desk.
type VisitSegment struct {
	TicketID  int64
	ServiceID int64
	AgencyID  int64
	DeskID    int64 // 0: never called
	StaffID   int64 // 0: never called, or anonymised
	Status    Status
	IssuedAt  time.Time // the visit's first issue time, kept across transfers
	QueuedAt  time.Time // when this segment entered its service's queue
	// FirstCalledAt is the segment's first call: a recall moves called_at but not this.
	FirstCalledAt *time.Time
	StartedAt     *time.Time
	FinishedAt    time.Time
	// StartDay is the office's local date of StartedAt (zero when never started).
	StartDay time.Time
	Recalls  int
}

// First is the segment the citizen was issued at the kiosk; Last is the one that ended the visit.
func (v *Visit) First() *VisitSegment { return &v.Segments[0] }

// Last is the segment that ended the visit.
func (v *Visit) Last() *VisitSegment { return &v.Segments[len(v.Segments)-1] }

// VisitRecorder keeps the record of ended visits that reports read. It runs inside the transaction that
// ends the visit, so a visit is recorded exactly when it ends; cmd/turno wires the insight store.
type VisitRecorder interface {
	RecordVisits(ctx context.Context, tx pgx.Tx, visits []Visit) error
}

// visitSQL reads the visits ended by the tickets $1 (their last tickets), one row per segment, each
// visit's segments oldest first.
const visitSQL = `
WITH RECURSIVE chain AS (
	SELECT t.id AS last_id, t.id, t.transferred_from, 0 AS depth FROM tickets t WHERE t.id = ANY($1)
	UNION ALL
	SELECT c.last_id, p.id, p.transferred_from, c.depth + 1
	FROM chain c JOIN tickets p ON p.id = c.transferred_from WHERE c.depth < 50
)
SELECT c.last_id, t.office_id, t.id, t.service_id, s.agency_id, coalesce(t.desk_id, 0), coalesce(t.staff_id, 0), t.status,
	t.issued_at, t.queued_at, t.first_called_at, t.started_at, t.finished_at, t.recalls,
	t.priority_id IS NOT NULL, t.appointment_at IS NOT NULL, s.wait_target_seconds,
	(t.issued_at AT TIME ZONE o.time_zone)::date, extract(hour FROM t.issued_at AT TIME ZONE o.time_zone)::int,
	extract(isodow FROM t.issued_at AT TIME ZONE o.time_zone)::int,
	coalesce((t.started_at AT TIME ZONE o.time_zone)::date, '0001-01-01'), t.handed_off
FROM chain c JOIN tickets t ON t.id = c.id JOIN services s ON s.id = t.service_id JOIN offices o ON o.id = t.office_id
ORDER BY c.last_id, c.depth DESC`

// visits reads the visits that the tickets lastIDs ended.
func visits(ctx context.Context, tx pgx.Tx, lastIDs []int64) ([]Visit, error) {
	rows, err := tx.Query(ctx, visitSQL, lastIDs)
	if err != nil {
		return nil, fmt.Errorf("ticketing: read visits: %w", err)
	}
	defer rows.Close()
	var out []Visit
	var cur int64
	for rows.Next() {
		var last int64
		var seg VisitSegment
		var v Visit
		var handedOff bool
		if err := rows.Scan(&last, &v.OfficeID, &seg.TicketID, &seg.ServiceID, &seg.AgencyID, &seg.DeskID, &seg.StaffID, &seg.Status,
			&seg.IssuedAt, &seg.QueuedAt, &seg.FirstCalledAt, &seg.StartedAt, &seg.FinishedAt, &seg.Recalls,
			&v.Priority, &v.Appointment, &v.TargetSeconds, &v.LocalDay, &v.LocalHour, &v.Weekday, &seg.StartDay, &handedOff); err != nil {
			return nil, fmt.Errorf("ticketing: read visits: %w", err)
		}
		if seg.StartedAt == nil {
			seg.StartDay = time.Time{}
		}
		if len(out) == 0 || last != cur {
			cur = last
			out = append(out, v) // the first segment's row sets the visit's fields
		}
		out[len(out)-1].Segments = append(out[len(out)-1].Segments, seg)
		out[len(out)-1].HandedOff = out[len(out)-1].HandedOff || handedOff
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: read visits: %w", err)
	}
	for i := range out {
		out[i].Outcome = out[i].Last().Status
	}
	return out, nil
}

// recordVisits hands the visits ended by the tickets lastIDs to the recorder, inside tx.
func (s *Store) recordVisits(ctx context.Context, tx pgx.Tx, lastIDs ...int64) error {
	if s.Visits == nil || len(lastIDs) == 0 {
		return nil
	}
	vs, err := visits(ctx, tx, lastIDs)
	if err != nil {
		return err
	}
	return s.Visits.RecordVisits(ctx, tx, vs)
}

// ended reports whether a ticket in status st has ended its visit (a transfer continues it).
func ended(st Status) bool {
	return st == Done || st == NoShow || st == Cancelled || st == Expired
}
