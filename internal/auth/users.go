package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// OfficeUser is a user as the managers of the user's office see it: never a password hash.
type OfficeUser struct {
	ID          int64      `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        Role       `json:"role"`
	StaffID     *int64     `json:"staff_id"` // the staff member the user is, if any
	Active      bool       `json:"active"`
	LockedUntil *time.Time `json:"locked_until"`  // set while sign-in failures keep the username locked
	Failures    int        `json:"failures"`      // failed sign-ins of the username not yet forgiven
	LastLoginAt *time.Time `json:"last_login_at"` // the last successful sign-in
}

const officeUserColumns = `u.id, u.username, u.display_name, u.role, u.staff_id, u.active,
	CASE WHEN f.locked_until > $2 THEN f.locked_until END, coalesce(f.failures, 0), u.last_login_at`

func scanOfficeUser(row pgx.CollectableRow) (*OfficeUser, error) {
	u := &OfficeUser{}
	return u, row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.StaffID, &u.Active, &u.LockedUntil, &u.Failures, &u.LastLoginAt)
}

// OfficeUsers lists the users of an office (not the administrators of every office), by username.
func (s *Store) OfficeUsers(ctx context.Context, officeID int64) ([]*OfficeUser, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+officeUserColumns+` FROM users u
		LEFT JOIN login_failures f ON f.key = 'user:' || u.username
		WHERE u.office_id = $1 ORDER BY u.username`, officeID, s.now())
	if err != nil {
		return nil, fmt.Errorf("auth: office users: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanOfficeUser)
	if err != nil {
		return nil, fmt.Errorf("auth: office users: %w", err)
	}
	return out, nil
}

// OfficeUser returns user id of an office; another office's or an unknown user is a 404 unknown_user.
func (s *Store) OfficeUser(ctx context.Context, officeID, id int64) (*OfficeUser, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+officeUserColumns+` FROM users u
		LEFT JOIN login_failures f ON f.key = 'user:' || u.username
		WHERE u.office_id = $1 AND u.id = $3`, officeID, s.now(), id)
	if err != nil {
		return nil, fmt.Errorf("auth: office user: %w", err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanOfficeUser)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_user", "no user %d in this office", id)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: office user: %w", err)
	}
	return u, nil
}

// Unlock lifts the sign-in lock of user id of an office and forgets the username's failures (its delays
// and the growth of its next lock too); the failures of client addresses stay.
func (s *Store) Unlock(ctx context.Context, officeID, id int64) (*OfficeUser, error) {
	if _, err := s.pool.Exec(ctx, `DELETE FROM login_failures f USING users u
		WHERE u.id = $1 AND u.office_id = $2 AND f.key = 'user:' || u.username`, id, officeID); err != nil {
		return nil, fmt.Errorf("auth: unlock user: %w", err)
	}
	return s.OfficeUser(ctx, officeID, id)
}

// SetActive enables or disables user id of an office. Disabling also ends the user's sessions and, in
// the same statement, announces "user:<id>" on RightsChannel, so that every node closes the user's open
// streams at once.
func (s *Store) SetActive(ctx context.Context, officeID, id int64, active bool) (*OfficeUser, error) {
	var n int
	var err error
	if active {
		err = s.pool.QueryRow(ctx, `WITH u AS (UPDATE users SET active = true WHERE id = $1 AND office_id = $2 RETURNING id)
			SELECT count(*) FROM u`, id, officeID).Scan(&n)
	} else {
		err = s.pool.QueryRow(ctx, `WITH u AS (UPDATE users SET active = false WHERE id = $1 AND office_id = $2 RETURNING id),
			s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u))
			SELECT count(*) FROM (SELECT pg_notify($3, 'user:' || id) FROM u) n`, id, officeID, RightsChannel).Scan(&n)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: set user active: %w", err)
	}
	if n == 0 {
		return nil, web.NotFound("unknown_user", "no user %d in this office", id)
	}
	return s.OfficeUser(ctx, officeID, id)
}

// CreateOfficeUser adds a manager, operator or administrator to an office (CreateUser's rules: a valid
// username not taken yet, a password that passes CheckPassword) and returns it as its managers see it.
func (s *Store) CreateOfficeUser(ctx context.Context, officeID int64, u NewUser) (*OfficeUser, error) {
	u.OfficeID, u.AllOffices = officeID, false
	if u.DisplayName == "" || len([]rune(u.DisplayName)) > 100 {
		return nil, web.InvalidField("display_name", "display_name is required (at most 100 characters)")
	}
	id, err := s.CreateUser(ctx, u, false)
	if err != nil {
		return nil, err
	}
	return s.OfficeUser(ctx, officeID, id)
}

// SetPassword gives user id of an office a new password (which must pass CheckPassword against the
// user's username). Whoever signed in with the old one is signed out: the user's sessions end and
// "user:<id>" is announced on RightsChannel, in the same statement; the username's sign-in failures are
// forgotten, since the manager has just vouched for the user.
func (s *Store) SetPassword(ctx context.Context, officeID, id int64, password string) (*OfficeUser, error) {
	u, err := s.OfficeUser(ctx, officeID, id)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password, u.Username); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password, s.Cost)
	if err != nil {
		return nil, err
	}
	var n int
	err = s.pool.QueryRow(ctx, `WITH u AS (UPDATE users SET password_hash = $3 WHERE id = $1 AND office_id = $2 RETURNING id, username),
			s AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM u)),
			f AS (DELETE FROM login_failures WHERE key IN (SELECT 'user:' || username FROM u))
		SELECT count(*) FROM (SELECT pg_notify($4, 'user:' || id) FROM u) n`, id, officeID, hash, RightsChannel).Scan(&n)
	if err != nil {
		return nil, fmt.Errorf("auth: set password: %w", err)
	}
	if n == 0 {
		return nil, web.NotFound("unknown_user", "no user %d in this office", id)
	}
	return s.OfficeUser(ctx, officeID, id)
}

// RenameDevice changes the name of a live device of an office (the name managers know it by) and returns
// the device; an unknown or revoked device is a 404.
func (s *Store) RenameDevice(ctx context.Context, officeID, id int64, name string) (*Device, error) {
	if name == "" || len(name) > 100 {
		return nil, web.InvalidField("name", "name is required (at most 100 characters)")
	}
	d := &Device{}
	err := s.pool.QueryRow(ctx, `UPDATE devices SET name = $3 WHERE id = $1 AND office_id = $2 AND revoked_at IS NULL
		RETURNING id, office_id, kind, name, settings`, id, officeID, name).
		Scan(&d.ID, &d.OfficeID, &d.Kind, &d.Name, &d.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_device", "no active device %d in this office", id)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: rename device: %w", err)
	}
	return d, nil
}
