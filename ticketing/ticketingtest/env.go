// Package ticketingtest gives tests a real, isolated Turno: a fresh migrated database with the demo office
// seeded (by the demo seeder, cmd/turno/demo), a settable clock, signed-in users and an HTTP server with the
// same middleware as turno serve. It is for tests only: production code never imports it.
package ticketingtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/database/dbtest"
	"turno/internal/web"
	"turno/ticketing"
)

// Env is one test's Turno.
type Env struct {
	Pool   *pgxpool.Pool
	Store  *ticketing.Store
	Auth   *auth.Store
	Office *ticketing.Office // the seeded demo office
	// Planning, when a test sets it, is handed to the staff API (scheduling's contracts and preferences).
	Planning ticketing.StaffPlanning

	mu  sync.Mutex
	now time.Time // zero: the real clock
}

// New creates a database for the test from the migrated template and seeds the demo office into it.
func New(tb testing.TB) *Env {
	tb.Helper()
	pool := dbtest.NewPool(tb)
	e := &Env{Pool: pool, Store: ticketing.NewStore(pool), Auth: auth.NewStore(pool)}
	e.Auth.Cost = bcrypt.MinCost
	e.Store.Now = e.Now
	o, err := demo.SeedOffice(context.Background(), e.Store, e.Auth)
	if err != nil {
		tb.Fatalf("seed demo office: %v", err)
	}
	e.Office = o
	return e
}

// Now is the test clock: the time set with SetNow, or the real time.
func (e *Env) Now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.now.IsZero() {
		return time.Now()
	}
	return e.now
}

// SetNow fixes the clock at t (zero returns to the real clock).
func (e *Env) SetNow(t time.Time) {
	e.mu.Lock()
	e.now = t
	e.mu.Unlock()
}

// Advance moves a fixed clock forward by d.
func (e *Env) Advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// Login signs a user in and returns the bearer token.
func (e *Env) Login(tb testing.TB, username string) string {
	tb.Helper()
	token, _, err := e.Auth.Login(context.Background(), username, demo.Password)
	if err != nil {
		tb.Fatalf("login %s: %v", username, err)
	}
	return token
}

// UserID returns the id of a user by name.
func (e *Env) UserID(tb testing.TB, username string) int64 {
	tb.Helper()
	var id int64
	if err := e.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		tb.Fatalf("user %s: %v", username, err)
	}
	return id
}

// StaffID returns the staff id of a user by name.
func (e *Env) StaffID(tb testing.TB, username string) int64 {
	tb.Helper()
	var id int64
	if err := e.Pool.QueryRow(context.Background(), `SELECT staff_id FROM users WHERE username = $1`, username).Scan(&id); err != nil {
		tb.Fatalf("staff of %s: %v", username, err)
	}
	return id
}

// DeskID returns the id of the demo desk with a number.
func (e *Env) DeskID(tb testing.TB, number int) int64 {
	tb.Helper()
	var id int64
	if err := e.Pool.QueryRow(context.Background(), `SELECT id FROM desks WHERE office_id = $1 AND number = $2`, e.Office.ID, number).Scan(&id); err != nil {
		tb.Fatalf("desk %d: %v", number, err)
	}
	return id
}

// Router returns the routes of the core (auth, ticketing API, desk page) on the shared middleware stack,
// plus whatever mount adds.
func (e *Env) Router(mount ...func(chi.Router)) chi.Router {
	r := web.NewRouter(e.Auth.Authenticate)
	e.Auth.Routes(r)
	(&ticketing.API{Store: e.Store, Auth: e.Auth, IssueLimit: 1000, Planning: e.Planning}).Routes(r)
	(&ticketing.Pages{Store: e.Store}).Routes(r)
	(&ticketing.Manage{Store: e.Store, Auth: e.Auth}).Routes(r)
	for _, m := range mount {
		m(r)
	}
	return r
}

// Server starts an HTTP server on Router(mount...) and closes it when the test ends. Its responses are
// validated against the API document (ValidateResponses).
func (e *Env) Server(tb testing.TB, mount ...func(chi.Router)) *httptest.Server {
	srv := httptest.NewServer(ValidateResponses(tb, e.Router(mount...)))
	tb.Cleanup(srv.Close)
	return srv
}

// Do sends a request with an optional bearer token and JSON body and returns the response; the caller
// closes its body.
func Do(tb testing.TB, method, url, token, body string) *http.Response {
	tb.Helper()
	var req *http.Request
	var err error
	if body != "" {
		req, err = http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, err = http.NewRequest(method, url, nil)
	}
	if err != nil {
		tb.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	return res
}

// Call sends a request with an optional bearer token and JSON body and returns the status and the decoded
// JSON body (nil when empty); a body that is not JSON fails the test.
func Call(tb testing.TB, method, url, token, body string) (int, any) {
	tb.Helper()
	res := Do(tb, method, url, token, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var v any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &v); err != nil {
			tb.Fatalf("%s %s: body is not JSON: %s", method, url, b)
		}
	}
	return res.StatusCode, v
}

// WantError checks that a request answers status with a JSON error naming field.
func WantError(tb testing.TB, method, url, token, body string, status int, field string) {
	tb.Helper()
	got, v := Call(tb, method, url, token, body)
	m, _ := v.(map[string]any)
	e, _ := m["error"].(map[string]any)
	if got != status || e == nil || e["field"] != field {
		tb.Errorf("%s %s %s: %d %v; want %d naming %q", method, url, body, got, v, status, field)
	}
}

// Count runs a counting query on the test's database.
func (e *Env) Count(tb testing.TB, sql string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
