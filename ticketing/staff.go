package ticketing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/web"
)

// SkillLevel is how well a staff member handles a service. It weights the call-next score.
type SkillLevel string

// The skill levels.
const (
	Primary   SkillLevel = "primary"
	Secondary SkillLevel = "secondary"
	Learning  SkillLevel = "learning"
)

// SkillLevels lists the levels from best to least.
var SkillLevels = []SkillLevel{Primary, Secondary, Learning}

// Factor is the call-next weight of a skill level (see call.go); 0 for an unknown level.
func (l SkillLevel) Factor() float64 {
	switch l {
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
	ID       int64                 `json:"id"`
	OfficeID int64                 `json:"office_id"`
	Code     string                `json:"code"`
	FullName string                `json:"full_name"`
	Email    string                `json:"email,omitempty"`
	Active   bool                  `json:"active"`
	Skills   map[string]SkillLevel `json:"skills"` // service code → level
	// BackOffice marks a specialist who receives citizens by appointment, booked by the front desk
	// (package booking: their weekly hours, their agenda).
	BackOffice bool `json:"back_office"`
}

// check names the first bad field of a staff member; the services of the skills are checked when saving.
func (st *Staff) check() error {
	switch {
	case st.Code == "" || len(st.Code) > 32:
		return web.InvalidField("code", "code is required (at most 32 characters)")
	case st.FullName == "" || len(st.FullName) > 200:
		return web.InvalidField("full_name", "full_name is required (at most 200 characters)")
	case len(st.Email) > 200:
		return web.InvalidField("email", "email is longer than 200 characters")
	}
	for code, level := range st.Skills {
		if level.Factor() == 0 {
			return web.InvalidField("skills", "skill level of %q must be primary, secondary or learning", code)
		}
	}
	return nil
}

// StaffStep stores another part's data of a staff member inside the transaction that saves the member.
type StaffStep func(ctx context.Context, tx pgx.Tx, staffID int64) error

// SaveStaff validates a staff member and creates or updates them (by code), replacing their skills.
func (s *Store) SaveStaff(ctx context.Context, st *Staff) error {
	if err := st.check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO staff (office_id, code, full_name, email, active, back_office) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (office_id, code) DO UPDATE SET full_name = EXCLUDED.full_name, email = EXCLUDED.email,
				active = EXCLUDED.active, back_office = EXCLUDED.back_office
			RETURNING id`, st.OfficeID, st.Code, st.FullName, st.Email, st.Active, st.BackOffice).Scan(&st.ID)
		if err != nil {
			return dbError(err, "save staff "+st.Code)
		}
		return setSkills(ctx, tx, st)
	})
}

// CreateStaff adds a staff member whose code the office does not have yet (409 on the field "code"
// otherwise), then runs step, if any, in the same transaction.
func (s *Store) CreateStaff(ctx context.Context, st *Staff, step StaffStep) error {
	if err := st.check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO staff (office_id, code, full_name, email, active, back_office) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id`, st.OfficeID, st.Code, st.FullName, st.Email, st.Active, st.BackOffice).Scan(&st.ID)
		if err != nil {
			return staffCodeError(err, st.Code)
		}
		return finishStaff(ctx, tx, st, step)
	})
}

// UpdateStaff changes the staff member st.ID of st.OfficeID — code, name, e-mail, active, back office and skills —
// then runs step, if any, in the same transaction. A code another member has is a 409 on "code".
func (s *Store) UpdateStaff(ctx context.Context, st *Staff, step StaffStep) error {
	if err := st.check(); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE staff SET code = $3, full_name = $4, email = $5, active = $6, back_office = $7
			WHERE id = $1 AND office_id = $2`, st.ID, st.OfficeID, st.Code, st.FullName, st.Email, st.Active, st.BackOffice)
		if err != nil {
			return staffCodeError(err, st.Code)
		}
		if tag.RowsAffected() == 0 {
			return staffNotFound(st.ID)
		}
		return finishStaff(ctx, tx, st, step)
	})
}

func finishStaff(ctx context.Context, tx pgx.Tx, st *Staff, step StaffStep) error {
	if err := setSkills(ctx, tx, st); err != nil {
		return err
	}
	if step == nil {
		return nil
	}
	return step(ctx, tx, st.ID)
}

func staffCodeError(err error, code string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return web.Conflict("duplicate", "a staff member %q already exists", code).On("code")
	}
	return dbError(err, "save staff "+code)
}

// setSkills replaces a staff member's skills; a service the office does not have is a 422 on "skills".
func setSkills(ctx context.Context, tx pgx.Tx, st *Staff) error {
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
}

const staffQuery = `SELECT st.id, st.office_id, st.code, st.full_name, st.email, st.active, st.back_office,
	coalesce((SELECT jsonb_object_agg(s.code, sk.level) FROM staff_skills sk JOIN services s ON s.id = sk.service_id
	          WHERE sk.staff_id = st.id), '{}')
	FROM staff st`

func scanStaff(row pgx.Row) (*Staff, error) {
	st := &Staff{}
	err := row.Scan(&st.ID, &st.OfficeID, &st.Code, &st.FullName, &st.Email, &st.Active, &st.BackOffice, &st.Skills)
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

// StaffMember returns one staff member of an office; one of another office is a 404 like an unknown one,
// so that its existence is not revealed.
func (s *Store) StaffMember(ctx context.Context, officeID, id int64) (*Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, staffQuery+` WHERE st.id = $1 AND st.office_id = $2`, id, officeID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, staffNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: staff %d: %w", id, err)
	}
	return st, nil
}

// StaffByCode returns the staff member of an office with a code, or a 404 *web.Error.
func (s *Store) StaffByCode(ctx context.Context, officeID int64, code string) (*Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, staffQuery+` WHERE st.office_id = $1 AND st.code = $2`, officeID, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, staffNotFound(code)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: staff %q: %w", code, err)
	}
	return st, nil
}

// StaffByID returns a staff member of any office by id, or a 404 *web.Error. It is for callers that hold
// only the member's id, such as a staff member's calendar feed; a request about an office checks the
// office with StaffMember instead.
func (s *Store) StaffByID(ctx context.Context, id int64) (*Staff, error) {
	st, err := scanStaff(s.pool.QueryRow(ctx, staffQuery+` WHERE st.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, staffNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: staff %d: %w", id, err)
	}
	return st, nil
}

func staffNotFound(id any) error {
	return web.NotFound("unknown_staff", "no staff member %v in this office", id).On("staff")
}

// StaffPlanning is the planning side of a staff member, kept by another part (scheduling: the contract and
// the preferences) and served with the staff API. cmd/turno hands scheduling's implementation to the API;
// without one the staff API carries identity and skills only.
type StaffPlanning interface {
	// PrepareStaff validates the planning fields of a staff request (the body's fields that are not the
	// staff member's own) before anything is written, and returns the step that stores them in the
	// member's transaction, or nil. staffID is 0 for a new member.
	PrepareStaff(ctx context.Context, officeID, staffID int64, fields map[string]json.RawMessage) (StaffStep, error)
	// StaffDetail returns the planning fields added to a staff member's JSON.
	StaffDetail(ctx context.Context, st *Staff) (map[string]any, error)
}
