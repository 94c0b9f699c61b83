package booking

import (
	"context"
	"fmt"
	"time"

	"turno/ticketing"
)

// PurgePersonal clears the personal data of an office's bookings (name, e-mail, phone and the front
// desk's note) once their start is more than the office's booking retention (Settings.RetentionDays,
// default 30 days) before now, and marks them purged. The bookings themselves stay, anonymous, for the
// reports and the no-show counts. cutoff, the ticketing retention the nightly purge passes every step, is
// not used: the booking retention is its own setting, counted from the appointment. It returns how many
// bookings it cleared.
func (s *Store) PurgePersonal(ctx context.Context, officeID int64, _, now time.Time) (int64, error) {
	st, err := s.SettingsOf(ctx, officeID)
	if err != nil {
		return 0, err
	}
	before := now.AddDate(0, 0, -st.RetentionDays)
	tag, err := s.pool.Exec(ctx, `
		UPDATE bookings SET name = NULL, email = NULL, phone = NULL, note = NULL, purged_at = $3
		WHERE office_id = $1 AND starts_at < $2
		  AND (name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL OR note IS NOT NULL)`,
		officeID, before, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("booking: purge personal data of office %d: %w", officeID, err)
	}
	return tag.RowsAffected(), nil
}

// PurgeStep is PurgePersonal as a step of the nightly purge (ticketing.PurgeJob).
func (s *Store) PurgeStep() ticketing.PurgeStep {
	return ticketing.PurgeStep{What: "bookings' personal data cleared", Run: s.PurgePersonal}
}
