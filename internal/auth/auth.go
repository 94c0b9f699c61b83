// Package auth signs staff in (bcrypt passwords, session tokens), authenticates kiosk, display and feedback
// tablet devices by token, and checks roles on every route.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

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

// DeviceKind is what a device token may do: a kiosk issues tickets, a display reads events, a feedback
// tablet on a counter reads events and sends the rating of the citizen just served at its desk.
type DeviceKind string

// The kinds of devices.
const (
	Kiosk    DeviceKind = "kiosk"
	Display  DeviceKind = "display"
	Feedback DeviceKind = "feedback"
)

// SessionTTL is how long a staff session lasts: a working day with margin.
const SessionTTL = 14 * time.Hour

// User is a staff account. A user belongs to one office, except an administrator created explicitly for
// every office (AllOffices).
type User struct {
	ID          int64  `json:"id"`
	Username    string `json:"username"`
	Role        Role   `json:"role"`
	DisplayName string `json:"display_name"`
	OfficeID    int64  `json:"office_id,omitempty"` // 0 with AllOffices; 0 without it: no office (nothing)
	AllOffices  bool   `json:"all_offices"`         // an administrator of every office
	StaffID     int64  `json:"staff_id,omitempty"`  // the staff member this user is, for operators
}

// Device is a kiosk, a display or a feedback tablet bound to one office.
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
	// Session is the hash of the session token a user came with (nil for devices and anonymous callers):
	// what a stream opened with it checks to end with the session.
	Session []byte
}

// Store keeps users, sessions and device tokens, and the sign-in limits.
type Store struct {
	pool *pgxpool.Pool
	// Cost is the bcrypt cost of new password hashes; a user's hash of a lower cost is redone at sign-in.
	Cost int
	// Limits are the sign-in limits (DefaultLoginLimits).
	Limits LoginLimits
	// Now is the clock of the sign-in limits (time.Now when nil).
	Now func() time.Time

	dummyOnce sync.Once
	dummy     string // a hash to check unknown usernames against, so that they take as long as known ones
}

// PasswordCost is the bcrypt cost of new password hashes (and of the rehash of an older one at sign-in).
// Measured on the 2-core reference machine, one hash takes 62 ms of CPU at cost 10, 134 ms at 11 and
// 273 ms at 12. Cost 11 doubles an offline attacker's work over the old 10 while a sign-in stays well
// under a second even on a busy server; 12 would give whoever sends many sign-ins (the limits let a few
// through per address) twice the CPU to take from the kiosks and desks of a small server, for little gain
// once passwords are 12 characters long and not common.
const PasswordCost = 11

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, Cost: PasswordCost, Limits: DefaultLoginLimits}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NewUser describes a user to create: a user of one office (OfficeID), or an administrator of every
// office (AllOffices, without an office).
type NewUser struct {
	Username    string
	Password    string
	Role        Role
	DisplayName string
	OfficeID    int64
	AllOffices  bool
	StaffID     int64
}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return r == Admin || r == Manager || r == Operator }

