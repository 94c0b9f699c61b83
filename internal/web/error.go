// Package web holds what Turno's HTTP handlers share: JSON responses and errors, request decoding, the page
// layout, embedded static assets and the translation catalogues.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Error is a failure that a client caused or can act on. It becomes the JSON body
// {"error":{"code":...,"message":...}} with its HTTP status. Message is the English text; WriteError sends
// it in the request's language (see ErrorLang), rendered from the catalogues i18n/errors.<lang>.json,
// which are keyed by the English format string the error was made with.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"` // the request field at fault, when there is one

	format  string // the English format of Message; "" when Message was set directly (then it is the key)
	args    []any  // the arguments of format
	context *Error // a context set by Within, shown before the message
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf makes an *Error of any status. The format string is the catalogue key of its translations, so it
// must be a literal: a test fails on a format without an Italian translation.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// Invalid reports bad input (400).
func Invalid(code, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, code, format, args...)
}

// InvalidField reports a bad value of one request field (422).
func InvalidField(field, format string, args ...any) *Error {
	e := Errorf(http.StatusUnprocessableEntity, "invalid_"+field, format, args...)
	e.Field = field
	return e
}

// NotFound reports a missing resource (404).
func NotFound(code, format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, code, format, args...)
}

// Conflict reports a request that does not fit the current state (409).
func Conflict(code, format string, args ...any) *Error {
	return Errorf(http.StatusConflict, code, format, args...)
}

// Forbidden reports a caller without the right to do this (403).
func Forbidden(code, format string, args ...any) *Error {
	return Errorf(http.StatusForbidden, code, format, args...)
}

// Unauthorized reports a missing or unknown credential (401).
func Unauthorized(format string, args ...any) *Error {
	return Errorf(http.StatusUnauthorized, "unauthorized", format, args...)
}

// On names the request field at fault and returns e.
func (e *Error) On(field string) *Error {
	e.Field = field
	return e
}

// Within puts e in a context, such as the weekday whose hours are wrong: the message becomes
// "<context>: <message>" in every language. It returns e.
func (e *Error) Within(format string, args ...any) *Error {
	c := Errorf(0, "", format, args...)
	e.context = c
	e.Message = c.Message + ": " + e.Message
	return e
}

// In returns the message in lang: the catalogue's translation of the format with the arguments
// translated (Term, Weekday, OneOf, Moment), or the English message when lang has none.
func (e *Error) In(lang string) string {
	if lang == "" || lang == "en" {
		return e.Message
	}
	msg := e.Message
	if e.context != nil {
		msg = strings.TrimPrefix(msg, e.context.Message+": ")
	}
	if key := e.format; key != "" {
		if f, ok := errorMessage(lang, key); ok {
			msg = fmt.Sprintf(f, localArgs(lang, e.args)...)
		}
	} else if f, ok := errorMessage(lang, e.Message); ok {
		msg = f
	}
	if e.context != nil {
		msg = e.context.In(lang) + ": " + msg
	}
	return msg
}

// localized returns a copy of e with its message in lang.
func (e *Error) localized(lang string) *Error {
	c := *e
	c.Message = e.In(lang)
	return &c
}

// WriteError writes err as a JSON error. A value the database refused (data exceptions and constraint
// violations: a number out of a column's range, a duplicate) is the client's fault whatever the handler
// missed, so it becomes a 4xx too, logged at warning level as a gap in validation. Other errors that are
// not *Error are logged and become a 500 whose body says nothing of the cause.
//
// The message is in the language ErrorLang picks from the request's Accept-Language header; the code
// stays the same in every language, for programs and pages to act on.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	lang := ErrorLang(r)
	var own interface{ Localized(lang string) *Error } // an error that writes its message in lang itself
	if errors.As(err, &own) {
		e := own.Localized(lang)
		JSON(w, e.Status, map[string]*Error{"error": e})
		return
	}
	var e *Error
	if errors.As(err, &e) {
		JSON(w, e.Status, map[string]*Error{"error": e.localized(lang)})
		return
	}
	if writeUnavailable(w, r, err) { // the database is down or going away: 503 + Retry-After
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away mid-request: nobody reads the answer and nothing failed on our side.
		slog.DebugContext(r.Context(), "request canceled by the client", "method", r.Method, "path", RedactPath(r.URL.Path))
		w.WriteHeader(499) // nginx's "client closed request", for access logs
		return
	}
	if e := refusedValue(err); e != nil {
		slog.WarnContext(r.Context(), "database refused a request's value", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
		JSON(w, e.Status, map[string]*Error{"error": e.localized(lang)})
		return
	}
	slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
	JSON(w, http.StatusInternalServerError, map[string]*Error{"error": (&Error{Code: "internal", Message: "internal error"}).localized(lang)})
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
