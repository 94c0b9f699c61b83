package booking

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/cron"
)

// reminderSpec runs the reminders every five minutes: a reminder goes out at most five minutes after its
// time (24 or 2 hours before the appointment by default).
const reminderSpec = "*/5 * * * *"

// ReminderJob is the cron job that reminds citizens of their appointments, for each office at the hours
// before the start its booking settings give (Settings.ReminderHours).
func (s *Store) ReminderJob() cron.Job {
	return cron.Job{Name: "booking-reminders", Spec: reminderSpec, Run: func(ctx context.Context, t cron.Target, _ time.Time) (string, error) {
		n, err := s.SendReminders(ctx, t.ID)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%d reminders enqueued", n), nil
	}}
}

// SendReminders enqueues the reminders that are due in an office now and returns how many were new. A
// reminder of h hours is due for a booking still waiting for its citizen, with an e-mail address or a
// phone number, once its start less h hours has passed and while its start is ahead; a booking made after
// that time is not reminded (its confirmation has just told it all), and of several due at once only the
// latest is sent. Each reminder is sent once per booking, start, hour and channel, however often the job
// runs and on however many nodes.
func (s *Store) SendReminders(ctx context.Context, officeID int64) (int, error) {
	if s.Outbox == nil {
		return 0, nil
	}
	st, err := s.SettingsOf(ctx, officeID)
	if err != nil {
		return 0, err
	}
	if len(st.ReminderHours) == 0 {
		return 0, nil
	}
	now := s.now()
	longest := slices.Max(st.ReminderHours)
	rows, err := s.pool.Query(ctx, `SELECT `+bookingColumns+bookingFrom+`
		WHERE b.office_id = $1 AND b.status = 'booked' AND (coalesce(b.email, '') <> '' OR coalesce(b.phone, '') <> '')
		AND b.starts_at > $2 AND b.starts_at <= $3 ORDER BY b.starts_at`, officeID, now, now.Add(time.Duration(longest)*time.Hour))
	if err != nil {
		return 0, fmt.Errorf("booking: due reminders: %w", err)
	}
	bookings, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Booking, error) { return scanBooking(row) })
	if err != nil {
		return 0, fmt.Errorf("booking: due reminders: %w", err)
	}
	type due struct {
		hours int
		b     *Booking
	}
	var list []due
	for _, b := range bookings {
		// Of the reminders due, the latest only: when the job could not run for a while, an earlier one
		// is stale (the 24-hour reminder of an appointment two hours away).
		h := 0
		for _, hours := range st.ReminderHours {
			at := b.Start.Add(-time.Duration(hours) * time.Hour)
			if !at.After(now) && b.CreatedAt.Before(at) && (h == 0 || hours < h) {
				h = hours
			}
		}
		if h > 0 {
			list = append(list, due{h, b})
		}
	}
	facts := map[int64]*bookingFacts{} // by service
	added := 0
	for _, d := range list {
		f := facts[d.b.ServiceID]
		if f == nil {
			if f, err = factsOf(ctx, s.pool, d.b); err != nil {
				return added, err
			}
			facts[d.b.ServiceID] = f
		}
		n, err := s.enqueue(ctx, s.pool, d.b, f, notice{kind: KindReminder,
			// The start is in the key: a moved appointment is reminded again for its new time.
			dedupe: "remind:" + strconv.Itoa(d.hours) + ":" + d.b.Code + ":" + strconv.FormatInt(d.b.Start.Unix(), 10), text: "reminder"})
		if err != nil {
			return added, err
		}
		added += n
	}
	return added, nil
}
