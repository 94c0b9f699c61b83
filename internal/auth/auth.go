// Package auth signs staff in (bcrypt passwords, session tokens), authenticates kiosk and display devices
// by token, and checks roles on every route.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"turno/internal/web"
)

// Role is what a signed-in user may do.
type Role string

// The roles of staff users.
const (
	Admin    Role = "admin"
	Manager  Role = "manager"
	Operator Role = "operator"
)

// DeviceKind is what a device token may do: a kiosk issues tickets, a display reads events.
type DeviceKind string

// The kinds of devices.
const (
	Kiosk   DeviceKind = "kiosk"
	Display DeviceKind = "display"
)

// SessionTTL is how long a staff session lasts: a working day with margin.
const SessionTTL = 14 * time.Hour

// User is a staff account.
type User struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	Role        Role   `json:"role"`
	DisplayName string `json:"display_name"`
	OfficeID    int64  `json:"office_id,omitempty"` // 0: every office (admins)
	StaffID     int64  `json:"staff_id,omitempty"`  // the staff member this user is, for operators
}

// Device is a kiosk or display bound to one office.
type Device struct {
	ID       int64          `json:"id"`
	OfficeID int64          `json:"office_id"`
	Kind     DeviceKind     `json:"kind"`
	Name     string         `json:"name"`
	Settings map[string]any `json:"settings"`
}

// Principal is who is making a request: a user or a device, never both.
type Principal struct {
	User   *User
	Device *Device
}

// Store keeps users, sessions and device tokens.
type Store struct {
	pool *pgxpool.Pool
	// Cost is the bcrypt cost of new password hashes.
	Cost int
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool, Cost: bcrypt.DefaultCost} }

// NewUser describes a user to create.
type NewUser struct {
	Username    string
	Password    string
	Role        Role
	DisplayName string
	OfficeID    int64
	StaffID     int64
}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return r == Admin || r == Manager || r == Operator }

// CreateUser adds a user, or updates the user of that username when upsert is true.
func (s *Store) CreateUser(ctx context.Context, u NewUser, upsert bool) (int64, error) {
	if !ValidRole(u.Role) {
		return 0, web.InvalidField("role", "role must be admin, manager or operator")
	}
	if len(u.Password) < 4 {
		return 0, web.InvalidField("password", "password must have at least 4 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), s.Cost)
	if err != nil {
		return 0, fmt.Errorf("auth: hash password: %w", err)
	}
	q := `INSERT INTO users (username, password_hash, role, display_name, office_id, staff_id)
	      VALUES ($1, $2, $3, $4, NULLIF($5, 0), NULLIF($6, 0))`
	if upsert {
		q += ` ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
		       display_name = EXCLUDED.display_name, office_id = EXCLUDED.office_id, staff_id = EXCLUDED.staff_id`
	}
	var id int64
	err = s.pool.QueryRow(ctx, q+" RETURNING id", u.Username, hash, u.Role, u.DisplayName, u.OfficeID, u.StaffID).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return 0, web.Conflict("username_taken", "a user named %q exists already", u.Username)
		case "23514":
			return 0, web.InvalidField("username", "username must be 2–64 characters of a-z, 0-9, '.', '_' or '-'")
		}
	}
	if err != nil {
		return 0, fmt.Errorf("auth: create user %q: %w", u.Username, err)
	}
	return id, nil
}

// ErrBadCredentials is returned by Login for an unknown user or a wrong password.
var ErrBadCredentials = web.Unauthorized("wrong username or password")

// Login checks a password and opens a session, returning its token.
func (s *Store) Login(ctx context.Context, username, password string) (string, *User, error) {
	var hash string
	u := &User{}
	err := s.pool.QueryRow(ctx, `
		SELECT id, username, role, display_name, coalesce(office_id, 0), coalesce(staff_id, 0), password_hash
		FROM users WHERE username = $1 AND active`, username).
		Scan(&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.OfficeID, &u.StaffID, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		// Spend the time a real check would, so timing does not reveal which usernames exist.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", nil, ErrBadCredentials
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: look up user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, ErrBadCredentials
	}
	token := NewToken()
	_, err = s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval)`,
		HashToken(token), u.ID, fmt.Sprintf("%d seconds", int(SessionTTL.Seconds())))
	if err != nil {
		return "", nil, fmt.Errorf("auth: open session: %w", err)
	}
	return token, u, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("turno-timing"), bcrypt.DefaultCost)

// Logout ends the session of token.
func (s *Store) Logout(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, HashToken(token))
	if err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// UserByToken returns the user of a live session token, or nil.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	u := &User{}
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.username, u.role, u.display_name, coalesce(u.office_id, 0), coalesce(u.staff_id, 0)
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active`, HashToken(token)).
		Scan(&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.OfficeID, &u.StaffID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up session: %w", err)
	}
	return u, nil
}

