package web

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FreeText tidies a free text a person typed (a citizen's comment, the front desk's note): CRLF becomes LF
// and the ends are trimmed. It returns the text, its length in characters, and whether it holds a control
// character other than a new line or a bidirectional override, which could make the text read differently
// to whoever reads it later; callers refuse those with their own field's error.
func FreeText(s string) (text string, chars int, controls bool) {
	text = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	for _, r := range text {
		chars++
		if (unicode.IsControl(r) && r != '\n') || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			controls = true
		}
	}
	return text, chars, controls
}

// MaxBody bounds every request body; a larger one is refused with 413.
const MaxBody = 1 << 20

// checkInput refuses, at the edge, what no handler should ever see and what PostgreSQL would refuse with a
// server error: a path or query with a NUL byte or invalid UTF-8 (400), a form body with one (400), and a
// body over MaxBody (413, when it is read). Handlers can then pass path parameters and form values to the
// database as they are.
func checkInput(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bad(r.URL.Path) {
			WriteError(w, r, Invalid("invalid_path", "the path has a NUL byte or is not valid UTF-8"))
			return
		}
		for k, vs := range r.URL.Query() {
			if bad(k) || anyBad(vs) {
				WriteError(w, r, &Error{Status: http.StatusBadRequest, Code: "invalid_query", Field: sanitize(k),
					Message: "a query parameter has a NUL byte or is not valid UTF-8"})
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if err := r.ParseForm(); err != nil {
				WriteError(w, r, bodyError(err))
				return
			}
			for k, vs := range r.PostForm {
				if bad(k) || anyBad(vs) {
					WriteError(w, r, &Error{Status: http.StatusBadRequest, Code: "invalid_form", Field: sanitize(k),
						Message: "a form field has a NUL byte or is not valid UTF-8"})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bad reports a string PostgreSQL cannot store as text: one with a NUL byte or invalid UTF-8.
func bad(s string) bool { return strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) }

func anyBad(vs []string) bool {
	for _, v := range vs {
		if bad(v) {
			return true
		}
	}
	return false
}

// sanitize makes a client's field name safe to echo back.
func sanitize(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// bodyError turns an error reading a request body into a client error: 413 for a body over MaxBody,
// 400 otherwise.
func bodyError(err error) *Error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return Errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than %d bytes", tooBig.Limit)
	}
	return Invalid("malformed_body", "the request body could not be read")
}

// checkStrings walks a decoded request value and refuses strings (map keys too) with a NUL byte, which
// JSON can carry as \u0000 but PostgreSQL cannot store. Invalid UTF-8 in JSON strings is already
// replaced by U+FFFD when decoding. The error names the top-level field.
func checkStrings(v reflect.Value, field string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkStrings(v.Elem(), field)
		}
	case reflect.String:
		if bad(v.String()) {
			return fieldText(field)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := field
			if name == "" {
				name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
				if name == "" {
					name = f.Name
				}
			}
			if err := checkStrings(v.Field(i), name); err != nil {
				return err
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			name := field
			if name == "" && it.Key().Kind() == reflect.String {
				name = sanitize(it.Key().String())
			}
			if err := checkStrings(it.Key(), name); err != nil {
				return err
			}
			if err := checkStrings(it.Value(), name); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // json.RawMessage and []byte: checked when decoded into their own type
		}
		for i := range v.Len() {
			if err := checkStrings(v.Index(i), field); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldText(field string) *Error {
	if field == "" {
		return Invalid("invalid_text", "a text has a NUL byte")
	}
	return InvalidField(field, "%s has a NUL byte", Term(field))
}
