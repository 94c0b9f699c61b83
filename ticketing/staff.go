package ticketing

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Skill levels: how well a staff member handles a service. They weight the call-next score.
const (
	Primary   = "primary"
	Secondary = "secondary"
	Learning  = "learning"
)

// SkillFactor is the call-next weight of a skill level (see call.go).
func SkillFactor(level string) float64 {
	switch level {
	case Primary:
		return 1
	case Secondary:
		return 0.5
	case Learning:
		return 0.25
	}
	return 0
}

// Staff is a member of an office's staff and the services they can handle.
type Staff struct {
	ID       int64             `json:"id"`
	OfficeID int64             `json:"office_id"`
	Code     string            `json:"code"`
	FullName string            `json:"full_name"`
	Email    string            `json:"email,omitempty"`
	Active   bool              `json:"active"`
	Skills   map[string]string `json:"skills"` // service code → level
}

// SaveStaff creates or updates (by code) a staff member and replaces their skills.
func (s *Store) SaveStaff(ctx context.Context, st *Staff) error {
	for code, level := range st.Skills {
		if SkillFactor(level) == 0 {
			return web.InvalidField("skills", "skill level of %q must be primary, secondary or learning", code)
		}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO staff (office_id, code, full_name, email, active) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (office_id, code) DO UPDATE SET full_name = EXCLUDED.full_name, email = EXCLUDED.email,
				active = EXCLUDED.active
			RETURNING id`, st.OfficeID, st.Code, st.FullName, st.Email, st.Active).Scan(&st.ID)
		if err != nil {
			return dbError(err, "save staff "+st.Code)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_skills WHERE staff_id = $1`, st.ID); err != nil {
			return fmt.Errorf("ticketing: staff skills: %w", err)
		}
		for code, level := range st.Skills {
			tag, err := tx.Exec(ctx, `INSERT INTO staff_skills (staff_id, service_id, level)
				SELECT $1, id, $4 FROM services WHERE office_id = $2 AND code = $3`, st.ID, st.OfficeID, code, level)
			if err != nil {
				return fmt.Errorf("ticketing: staff skills: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return web.InvalidField("skills", "no service %q in this office", code)
			}
		}
		return nil
	})
}

const staffQuery = `SELECT st.id, st.office_id, st.code, st.full_name, st.email, st.active,
	coalesce((SELECT jsonb_object_agg(s.code, sk.level) FROM staff_skills sk JOIN services s ON s.id = sk.service_id
	          WHERE sk.staff_id = st.id), '{}')
	FROM staff st`

func scanStaff(row pgx.Row) (*Staff, error) {
	st := &Staff{}
	err := row.Scan(&st.ID, &st.OfficeID, &st.Code, &st.FullName, &st.Email, &st.Active, &st.Skills)
	return st, err
}

// StaffList lists an office's staff by name.
func (s *Store) StaffList(ctx context.Context, officeID int64) ([]*Staff, error) {
	rows, err := s.pool.Query(ctx, staffQuery+` WHERE st.office_id = $1 ORDER BY st.full_name`, officeID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: list staff: %w", err)
	}
	return collect(rows, scanStaff)
}

// StaffMember returns one staff member of an office; one of another office is a 404 like an unknown one.
func (s *Store) StaffMember(ctx context.Context, officeID, id int64) (*Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, staffQuery+` WHERE st.id = $1 AND st.office_id = $2`, id, officeID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_staff", "no staff member %d in this office", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: staff %d: %w", id, err)
	}
	return st, nil
}