// CreateUser adds a user, or updates the user of that username when upsert is true. A manager or an
// operator needs an office; an administrator needs an office or AllOffices, never both; the password must
// pass CheckPassword.
func (s *Store) CreateUser(ctx context.Context, u NewUser, upsert bool) (int64, error) {
	if !ValidRole(u.Role) {
		return 0, web.InvalidField("role", "role must be admin, manager or operator")
	}
	if !validUsername.MatchString(u.Username) {
		return 0, web.InvalidField("username", "username must be 2–64 characters of a-z, 0-9, '.', '_' or '-'")
	}
	switch {
	case u.AllOffices && u.Role != Admin:
		return 0, web.InvalidField("all_offices", "only an administrator can be a user of every office")
	case u.AllOffices && u.OfficeID != 0:
		return 0, web.InvalidField("all_offices", "a user of every office has no office of their own")
	case !u.AllOffices && u.OfficeID == 0 && u.Role == Admin:
		return 0, web.InvalidField("office", "an administrator needs an office, or to be created explicitly for every office (all_offices)")
	case !u.AllOffices && u.OfficeID == 0:
		return 0, web.InvalidField("office", "a %s needs an office", web.Term(u.Role))
	}
	if err := CheckPassword(u.Password, u.Username); err != nil {
		return 0, err
	}
	hash, err := hashPassword(u.Password, s.Cost)
	if err != nil {
		return 0, err
	}
	q := `INSERT INTO users (username, password_hash, role, display_name, office_id, all_offices, staff_id)
	      VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, NULLIF($7, 0))`
	if upsert {
		q += ` ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
		       display_name = EXCLUDED.display_name, office_id = EXCLUDED.office_id, all_offices = EXCLUDED.all_offices,
		       staff_id = EXCLUDED.staff_id`
	}
	var id int64
	err = s.pool.QueryRow(ctx, q+" RETURNING id", u.Username, hash, u.Role, u.DisplayName, u.OfficeID, u.AllOffices, u.StaffID).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			if pgErr.ConstraintName == "users_staff_id_key" {
				return 0, web.Conflict("staff_taken", "staff member %d is another user already", u.StaffID)
			}
			return 0, web.Conflict("username_taken", "a user named %q exists already", u.Username)
		case "23503":
			return 0, web.InvalidField("office", "no such office or staff member")
		case "23514":
			return 0, web.InvalidField("office", "a user belongs to one office, unless an administrator of every office")
		}
	}
	if err != nil {
		return 0, fmt.Errorf("auth: create user %q: %w", u.Username, err)
	}
	return id, nil
}

// ErrBadCredentials is returned by Login for an unknown user or a wrong password.
var ErrBadCredentials = web.Unauthorized("wrong username or password")

// Login checks a password and opens a session, returning its token. It is LoginFrom without a client
// address: the username's limits apply.
func (s *Store) Login(ctx context.Context, username, password string) (string, *User, error) {
	return s.LoginFrom(ctx, username, password, "")
}

// LoginFrom checks a password of a client at address addr (web.ClientIP; empty when unknown) and opens
// a session, returning its token. The username is normalised (NormalizeUsername). The attempt goes through
// the sign-in limits of the username and of the address first: refused, it is a *LimitError (429) and the
// password is not looked at. A wrong password or an unknown or disabled user is ErrBadCredentials, in
// about the same time either way, and counts as a failure under both; the failure that locks the username
// answers the *LimitError of the lock. A right password clears the username's failures and records the
// sign-in.
func (s *Store) LoginFrom(ctx context.Context, username, password, addr string) (string, *User, error) {
	username = NormalizeUsername(username)
	now := s.now()
	keys := limitKeys(username, addr)
	lockedNow, err := s.admit(ctx, keys, now)
	if err != nil {
		return "", nil, err
	}
	fail := func() (string, *User, error) {
		if !lockedNow.IsZero() {
			return "", nil, &LimitError{Locked: true, Until: lockedNow, now: now}
		}
		return "", nil, ErrBadCredentials
	}
	var hash string
	u := &User{}
	err = errNoUser
	if validUsername.MatchString(username) {
		err = s.pool.QueryRow(ctx, `
			SELECT id, username, role, display_name, coalesce(office_id, 0), all_offices, coalesce(staff_id, 0), password_hash
			FROM users WHERE username = $1 AND active`, username).
			Scan(&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.OfficeID, &u.AllOffices, &u.StaffID, &hash)
	}
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, errNoUser) {
		// Spend the time a real check would, so timing does not reveal which usernames exist.
		checkHash(s.dummyHash(), password, s.Cost)
		return fail()
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: look up user: %w", err)
	}
	ok, stale := checkHash(hash, password, s.Cost)
	if !ok {
		return fail()
	}
	if err := s.succeeded(ctx, keys, now); err != nil {
		return "", nil, err
	}
	if stale {
		if h, err := hashPassword(password, s.Cost); err == nil {
			// The password is right: keep it, in the current scheme and cost.
			_, _ = s.pool.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3`, u.ID, h, hash)
		}
	}
	token := NewToken()
	_, err = s.pool.Exec(ctx, `WITH s AS (INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval))
		UPDATE users SET last_login_at = now() WHERE id = $2 AND (office_id IS NOT NULL OR all_offices)`,
		HashToken(token), u.ID, fmt.Sprintf("%d seconds", int(SessionTTL.Seconds())))
	if err != nil {
		return "", nil, fmt.Errorf("auth: open session: %w", err)
	}
	return token, u, nil
}

var errNoUser = errors.New("no such user")

// dummyHash is a hash of the current scheme and cost that no password matches.
func (s *Store) dummyHash() string {
	s.dummyOnce.Do(func() {
		s.dummy, _ = hashPassword(NewToken(), s.Cost)
	})
	return s.dummy
}

// RightsChannel is the PostgreSQL channel on which a right that ends is announced, so that every node
// closes the streams opened with it at once: the payload is "session:<hex of the token hash>",
// "device:<id>" or "user:<id>". Like the event NOTIFY it is a hint; streams also re-check their rights
// now and then (SessionsAlive, DevicesAlive).
const RightsChannel = "turno_rights"

// Logout ends the session of token and announces it on RightsChannel.
func (s *Store) Logout(ctx context.Context, token string) error {
	h := HashToken(token)
	_, err := s.pool.Exec(ctx, `WITH d AS (DELETE FROM sessions WHERE token_hash = $1 RETURNING 1)
		SELECT pg_notify($2, 'session:' || encode($1, 'hex')) FROM d`, h, RightsChannel)
	if err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// SessionsAlive reports which of the session token hashes (keyed by their hex) still belong to a live
// session of an active user.
func (s *Store) SessionsAlive(ctx context.Context, hashes [][]byte) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT encode(s.token_hash, 'hex') FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ANY($1) AND s.expires_at > now() AND u.active`, hashes)
	if err != nil {
		return nil, fmt.Errorf("auth: live sessions: %w", err)
	}
	alive, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("auth: live sessions: %w", err)
	}
	out := make(map[string]bool, len(alive))
	for _, h := range alive {
		out[h] = true
	}
	return out, nil
}

