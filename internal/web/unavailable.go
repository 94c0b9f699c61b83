package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// RetryAfterSeconds is the Retry-After of a 503 answered while the database is unavailable: about the
// time PostgreSQL takes to restart or fail over.
const RetryAfterSeconds = 5

// DatabaseUnavailable reports whether err says that the database cannot be used right now, rather than
// that the request or the code is wrong: the server refuses or drops connections (it is down,
// restarting, shutting down or out of connection slots), a connection broke in the middle of a
// statement, or a wait for a connection or an answer ran out of time. Such a request may succeed when
// retried, so it deserves 503 with Retry-After, not 500.
func DatabaseUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true // refused, reset, no socket, timed out, "the database system is starting up"
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"): // connection_exception
			return true
		case pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03": // admin_shutdown, crash_shutdown, cannot_connect_now
			return true
		case pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false
	}
	var netErr net.Error
	switch {
	case errors.Is(err, pgconn.ErrConnClosed):
		return true
	case errors.As(err, &netErr): // connection reset, broken pipe, refused, timed out
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// The server closed a connection in the middle of a statement. Request bodies are decoded into
		// *Error before they get here, so an end of file is the database connection's.
		return true
	case errors.Is(err, context.DeadlineExceeded):
		// A wait bounded by the server (a pool acquire, a statement) ran out: it is overloaded or unreachable.
		return true
	}
	return false
}

// writeUnavailable answers 503 with Retry-After and reports true when err is DatabaseUnavailable;
// otherwise it writes nothing and reports false.
func writeUnavailable(w http.ResponseWriter, r *http.Request, err error) bool {
	if !DatabaseUnavailable(err) {
		return false
	}
	slog.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	JSON(w, http.StatusServiceUnavailable, map[string]*Error{"error": (&Error{Code: "unavailable",
		Message: "the service is briefly unavailable; try again in a few seconds"}).localized(ErrorLang(r))})
	return true
}
