package demand

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
)

// Settings are an office's planning parameters (table planning_settings): the service-level target Erlang C
// staffs for, the shrinkage added on top, the slot length and how long personal data is kept.
type Settings struct {
	ServiceLevel      float64 `json:"service_level"`       // e.g. 0.80: 80 % of arrivals called …
	TargetWaitSeconds int     `json:"target_wait_seconds"` // … within this many seconds
	Shrinkage         float64 `json:"shrinkage"`           // share of rostered time not at a desk
	SlotMinutes       int     `json:"slot_minutes"`        // 15, 30 or 60
	RetentionDays     int     `json:"retention_days"`      // events and personal data older than this are purged
}

// DefaultSettings are the values of an office without a planning_settings row (the table's defaults).
var DefaultSettings = Settings{ServiceLevel: 0.80, TargetWaitSeconds: 900, Shrinkage: 0.15, SlotMinutes: 30, RetentionDays: 90}

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
	case s.RetentionDays < 1 || s.RetentionDays > 3650:
		return web.InvalidField("retention_days", "retention_days must be between 1 and 3650")
	}
	return nil
}

// querier is what LoadSettings needs: a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// LoadSettings returns an office's planning settings, or DefaultSettings when it has none.
func LoadSettings(ctx context.Context, q querier, officeID int64) (Settings, error) {
	var s Settings
	err := q.QueryRow(ctx, `SELECT service_level::float8, target_wait_seconds, shrinkage::float8, slot_minutes, retention_days
		FROM planning_settings WHERE office_id = $1`, officeID).
		Scan(&s.ServiceLevel, &s.TargetWaitSeconds, &s.Shrinkage, &s.SlotMinutes, &s.RetentionDays)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("demand: planning settings of office %d: %w", officeID, err)
	}
	return s, nil
}

// SaveSettings validates and stores an office's planning settings. It does not recompute the forecast.
func SaveSettings(ctx context.Context, pool *pgxpool.Pool, officeID int64, s Settings) error {
	if err := s.Validate(); err != nil {
		return err
	}
	_, err := pool.Exec(ctx, `
		INSERT INTO planning_settings (office_id, service_level, target_wait_seconds, shrinkage, slot_minutes, retention_days)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (office_id) DO UPDATE SET service_level = EXCLUDED.service_level,
			target_wait_seconds = EXCLUDED.target_wait_seconds, shrinkage = EXCLUDED.shrinkage,
			slot_minutes = EXCLUDED.slot_minutes, retention_days = EXCLUDED.retention_days`,
		officeID, s.ServiceLevel, s.TargetWaitSeconds, s.Shrinkage, s.SlotMinutes, s.RetentionDays)
	if err != nil {
		return fmt.Errorf("demand: save planning settings of office %d: %w", officeID, err)
	}
	return nil
}
