package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/cron"
	"turno/ticketing/insight"
)

// NoShowJob marks, every five minutes in each office, the bookings still booked whose check-in window
// has ended as no-shows: their places count as missed in the reports, and the citizen who comes later
// the same day is a late arrival (see CheckIn).
func (s *Store) NoShowJob() cron.Job {
	return cron.Job{Name: "booking-no-show", Spec: "*/5 * * * *", Run: func(ctx context.Context, t cron.Target, _ time.Time) (string, error) {
		// The clock, not the scheduled time: a run that starts late still marks everything overdue now.
		n, err := s.MarkNoShows(ctx, t.ID, s.now())
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d bookings marked no-show", n), nil
	}}
}

// MarkNoShows marks as no-shows the bookings of an office still booked at now whose late window (the
// slot's start plus the service's late minutes) ended before now, and returns how many it marked.
func (s *Store) MarkNoShows(ctx context.Context, officeID int64, now time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE bookings b SET status = 'no_show'
			WHERE b.office_id = $1 AND b.status = 'booked'
			  AND b.starts_at + make_interval(mins => coalesce(
			      (SELECT r.late_minutes FROM booking_rules r WHERE r.service_id = b.service_id), 15)) < $2`,
			officeID, now)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("booking: mark no-shows: %w", err)
	}
	return n, nil
}

var _ insight.Appointments = (*Store)(nil)

// AppointmentDays counts an office's appointments of each local day from from to to (dates, both
// included) by what became of them, for the reports (insight.Appointments); serviceIDs, when not nil,
// keeps only those services' appointments. A day is the slot's, in the office's time zone; days without
// appointments are left out.
func (s *Store) AppointmentDays(ctx context.Context, officeID int64, from, to time.Time, serviceIDs []int64) ([]insight.AppointmentFigures, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT to_char((b.starts_at AT TIME ZONE o.time_zone)::date, 'YYYY-MM-DD') AS day,
			count(*) FILTER (WHERE b.status <> 'cancelled'),
			count(*) FILTER (WHERE b.status = 'checked_in'),
			count(*) FILTER (WHERE b.status = 'checked_in'
				AND b.checked_in_at > b.starts_at + make_interval(mins => coalesce(r.late_minutes, 15))),
			count(*) FILTER (WHERE b.status = 'no_show'),
			count(*) FILTER (WHERE b.status = 'cancelled'),
			count(*) FILTER (WHERE b.status = 'booked')
		FROM bookings b JOIN offices o ON o.id = b.office_id LEFT JOIN booking_rules r ON r.service_id = b.service_id
		WHERE b.office_id = $1
		  AND (b.starts_at AT TIME ZONE o.time_zone)::date BETWEEN $2::date AND $3::date
		  AND ($4::bigint[] IS NULL OR b.service_id = ANY ($4))
		GROUP BY day ORDER BY day`, officeID, from, to, serviceIDs)
	if err != nil {
		return nil, fmt.Errorf("booking: appointment figures: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (insight.AppointmentFigures, error) {
		var f insight.AppointmentFigures
		err := row.Scan(&f.Day, &f.Booked, &f.CheckedIn, &f.Late, &f.NoShow, &f.Cancelled, &f.Pending)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("booking: appointment figures: %w", err)
	}
	return out, nil
}
