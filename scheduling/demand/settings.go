package demand

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Settings are an office's planning parameters (table planning_settings): the service-level target Erlang C
// staffs for, the shrinkage added on top and the slot length. How long personal data is kept is the
// office's own setting (ticketing.Office.RetentionDays).
type Settings struct {
	ServiceLevel      float64 `json:"service_level"`       // e.g. 0.80: 80 % of arrivals called …
	TargetWaitSeconds int     `json:"target_wait_seconds"` // … within this many seconds
	Shrinkage         float64 `json:"shrinkage"`           // share of rostered time not at a desk
	SlotMinutes       int     `json:"slot_minutes"`        // 15, 30 or 60
}

// DefaultSettings are the values of an office without a planning_settings row (the table's defaults).
var DefaultSettings = Settings{ServiceLevel: 0.80, TargetWaitSeconds: 900, Shrinkage: 0.15, SlotMinutes: 30}

// Validate reports the first out-of-range field as a 422 *web.Error naming it.
func (s Settings) Validate() error {
	switch {
	case !(s.ServiceLevel > 0 && s.ServiceLevel < 1):
		return web.InvalidField("service_level", "service_level must be between 0 and 1 (e.g. 0.8), not %g", s.ServiceLevel)
	case s.TargetWaitSeconds <= 0 || s.TargetWaitSeconds > 86400:
		return web.InvalidField("target_wait_seconds", "target_wait_seconds must be between 1 and 86400")
	case !(s.Shrinkage >= 0 && s.Shrinkage < 1):
		return web.InvalidField("shrinkage", "shrinkage must be at least 0 and below 1 (e.g. 0.15), not %g", s.Shrinkage)
	case s.SlotMinutes != 15 && s.SlotMinutes != 30 && s.SlotMinutes != 60:
		return web.InvalidField("slot_minutes", "slot_minutes must be 15, 30 or 60")
	}
	return nil
}

// Settings returns an office's planning settings, or DefaultSettings when it has none.
func (st *Store) Settings(ctx context.Context, officeID int64) (Settings, error) {
	var s Settings
	err := st.pool.QueryRow(ctx, `SELECT service_level::float8, target_wait_seconds, shrinkage::float8, slot_minutes
		FROM planning_settings WHERE office_id = $1`, officeID).
		Scan(&s.ServiceLevel, &s.TargetWaitSeconds, &s.Shrinkage, &s.SlotMinutes)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("demand: planning settings of office %d: %w", officeID, err)
	}
	return s, nil
}

// SaveSettings validates and stores an office's planning settings. It does not recompute the forecast.
func (st *Store) SaveSettings(ctx context.Context, officeID int64, s Settings) error {
	return st.saveSettings(ctx, officeID, s, `ON CONFLICT (office_id) DO UPDATE SET service_level = EXCLUDED.service_level,
		target_wait_seconds = EXCLUDED.target_wait_seconds, shrinkage = EXCLUDED.shrinkage, slot_minutes = EXCLUDED.slot_minutes`)
}

// InitSettings stores s as the planning settings of an office that has none; an office's own settings are
// kept (the demo seeder uses it).
func (st *Store) InitSettings(ctx context.Context, officeID int64, s Settings) error {
	return st.saveSettings(ctx, officeID, s, `ON CONFLICT (office_id) DO NOTHING`)
}

func (st *Store) saveSettings(ctx context.Context, officeID int64, s Settings, onConflict string) error {
	if err := s.Validate(); err != nil {
		return err
	}
	_, err := st.pool.Exec(ctx, `
		INSERT INTO planning_settings (office_id, service_level, target_wait_seconds, shrinkage, slot_minutes)
		VALUES ($1, $2, $3, $4, $5) `+onConflict, officeID, s.ServiceLevel, s.TargetWaitSeconds, s.Shrinkage, s.SlotMinutes)
	if err != nil {
		return fmt.Errorf("demand: save planning settings of office %d: %w", officeID, err)
	}
	return nil
}
