package ticketing

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"turno/internal/auth"
	"turno/internal/web"
)

// API serves the ticketing part of the v1 JSON API.
type API struct {
	Store *Store
	Auth  *auth.Store
	// IssueLimit is how many tickets one kiosk (or one anonymous address) may request per minute.
	IssueLimit int
}

// Routes mounts the API on r, which must run auth.Store.Authenticate.
func (a *API) Routes(r chi.Router) {
	limit := a.IssueLimit
	if limit <= 0 {
		limit = 30
	}
	r.Get("/api/v1/offices", a.listOffices)
	r.Get("/api/v1/offices/{office}/services", a.listServices)
	r.Get("/api/v1/offices/{office}/priorities", a.listPriorities)
	r.Get("/api/v1/offices/{office}/queue", a.queue)
	r.With(requirePrincipal).Get("/api/v1/offices/{office}/desks", a.listDesks)
	r.With(httprate.Limit(limit, time.Minute, httprate.WithKeyFuncs(issuerKey), httprate.WithLimitHandler(tooMany))).
		Post("/api/v1/offices/{office}/tickets", a.issue)
	r.Get("/api/v1/tickets/{code}", a.ticketByCode)
	r.Post("/api/v1/tickets/{code}/cancel", a.cancel)

	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin))
		r.Get("/api/v1/offices/{office}/devices", a.listDevices)
		r.Post("/api/v1/offices/{office}/devices", a.createDevice)
		r.Delete("/api/v1/offices/{office}/devices/{device}", a.revokeDevice)
		r.Get("/api/v1/offices/{office}/staff", a.listStaff)
	})

	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin))
		r.Get("/api/v1/desks/{desk}", a.deskState)
		r.Get("/api/v1/desks/{desk}/waiting", a.deskWaiting)
		r.Post("/api/v1/desks/{desk}/open", a.openDesk)
		r.Post("/api/v1/desks/{desk}/close", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.CloseDesk(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/next", a.next)
		r.Post("/api/v1/desks/{desk}/call", a.call)
		r.Post("/api/v1/desks/{desk}/recall", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.Recall(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/start", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.Start(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/finish", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.Finish(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/no-show", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.NoShow(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/resume", a.deskAction(func(ctx context.Context, d, u int64) (any, error) { return a.Store.Resume(ctx, d, u) }))
		r.Post("/api/v1/desks/{desk}/pause", a.pause)
		r.Post("/api/v1/desks/{desk}/transfer", a.transfer)
	})
}

func requirePrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := auth.FromContext(r.Context()); p.User == nil && p.Device == nil {
			web.WriteError(w, r, web.Unauthorized("sign in or use a device token"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// issuerKey rate-limits kiosks per device and anonymous callers per address; staff are not limited.
func issuerKey(r *http.Request) (string, error) {
	p := auth.FromContext(r.Context())
	switch {
	case p.User != nil:
		return "", nil
	case p.Device != nil:
		return "device:" + strconv.FormatInt(p.Device.ID, 10), nil
	}
	return httprate.KeyByIP(r)
}

func tooMany(w http.ResponseWriter, r *http.Request) {
	web.WriteError(w, r, &web.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests; wait a moment and try again"})
}

// office resolves {office} from the path.
func (a *API) office(r *http.Request) (*Office, error) {
	return a.Store.Office(r.Context(), chi.URLParam(r, "office"))
}

// managedOffice resolves {office} and checks the caller may manage it.
func (a *API) managedOffice(r *http.Request) (*Office, error) {
	o, err := a.office(r)
	if err != nil {
		return nil, err
	}
	if !auth.CanManage(auth.FromContext(r.Context()).User, o.ID) {
		return nil, web.Forbidden("other_office", "you do not manage office %q", o.Slug)
	}
	return o, nil
}

func (a *API) listOffices(w http.ResponseWriter, r *http.Request) {
	offices, err := a.Store.Offices(r.Context())
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, offices)
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request) {
	o, err := a.office(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	services, err := a.Store.Services(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, services)
}

func (a *API) listPriorities(w http.ResponseWriter, r *http.Request) {
	o, err := a.office(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ps, err := a.Store.PriorityCategories(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, ps)
}

func (a *API) listDesks(w http.ResponseWriter, r *http.Request) {
	o, err := a.office(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	desks, err := a.Store.Desks(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, desks)
}

func (a *API) listStaff(w http.ResponseWriter, r *http.Request) {
	o, err := a.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	staff, err := a.Store.StaffList(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, staff)
}

func (a *API) queue(w http.ResponseWriter, r *http.Request) {
	o, err := a.office(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	q, err := a.Store.Queue(r.Context(), o)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"office": o.Slug, "services": q})
}

type issueBody struct {
	Service  string `json:"service"`
	Priority string `json:"priority"`
	Lang     string `json:"lang"`
}

func (a *API) issue(w http.ResponseWriter, r *http.Request) {
	o, err := a.office(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	p := auth.FromContext(r.Context())
	req := IssueRequest{OfficeID: o.ID, IdempotencyKey: r.Header.Get("Idempotency-Key")}
	switch {
	case p.Device != nil && p.Device.Kind == auth.Kiosk && p.Device.OfficeID == o.ID:
		req.DeviceID = p.Device.ID
	case p.User != nil && auth.WorksIn(p.User, o.ID):
		req.UserID = p.User.ID
	case p.User == nil && p.Device == nil:
		web.WriteError(w, r, web.Unauthorized("tickets are issued by this office's kiosks and staff: a device token is required"))
		return
	default:
		web.WriteError(w, r, web.Forbidden("forbidden", "this token cannot issue tickets for office %q", o.Slug))
		return
	}
	var body issueBody
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	req.Service, req.Priority, req.Lang = body.Service, body.Priority, body.Lang
	t, created, err := a.Store.Issue(r.Context(), req)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	web.JSON(w, status, t)
}

func (a *API) ticketByCode(w http.ResponseWriter, r *http.Request) {
	t, err := a.Store.TicketByCode(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

func (a *API) cancel(w http.ResponseWriter, r *http.Request) {
	t, err := a.Store.Cancel(r.Context(), chi.URLParam(r, "code"))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

// deskUser returns the desk id of the path and the signed-in user.
func deskUser(r *http.Request) (int64, *auth.User, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "desk"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, web.NotFound("unknown_desk", "no desk %q", chi.URLParam(r, "desk"))
	}
	return id, auth.FromContext(r.Context()).User, nil
}

// deskAction adapts a desk action that takes no body to a handler.
func (a *API) deskAction(act func(ctx context.Context, deskID, userID int64) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		deskID, u, err := deskUser(r)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		if err := web.Decode(r, &struct{}{}, true); err != nil {
			web.WriteError(w, r, err)
			return
		}
		out, err := act(r.Context(), deskID, u.ID)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		web.JSON(w, http.StatusOK, out)
	}
}

func (a *API) deskState(w http.ResponseWriter, r *http.Request) {
	deskID, _, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	st, err := a.Store.DeskState(r.Context(), deskID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, st)
}

func (a *API) deskWaiting(w http.ResponseWriter, r *http.Request) {
	deskID, _, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if _, err := a.Store.Desk(r.Context(), deskID); err != nil {
		web.WriteError(w, r, err)
		return
	}
	list, err := a.Store.WaitingForDesk(r.Context(), deskID, 200)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if list == nil {
		list = []WaitingTicket{}
	}
	web.JSON(w, http.StatusOK, list)
}

func (a *API) openDesk(w http.ResponseWriter, r *http.Request) {
	deskID, u, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := web.Decode(r, &struct{}{}, true); err != nil {
		web.WriteError(w, r, err)
		return
	}
	st, err := a.Store.OpenDesk(r.Context(), deskID, u.ID, u.StaffID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, st)
}

func (a *API) next(w http.ResponseWriter, r *http.Request) {
	deskID, u, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := web.Decode(r, &struct{}{}, true); err != nil {
		web.WriteError(w, r, err)
		return
	}
	t, err := a.Store.CallNext(r.Context(), deskID, u.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if t == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

func (a *API) call(w http.ResponseWriter, r *http.Request) {
	deskID, u, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var body struct {
		Ticket int64 `json:"ticket"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if body.Ticket <= 0 {
		web.WriteError(w, r, web.InvalidField("ticket", "ticket (the ticket id) is required"))
		return
	}
	t, err := a.Store.CallTicket(r.Context(), deskID, u.ID, body.Ticket)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

func (a *API) pause(w http.ResponseWriter, r *http.Request) {
	deskID, u, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var body struct {
		Reason string `json:"reason"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	st, err := a.Store.Pause(r.Context(), deskID, u.ID, body.Reason)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, st)
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request) {
	deskID, u, err := deskUser(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var body struct {
		Service string `json:"service"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	t, err := a.Store.Transfer(r.Context(), deskID, u.ID, body.Service)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, t)
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request) {
	o, err := a.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	devices, err := a.Auth.Devices(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, devices)
}

func (a *API) createDevice(w http.ResponseWriter, r *http.Request) {
	o, err := a.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var body struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	d, token, err := a.Auth.CreateDevice(r.Context(), o.ID, auth.DeviceKind(body.Kind), body.Name, "")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]any{"device": d, "token": token})
}

func (a *API) revokeDevice(w http.ResponseWriter, r *http.Request) {
	o, err := a.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "device"), 10, 64)
	if err != nil {
		web.WriteError(w, r, web.NotFound("unknown_device", "no device %q", chi.URLParam(r, "device")))
		return
	}
	if err := a.Auth.RevokeDevice(r.Context(), o.ID, id); err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
