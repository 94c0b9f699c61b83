package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// JSON writes v as a JSON response with the given status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// Decode reads a JSON request body into v. Unknown fields, trailing data and a wrong content type are
// refused with a 400 *Error, a body over MaxBody with 413, a value of the wrong type or a text with a NUL
// byte with a 422 naming the field. An empty body decodes as {} when allowEmpty is true.
func Decode(r *http.Request, v any, allowEmpty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send the body as application/json"}
	}
	return decode(io.LimitReader(r.Body, MaxBody+1), v, allowEmpty)
}

// decode reads one JSON value into v, refusing unknown fields and trailing data.
func decode(rd io.Reader, v any, allowEmpty bool) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return bodyError(err)
		}
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return Invalid("malformed_json", "the request body is empty; send a JSON object")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return InvalidField(typeErr.Field, "%s must be a JSON %s", Term(typeErr.Field), Term(typeErr.Type.Kind().String()))
		}
		return Invalid("malformed_json", "the request body is not valid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return Invalid("malformed_json", "the request body has data after the JSON object")
	}
	if err := checkStrings(reflect.ValueOf(v), ""); err != nil {
		return err
	}
	return nil
}

// DecodeFields reads a JSON object body into its fields, leaving their values encoded, for a request whose
// fields are split between owners (TakeFields takes each owner's part).
func DecodeFields(r *http.Request) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := Decode(r, &fields, false); err != nil {
		return nil, err
	}
	if fields == nil {
		return nil, Invalid("malformed_json", "send a JSON object")
	}
	return fields, nil
}

// TakeFields decodes into the struct v the fields that v's json tags name, as Decode would (a value of the
// wrong type names its field), and removes them from fields, leaving the fields that are not v's.
func TakeFields(fields map[string]json.RawMessage, v any) error {
	mine := map[string]json.RawMessage{}
	t := reflect.TypeOf(v).Elem()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if raw, ok := fields[name]; ok && name != "" && name != "-" {
			mine[name] = raw
			delete(fields, name)
		}
	}
	b, err := json.Marshal(mine)
	if err != nil {
		return Invalid("malformed_json", "the request body is not valid JSON")
	}
	return decode(bytes.NewReader(b), v, false)
}

// Endpoint is a JSON handler that returns its status and body, or an error that WriteError renders.
// A nil body with a 2xx status sends the status alone (e.g. 204).
type Endpoint func(r *http.Request) (status int, body any, err error)

// Headered is a response body that adds headers to its response.
type Headered interface{ ResponseHeaders(h http.Header) }

// ServeHTTP runs the endpoint and writes its result.
func (e Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body, err := e(r)
	if h, ok := body.(Headered); ok && err == nil {
		h.ResponseHeaders(w.Header())
	}
	switch {
	case err != nil:
		WriteError(w, r, err)
	case body == nil:
		w.WriteHeader(status)
	default:
		JSON(w, status, body)
	}
}

// OK is the result of an endpoint that answers 200 with body, or fails with err.
func OK(body any, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, body, nil
}

// Created is the result of an endpoint that answers 201 with body, or fails with err.
func Created(body any, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, body, nil
}

// NoContent is the result of an endpoint that answers 204, or fails with err.
func NoContent(err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
