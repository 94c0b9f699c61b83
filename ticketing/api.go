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

// API serves the ticketing part of the v1 JSON API: offices, the catalogue and queue, tickets, desk
// actions, and the manager's office setup (setup.go).
type API struct {
	Store *Store
	Auth  *auth.Store
	// IssueLimit is how many tickets one kiosk (or one anonymous address) may request per minute.
	IssueLimit int
	// Planning adds scheduling's part of a staff member (contract, preferences) to the staff API; nil
	// leaves it out.
	Planning StaffPlanning
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
	r.Method("GET", "/api/v1/tickets/{code}", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Store.TicketByCode(r.Context(), chi.URLParam(r, "code")))
	}))
	r.Method("POST", "/api/v1/tickets/{code}/cancel", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(a.Store.Cancel(r.Context(), chi.URLParam(r, "code")))
	}))

	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.With(a.Store.InOffice(Anyone)).Method("GET", o+"/services", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(a.Store.Services(r.Context(), OfficeOf(r).ID))
		}))
		r.With(a.Store.InOffice(Anyone)).Method("GET", o+"/priorities", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(a.Store.PriorityCategories(r.Context(), OfficeOf(r).ID))
		}))
		r.With(a.Store.InOffice(Anyone)).Method("GET", o+"/queue", web.Endpoint(func(r *http.Request) (int, any, error) {
			o := OfficeOf(r)
			q, err := a.Store.Queue(r.Context(), o)
			return web.OK(map[string]any{"office": o.Slug, "services": q}, err)
		}))
		r.With(a.Store.InOffice(Members)).Method("GET", o+"/desks", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(a.Store.Desks(r.Context(), OfficeOf(r).ID))
		}))
		r.With(issueLimit(limit), a.Store.InOffice(Anyone)).Method("POST", o+"/tickets", web.Endpoint(a.issue))
		r.Group(func(r chi.Router) {
			r.Use(auth.RequireRole(auth.Manager, auth.Admin), a.Store.InOffice(Managers))
			a.setupRoutes(r, o)
		})
	})

	a.meRoutes(r) // floor.go: the operator's own day

	const dk = "/api/v1/desks/{desk}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin))
		r.Method("GET", dk, a.atDesk(false, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			if err := a.Store.deskOfOffice(ctx, desk, u); err != nil {
				return nil, err
			}
			return a.Store.DeskState(ctx, desk)
		}))
		r.Method("GET", dk+"/waiting", a.atDesk(false, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			if err := a.Store.deskOfOffice(ctx, desk, u); err != nil {
				return nil, err
			}
			list, err := a.Store.WaitingForDesk(ctx, desk, 200)
			if list == nil {
				list = []WaitingTicket{}
			}
			return list, err
		}))
		r.Method("POST", dk+"/open", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.OpenDesk(ctx, desk, u.ID, u.StaffID)
		}))
		r.Method("POST", dk+"/close", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.CloseDesk(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/next", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			t, err := a.Store.CallNext(ctx, desk, u.ID)
			if t == nil { // nothing to call: 204
				return nil, err
			}
			return t, err
		}))
		r.Method("POST", dk+"/call", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, b *deskBody) (any, error) {
			return a.Store.CallTicket(ctx, desk, u.ID, b.Ticket)
		}))
		r.Method("POST", dk+"/recall", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Recall(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/start", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Start(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/finish", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Finish(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/no-show", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.NoShow(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/pause", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, b *deskBody) (any, error) {
			return a.Store.Pause(ctx, desk, u.ID, b.Reason)
		}))
		r.Method("POST", dk+"/resume", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, _ *deskBody) (any, error) {
			return a.Store.Resume(ctx, desk, u.ID)
		}))
		r.Method("POST", dk+"/transfer", a.atDesk(true, func(ctx context.Context, desk int64, u *auth.User, b *deskBody) (any, error) {
			return a.Store.Transfer(ctx, desk, u.ID, b.Service)
		}))
	})
}

// staffIssueFactor is how many more tickets a staff member (reception triage) may issue a minute than a
// kiosk.
const staffIssueFactor = 10

// issueLimit rate-limits issuing per issuer: see CallerLimit.
func issueLimit(perMinute int) func(http.Handler) http.Handler {
	return CallerLimit(perMinute, staffIssueFactor)
}

// CallerLimit rate-limits a route per caller, never in one shared bucket: kiosks per device, anonymous
// callers per client address (an IPv6 /64 as one), staff per user at staffFactor times the rate. Routes
// that share one limiter share its buckets.
func CallerLimit(perMinute, staffFactor int) func(http.Handler) http.Handler {
	limit := httprate.LimitBy(perMinute, time.Minute, callerKey, httprate.WithLimitHandler(tooMany))
	return func(next http.Handler) http.Handler {
		limited := limit(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if auth.FromContext(r.Context()).User != nil {
				r = r.WithContext(httprate.WithRequestLimit(r.Context(), perMinute*staffFactor))
			}
			limited.ServeHTTP(w, r)
		})
	}
}

func callerKey(r *http.Request) (string, error) {
	p := auth.FromContext(r.Context())
	switch {
	case p.User != nil:
		return "user:" + strconv.FormatInt(p.User.ID, 10), nil
	case p.Device != nil:
		return "device:" + strconv.FormatInt(p.Device.ID, 10), nil
	}
	return "ip:" + web.AddressKey(web.ClientIP(r)), nil
}

func tooMany(w http.ResponseWriter, r *http.Request) {
	web.WriteError(w, r, &web.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests; wait a moment and try again"})
}

// deskBody is every field a desk action may take.
type deskBody struct {
	Ticket  int64  `json:"ticket"`  // call
	Reason  string `json:"reason"`  // pause
	Service string `json:"service"` // transfer
}

// atDesk adapts a desk action to an endpoint: it parses {desk}, decodes the JSON body into a deskBody when
// decode is set (an empty body is allowed), and answers 200 with the result, or 204 when it is nil.
func (a *API) atDesk(decode bool, act func(ctx context.Context, deskID int64, u *auth.User, b *deskBody) (any, error)) web.Endpoint {
	return func(r *http.Request) (int, any, error) {
		id, err := web.PathID(r, "desk", "unknown_desk")
		if err != nil {
			return 0, nil, err
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
		if t, ok := out.(*Ticket); ok {
			out = t.forStaff()
		}
		return http.StatusOK, out, nil
	}
}

func (a *API) issue(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	p := auth.FromContext(r.Context())
	req := IssueRequest{IdempotencyKey: r.Header.Get("Idempotency-Key")}
	switch {
	case p.Device != nil && p.Device.Kind == auth.Kiosk && p.Device.OfficeID == o.ID:
		req.DeviceID = p.Device.ID
	case p.User != nil && auth.WorksIn(p.User, o.ID):
		req.UserID = p.User.ID
	case p.User == nil && p.Device == nil && o.PhoneJoin:
		// Join from the phone (the QR poster at the entrance): an anonymous ticket, under the same rules as
		// the kiosk's, rate-limited per client address by issueLimit.
	case p.User == nil && p.Device == nil:
		return 0, nil, web.Forbidden("phone_join_disabled", "this office issues tickets at its kiosks and desks only, not from phones")
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
