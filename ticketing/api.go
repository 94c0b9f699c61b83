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
	r.Method("GET", "/api/v1/offices", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Store.Offices(r.Context()))
	}))
	r.Method("GET", "/api/v1/offices/{office}/services", a.inOffice(func(r *http.Request, o *Office) (int, any, error) {
		return web.OK(a.Store.Services(r.Context(), o.ID))
	}))
	r.Method("GET", "/api/v1/offices/{office}/priorities", a.inOffice(func(r *http.Request, o *Office) (int, any, error) {
		return web.OK(a.Store.PriorityCategories(r.Context(), o.ID))
	}))
	r.Method("GET", "/api/v1/offices/{office}/queue", a.inOffice(func(r *http.Request, o *Office) (int, any, error) {
		q, err := a.Store.Queue(r.Context(), o)
		return web.OK(map[string]any{"office": o.Slug, "services": q}, err)
	}))
	r.With(requirePrincipal).Method("GET", "/api/v1/offices/{office}/desks", a.inOffice(func(r *http.Request, o *Office) (int, any, error) {
		return web.OK(a.Store.Desks(r.Context(), o.ID))
	}))
	r.With(httprate.Limit(limit, time.Minute, httprate.WithKeyFuncs(issuerKey), httprate.WithLimitHandler(tooMany))).
		Method("POST", "/api/v1/offices/{office}/tickets", a.inOffice(a.issue))
	r.Method("GET", "/api/v1/tickets/{code}", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Store.TicketByCode(r.Context(), chi.URLParam(r, "code")))
	}))
	r.Method("POST", "/api/v1/tickets/{code}/cancel", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Store.Cancel(r.Context(), chi.URLParam(r, "code")))
	}))

	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin))
		r.Method("GET", "/api/v1/offices/{office}/devices", a.managed(func(r *http.Request, o *Office) (int, any, error) {
			return web.OK(a.Auth.Devices(r.Context(), o.ID))
		}))
		r.Method("POST", "/api/v1/offices/{office}/devices", a.managed(a.createDevice))
		r.Method("DELETE", "/api/v1/offices/{office}/devices/{device}", a.managed(a.revokeDevice))
		r.Method("GET", "/api/v1/offices/{office}/staff", a.managed(func(r *http.Request, o *Office) (int, any, error) {
			return web.OK(a.Store.StaffList(r.Context(), o.ID))
		}))
	})

	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin))
		r.Method("GET", "/api/v1/desks/{desk}", atDesk(false, func(ctx context.Context, d int64, _ *auth.User, _ *deskBody) (any, error) {
			return a.Store.DeskState(ctx, d)
		}))
		r.Method("GET", "/api/v1/desks/{desk}/waiting", atDesk(false, func(ctx context.Context, d int64, _ *auth.User, _ *deskBody) (any, error) {
			if _, err := a.Store.Desk(ctx, d); err != nil {
				return nil, err
			}
			list, err := a.Store.WaitingForDesk(ctx, d, 200)
			if list == nil {
				list = []WaitingTicket{}
			}
			return list, err
		}))
		r.Method("POST", "/api/v1/desks/{desk}/open", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.OpenDesk(ctx, d, u.ID, u.StaffID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/close", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.CloseDesk(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/next", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			t, err := a.Store.CallNext(ctx, d, u.ID)
			if t == nil { // nothing to call: 204
				return nil, err
			}
			return t, err
		}))
		r.Method("POST", "/api/v1/desks/{desk}/call", atDesk(true, func(ctx context.Context, d int64, u *auth.User, b *deskBody) (any, error) {
			if b.Ticket <= 0 {
				return nil, web.InvalidField("ticket", "ticket (the ticket id) is required")
			}
			return a.Store.CallTicket(ctx, d, u.ID, b.Ticket)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/recall", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Recall(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/start", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Start(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/finish", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Finish(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/no-show", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.NoShow(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/pause", atDesk(true, func(ctx context.Context, d int64, u *auth.User, b *deskBody) (any, error) {
			return a.Store.Pause(ctx, d, u.ID, b.Reason)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/resume", atDesk(true, func(ctx context.Context, d int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Resume(ctx, d, u.ID)
		}))
		r.Method("POST", "/api/v1/desks/{desk}/transfer", atDesk(true, func(ctx context.Context, d int64, u *auth.User, b *deskBody) (any, error) {
			return a.Store.Transfer(ctx, d, u.ID, b.Service)
		}))
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

// inOffice resolves {office} before running fn.
func (a *API) inOffice(fn func(*http.Request, *Office) (int, any, error)) web.Endpoint {
	return func(r *http.Request) (int, any, error) {
		o, err := a.Store.Office(r.Context(), chi.URLParam(r, "office"))
		if err != nil {
			return 0, nil, err
		}
		return fn(r, o)
	}
}

// managed is inOffice for callers who must manage the office.
func (a *API) managed(fn func(*http.Request, *Office) (int, any, error)) web.Endpoint {
	return a.inOffice(func(r *http.Request, o *Office) (int, any, error) {
		if !auth.CanManage(auth.FromContext(r.Context()).User, o.ID) {
			return 0, nil, web.Forbidden("other_office", "you do not manage office %q", o.Slug)
		}
		return fn(r, o)
	})
}

// deskBody is every field a desk action may take.
type deskBody struct {
	Ticket  int64  `json:"ticket"`  // call
	Reason  string `json:"reason"`  // pause
	Service string `json:"service"` // transfer
}

// atDesk adapts a desk action to an endpoint: it parses {desk}, decodes the JSON body into a deskBody when
// decode is set (an empty body is allowed), and answers 200 with the result, or 204 when it is nil.
func atDesk(decode bool, act func(ctx context.Context, deskID int64, u *auth.User, b *deskBody) (any, error)) web.Endpoint {
	return func(r *http.Request) (int, any, error) {
		id, err := strconv.ParseInt(chi.URLParam(r, "desk"), 10, 64)
		if err != nil || id <= 0 {
			return 0, nil, web.NotFound("unknown_desk", "no desk %q", chi.URLParam(r, "desk"))
		}
		b := &deskBody{}
		if decode {
			if err := web.Decode(r, b, true); err != nil {
				return 0, nil, err
			}
		}
		out, err := act(r.Context(), id, auth.FromContext(r.Context()).User, b)
		if err != nil {
			return 0, nil, err
		}
		if out == nil {
			return http.StatusNoContent, nil, nil
		}
		return http.StatusOK, out, nil
	}
}

func (a *API) issue(r *http.Request, o *Office) (int, any, error) {
	p := auth.FromContext(r.Context())
	req := IssueRequest{IdempotencyKey: r.Header.Get("Idempotency-Key")}
	switch {
	case p.Device != nil && p.Device.Kind == auth.Kiosk && p.Device.OfficeID == o.ID:
		req.DeviceID = p.Device.ID
	case p.User != nil && auth.WorksIn(p.User, o.ID):
		req.UserID = p.User.ID
	case p.User == nil && p.Device == nil:
		return 0, nil, web.Unauthorized("tickets are issued by this office's kiosks and staff: a device token is required")
	default:
		return 0, nil, web.Forbidden("forbidden", "this token cannot issue tickets for office %q", o.Slug)
	}
	var body struct {
		Service  string `json:"service"`
		Priority string `json:"priority"`
		Lang     string `json:"lang"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	req.Service, req.Priority, req.Lang = body.Service, body.Priority, body.Lang
	t, created, err := a.Store.IssueIn(r.Context(), o, req)
	switch {
	case err != nil:
		return 0, nil, err
	case !created:
		return http.StatusOK, replayed{t}, nil
	}
	return http.StatusCreated, t, nil
}

// replayed is a ticket returned again for a repeated Idempotency-Key; it marshals as the ticket.
type replayed struct{ *Ticket }

// ResponseHeaders marks the response as a replay.
func (replayed) ResponseHeaders(h http.Header) { h.Set("Idempotent-Replayed", "true") }

func (a *API) createDevice(r *http.Request, o *Office) (int, any, error) {
	var body struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	d, token, err := a.Auth.CreateDevice(r.Context(), o.ID, auth.DeviceKind(body.Kind), body.Name, "")
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"device": d, "token": token}, nil
}

func (a *API) revokeDevice(r *http.Request, o *Office) (int, any, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "device"), 10, 64)
	if err != nil {
		return 0, nil, web.NotFound("unknown_device", "no device %q", chi.URLParam(r, "device"))
	}
	return http.StatusNoContent, nil, a.Auth.RevokeDevice(r.Context(), o.ID, id)
}