// CreateDevice registers a kiosk or display of an office with a new random token, which is returned once:
// only its hash is kept.
func (s *Store) CreateDevice(ctx context.Context, officeID int64, kind DeviceKind, name string) (*Device, string, error) {
	if err := checkDevice(kind, name); err != nil {
		return nil, "", err
	}
	token := NewToken()
	d := &Device{OfficeID: officeID, Kind: kind, Name: name, Settings: map[string]any{}}
	err := s.pool.QueryRow(ctx, `INSERT INTO devices (office_id, kind, name, token_hash) VALUES ($1, $2, $3, $4)
		RETURNING id, settings`, officeID, kind, name, HashToken(token)).Scan(&d.ID, &d.Settings)
	if err != nil {
		return nil, "", fmt.Errorf("auth: create device: %w", err)
	}
	return d, token, nil
}

// EnsureDevice registers a device with a known token (the demo's) unless one with that token exists,
// revoked or not: an existing device is returned as it is (a revoked one is not revived, and nil is
// returned for it).
func (s *Store) EnsureDevice(ctx context.Context, officeID int64, kind DeviceKind, name, token string) (*Device, error) {
	if err := checkDevice(kind, name); err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO devices (office_id, kind, name, token_hash) VALUES ($1, $2, $3, $4)
		ON CONFLICT (token_hash) DO NOTHING`, officeID, kind, name, HashToken(token)); err != nil {
		return nil, fmt.Errorf("auth: ensure device: %w", err)
	}
	return s.DeviceByToken(ctx, token)
}

func checkDevice(kind DeviceKind, name string) error {
	if kind != Kiosk && kind != Display {
		return web.InvalidField("kind", "kind must be kiosk or display")
	}
	if name == "" || len(name) > 100 {
		return web.InvalidField("name", "name is required (at most 100 characters)")
	}
	return nil
}

// RevokeDevice makes a device token stop working.
func (s *Store) RevokeDevice(ctx context.Context, officeID, id int64) error {
	tag, err := s.pool.Exec(ctx, `UPDATE devices SET revoked_at = now() WHERE id = $1 AND office_id = $2 AND revoked_at IS NULL`, id, officeID)
	if err != nil {
		return fmt.Errorf("auth: revoke device: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_device", "no active device %d in this office", id)
	}
	return nil
}

// DeviceByToken returns the live device of token, or nil.
func (s *Store) DeviceByToken(ctx context.Context, token string) (*Device, error) {
	d := &Device{}
	err := s.pool.QueryRow(ctx, `
		SELECT id, office_id, kind, name, settings FROM devices WHERE token_hash = $1 AND revoked_at IS NULL`,
		HashToken(token)).Scan(&d.ID, &d.OfficeID, &d.Kind, &d.Name, &d.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up device: %w", err)
	}
	return d, nil
}

// NewToken returns a random 256-bit token, URL-safe.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how tokens are kept: a SHA-256, so a database leak reveals no usable token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Devices lists the live devices of an office.
func (s *Store) Devices(ctx context.Context, officeID int64) ([]*Device, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, office_id, kind, name, settings FROM devices
		WHERE office_id = $1 AND revoked_at IS NULL ORDER BY kind, name`, officeID)
	if err != nil {
		return nil, fmt.Errorf("auth: list devices: %w", err)
	}
	defer rows.Close()
	out := []*Device{}
	for rows.Next() {
		d := &Device{}
		if err := rows.Scan(&d.ID, &d.OfficeID, &d.Kind, &d.Name, &d.Settings); err != nil {
			return nil, fmt.Errorf("auth: list devices: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// SaveDeviceSettings replaces the settings of a live device of an office of the given kind (a display's
// screen settings, say) and returns the device; an unknown, revoked or other-kind device is a 404.
func (s *Store) SaveDeviceSettings(ctx context.Context, officeID, id int64, kind DeviceKind, settings any) (*Device, error) {
	d := &Device{}
	err := s.pool.QueryRow(ctx, `
		UPDATE devices SET settings = $4 WHERE id = $1 AND office_id = $2 AND kind = $3 AND revoked_at IS NULL
		RETURNING id, office_id, kind, name, settings`, id, officeID, kind, settings).
		Scan(&d.ID, &d.OfficeID, &d.Kind, &d.Name, &d.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_device", "no active %s %d in this office", kind, id)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: save device settings: %w", err)
	}
	return d, nil
}

// PurgeSessions deletes the sign-in sessions of an office's users that expired before now; it is a step
// of the office's nightly purge.
func (s *Store) PurgeSessions(ctx context.Context, officeID int64, _, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions s USING users u
		WHERE u.id = s.user_id AND u.office_id = $1 AND s.expires_at < $2`, officeID, now)
	if err != nil {
		return 0, fmt.Errorf("auth: purge sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
