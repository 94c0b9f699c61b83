package ticketing

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

// userRoutes mounts the office's users for its managers under prefix (/api/v1/offices/{office}), on a
// router whose middleware has checked that the caller manages the office (auth keeps the users):
//
//	GET  /users                 the office's users, with their sign-in lock and last sign-in
//	POST /users                 a new user of the office, with a first password
//	POST /users/{id}/password   a new password set by the manager; the user's sessions end
//	POST /users/{id}/unlock     lift the lock that failed sign-ins put on the user
//	POST /users/{id}/disable    the user can no longer sign in; their sessions and streams end
//	POST /users/{id}/enable     the user can sign in again
//
// A manager acts on the office's managers and operators; only an administrator acts on an administrator
// of the office. Nobody disables themselves.
func (a *API) userRoutes(r chi.Router, prefix string) {
	r.Method("GET", prefix+"/users", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Auth.OfficeUsers(r.Context(), OfficeOf(r).ID))
	}))
	r.Method("POST", prefix+"/users", web.Endpoint(a.createUser))
	r.Method("POST", prefix+"/users/{id}/password", a.userAction(func(r *http.Request, id int64) (*auth.OfficeUser, error) {
		var body struct {
			Password string `json:"password"`
		}
		if err := web.Decode(r, &body, false); err != nil {
			return nil, err
		}
		return a.Auth.SetPassword(r.Context(), OfficeOf(r).ID, id, body.Password)
	}))
	r.Method("POST", prefix+"/users/{id}/unlock", a.userAction(func(r *http.Request, id int64) (*auth.OfficeUser, error) {
		return a.Auth.Unlock(r.Context(), OfficeOf(r).ID, id)
	}))
	r.Method("POST", prefix+"/users/{id}/disable", a.userAction(func(r *http.Request, id int64) (*auth.OfficeUser, error) {
		if me := auth.FromContext(r.Context()).User; me != nil && me.ID == id {
			return nil, web.Conflict("own_user", "you cannot disable yourself")
		}
		return a.Auth.SetActive(r.Context(), OfficeOf(r).ID, id, false)
	}))
	r.Method("POST", prefix+"/users/{id}/enable", a.userAction(func(r *http.Request, id int64) (*auth.OfficeUser, error) {
		return a.Auth.SetActive(r.Context(), OfficeOf(r).ID, id, true)
	}))
}

// userInput is a new user of the office.
type userInput struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        auth.Role `json:"role"`
	Password    string    `json:"password"`
	StaffID     *int64    `json:"staff_id"` // the staff member the user is (an operator's desk work is theirs)
}

// createUser adds a user to the office. A manager adds managers and operators; only an administrator adds
// an administrator of the office. The staff member, if given, must be the office's.
func (a *API) createUser(r *http.Request) (int, any, error) {
	var in userInput
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	o := OfficeOf(r)
	if me := auth.FromContext(r.Context()).User; in.Role == auth.Admin && (me == nil || me.Role != auth.Admin) {
		return 0, nil, web.Forbidden("admin_user", "only an administrator can create an administrator")
	}
	u := auth.NewUser{Username: auth.NormalizeUsername(in.Username), DisplayName: strings.TrimSpace(in.DisplayName),
		Role: in.Role, Password: in.Password}
	if in.StaffID != nil {
		if _, err := a.Store.StaffMember(r.Context(), o.ID, *in.StaffID); err != nil {
			return 0, nil, web.InvalidField("staff_id", "no staff member %d in this office", *in.StaffID)
		}
		u.StaffID = *in.StaffID
	}
	return web.Created(a.Auth.CreateOfficeUser(r.Context(), o.ID, u))
}

// userAction is an endpoint acting on user {id} of the office, which the caller must outrank or equal:
// an administrator's account is left to administrators.
func (a *API) userAction(act func(r *http.Request, id int64) (*auth.OfficeUser, error)) web.Endpoint {
	return func(r *http.Request) (int, any, error) {
		id, err := web.PathID(r, "id", "unknown_user")
		if err != nil {
			return 0, nil, err
		}
		target, err := a.Auth.OfficeUser(r.Context(), OfficeOf(r).ID, id)
		if err != nil {
			return 0, nil, err
		}
		if me := auth.FromContext(r.Context()).User; target.Role == auth.Admin && (me == nil || me.Role != auth.Admin) {
			return 0, nil, web.Forbidden("admin_user", "only an administrator can change an administrator's account")
		}
		return web.OK(act(r, id))
	}
}
