package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
)

// PathID reads the URL parameter name as a positive id. A malformed one names nothing that exists, so it
// is a 404 with code, like an unknown id.
func PathID(r *http.Request, name, code string) (int64, error) {
	s := chi.URLParam(r, name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound(code, "no %s %q", Term(name), s)
	}
	return id, nil
}

// FormID reads a required form field as a positive id; missing or malformed, it is a 422 on the field.
func FormID(r *http.Request, field string) (int64, error) {
	s := strings.TrimSpace(r.PostFormValue(field))
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, InvalidField(field, "%s must be chosen", Term(field))
	}
	return id, nil
}

// FormInt reads an optional integer form field: def when empty, a 422 on the field when malformed.
func FormInt(r *http.Request, field string, def int) (int, error) {
	s := strings.TrimSpace(r.PostFormValue(field))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, InvalidField(field, "%s must be a whole number", Term(field))
	}
	return n, nil
}

// QueryInt reads an optional integer query parameter: def when absent, a 422 on it when malformed.
func QueryInt(r *http.Request, name string, def int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, InvalidField(name, "%s must be a whole number", Term(name))
	}
	return n, nil
}
