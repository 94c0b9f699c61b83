package demand_test

import (
	"errors"
	"net/http"

	"turno/internal/web"
)

// isField reports whether err is a 422 *web.Error on field.
func isField(err error, field string) bool {
	var we *web.Error
	return errors.As(err, &we) && we.Status == http.StatusUnprocessableEntity && we.Field == field
}
