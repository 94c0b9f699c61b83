// Package web holds what Turno's HTTP handlers share: JSON responses and errors, request decoding, the page
// layout, embedded static assets and the translation catalogues.
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is a failure that a client caused or can act on. It becomes the JSON body
// {"error":{"code":...,"message":...}} with its HTTP status.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the request field at fault, when there is one
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Invalid reports bad input (400).
func Invalid(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidField reports a bad value of one request field (422).
func InvalidField(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_" + field, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports a missing resource (404).
func NotFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports a request that does not fit the current state (409).
func Conflict(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Forbidden reports a caller without the right to do this (403).
func Forbidden(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Unauthorized reports a missing or unknown credential (401).
func Unauthorized(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(format, args...)}
}

// WriteError writes err as a JSON error. A value the database refused (data exceptions and constraint
// violations: a number out of a column's range, a duplicate) is the client's fault whatever the handler
// missed, so it becomes a 4xx too, logged at warning level as a gap in validation. Other errors that are
// not *Error are logged and become a 500 whose body says nothing of the cause.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if errors.As(err, &e) {
		JSON(w, e.Status, map[string]*Error{"error": e})
		return
	}
	if writeUnavailable(w, r, err) { // the database is down or going away: 503 + Retry-After
		return
	}
	if e := refusedValue(err); e != nil {
		slog.WarnContext(r.Context(), "database refused a request's value", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
		JSON(w, e.Status, map[string]*Error{"error": e})
		return
	}
	slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
	JSON(w, http.StatusInternalServerError, map[string]*Error{"error": {Code: "internal", Message: "internal error"}})
}

// refusedValue maps PostgreSQL's data exceptions (class 22) and integrity constraint violations (class
// 23) to client errors, or returns nil.
func refusedValue(err error) *Error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil
	}
	switch {
	case pgErr.Code == "23505":
		return Conflict("duplicate", "this already exists")
	case strings.HasPrefix(pgErr.Code, "23"):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_reference", Message: "the request refers to something that does not exist or is not allowed"}
	case strings.HasPrefix(pgErr.Code, "22"):
		return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_value", Message: "a value of the request is out of range or malformed"}
	}
	return nil
}
