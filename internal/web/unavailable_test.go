package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/web"
)

// The errors of a database that is down, restarting, shutting down, full, or that dropped a connection
// mid-statement are outages (503 with Retry-After); the errors of a bad request or of the code are not.
func TestDatabaseUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, connectErr := pgconn.Connect(ctx, "host=/nonexistent/turno-socket-dir user=turno dbname=turno connect_timeout=2")
	if connectErr == nil {
		t.Fatal("connected to a socket that does not exist")
	}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"connect error (no server)", fmt.Errorf("ticketing: issue: %w", connectErr), true},
		{"admin shutdown 57P01", &pgconn.PgError{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"shutting down 57P03", &pgconn.PgError{Code: "57P03", Message: "the database system is shutting down"}, true},
		{"connection failure 08006", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections 53300", &pgconn.PgError{Code: "53300"}, true},
		{"connection reset", fmt.Errorf("x: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{"connection closed mid-statement", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
		{"connection already closed", fmt.Errorf("x: %w", pgconn.ErrConnClosed), true},
		{"pool acquire timed out", fmt.Errorf("acquire: %w", context.DeadlineExceeded), true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"undefined table", &pgconn.PgError{Code: "42P01"}, false},
		{"a bug", errors.New("index out of range"), false},
		{"a client error", web.Invalid("bad", "bad"), false},
		{"nil", nil, false},
	} {
		if got := web.DatabaseUnavailable(c.err); got != c.want {
			t.Errorf("%s: DatabaseUnavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// WriteError answers an outage with 503, Retry-After and a JSON error, and anything else it does not know
// with 500.
func TestWriteErrorUnavailable(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/v1/offices/demo/tickets", nil)
	w := httptest.NewRecorder()
	web.WriteError(w, r, fmt.Errorf("ticketing: issue: %w", &pgconn.PgError{Code: "57P01"}))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != strconv.Itoa(web.RetryAfterSeconds) {
		t.Fatalf("outage: status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Error.Code != "unavailable" {
		t.Fatalf("outage body %s (%v)", w.Body, err)
	}
	w = httptest.NewRecorder()
	web.WriteError(w, r, errors.New("a bug"))
	if w.Code != http.StatusInternalServerError || w.Header().Get("Retry-After") != "" {
		t.Fatalf("a bug: status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}