// DevicesAlive reports which of the device ids are devices that are not revoked.
func (s *Store) DevicesAlive(ctx context.Context, ids []int64) (map[int64]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM devices WHERE id = ANY($1) AND revoked_at IS NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("auth: live devices: %w", err)
	}
	alive, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("auth: live devices: %w", err)
	}
	out := make(map[int64]bool, len(alive))
	for _, id := range alive {
		out[id] = true
	}
	return out, nil
}

// UserByToken returns the user of a live session token, or nil.
func (s *Store) UserByToken(ctx context.Context, token string) (*User, error) {
	u := &User{}
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.username, u.role, u.display_name, coalesce(u.office_id, 0), u.all_offices, coalesce(u.staff_id, 0)
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active`, HashToken(token)).
		Scan(&u.ID, &u.Username, &u.Role, &u.DisplayName, &u.OfficeID, &u.AllOffices, &u.StaffID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: look up session: %w", err)
	}
	return u, nil
}

// CreateDevice registers a kiosk, display or feedback tablet of an office with a new random token, which is
// returned once: only its hash is kept.
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
	if kind != Kiosk && kind != Display && kind != Feedback {
		return web.InvalidField("kind", "kind must be kiosk, display or feedback")
	}
	if name == "" || len(name) > 100 {
		return web.InvalidField("name", "name is required (at most 100 characters)")
	}
	return nil
}

// RevokeDevice makes a device token stop working and announces it on RightsChannel.
func (s *Store) RevokeDevice(ctx context.Context, officeID, id int64) error {
	var n int
	err := s.pool.QueryRow(ctx, `WITH d AS (UPDATE devices SET revoked_at = now()
			WHERE id = $1 AND office_id = $2 AND revoked_at IS NULL RETURNING id)
		SELECT count(*) FROM (SELECT pg_notify($3, 'device:' || id) FROM d) n`, id, officeID, RightsChannel).Scan(&n)
	if err != nil {
		return fmt.Errorf("auth: revoke device: %w", err)
	}
	if n == 0 {
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
		return nil, web.NotFound("unknown_device", "no active %s %d in this office", web.Term(kind), id)
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
