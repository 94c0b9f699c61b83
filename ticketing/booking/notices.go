package booking

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/notify"
	"turno/internal/web"
	"turno/ticketing"
)

// The notifications' own routes: the managers' delivery status (a page and its JSON), and the phone page's
// opt-in to "your turn is near" (the VAPID key it subscribes with, and the subscription itself).

//go:embed templates/notices.html
var noticeTemplates embed.FS

var noticesPage = web.ManagePage(noticeTemplates, "templates/notices.html")

// recentDeliveries is how many messages the status lists, newest first.
const recentDeliveries = 100

// defaultNoticeDays is the period the counts cover unless ?days= says otherwise; maxNoticeDays the longest.
const (
	defaultNoticeDays = 30
	maxNoticeDays     = 400
)

// notificationRoutes mounts the delivery status and the push subscription routes.
func (h *Handler) notificationRoutes(r chi.Router) {
	r.With(h.Tickets.InOffice(ticketing.Managers)).
		Method(http.MethodGet, "/api/v1/offices/{office}/notifications", web.Endpoint(h.apiNotifications))
	r.With(auth.RequirePage).Get("/manage/notifications", h.Tickets.ManageHandler(noticesPage, "notifications", h.noticesPage))
	r.Method(http.MethodGet, "/api/v1/push/key", web.Endpoint(h.pushKey))
	r.Method(http.MethodPost, "/api/v1/tickets/{code}/alerts", web.Endpoint(h.subscribeAlerts))
}

// Notices is an office's delivery status: the messages of a period counted per kind, channel and status,
// the latest messages with their recipients masked, and the bookings the office cancelled (a closure or a
// blackout added after they were made), whose citizens were told.
type Notices struct {
	Since     time.Time         `json:"since"`
	Counts    []notify.Count    `json:"counts"`
	Recent    []notify.Delivery `json:"recent"`
	Cancelled []OfficeCancel    `json:"cancelled_by_office"`
}

// OfficeCancel is how many bookings of a service on a local day the office cancelled.
type OfficeCancel struct {
	Day      string `json:"day"`     // YYYY-MM-DD, the appointments' local day
	Service  string `json:"service"` // the service's code
	Bookings int    `json:"bookings"`
}

// notices reads office o's delivery status since the local midnight days days ago.
func (h *Handler) notices(ctx context.Context, o *ticketing.Office, days int) (*Notices, error) {
	if h.Outbox == nil {
		return nil, web.NotFound("notifications_unavailable", "notifications are not configured on this installation")
	}
	since := o.Midnight(o.LocalDay(h.Store.now()).AddDate(0, 0, -days))
	n := &Notices{Since: since}
	var err error
	if n.Counts, err = h.Outbox.Counts(ctx, o.ID, since); err != nil {
		return nil, err
	}
	if n.Recent, err = h.Outbox.Recent(ctx, o.ID, recentDeliveries); err != nil {
		return nil, err
	}
	if n.Cancelled, err = h.Store.officeCancels(ctx, o, since); err != nil {
		return nil, err
	}
	if n.Counts == nil {
		n.Counts = []notify.Count{}
	}
	if n.Recent == nil {
		n.Recent = []notify.Delivery{}
	}
	return n, nil
}

// officeCancels counts the bookings of office o the office cancelled since since, per local day and
// service, latest day first.
func (s *Store) officeCancels(ctx context.Context, o *ticketing.Office, since time.Time) ([]OfficeCancel, error) {
	rows, err := s.pool.Query(ctx, `SELECT to_char((b.starts_at AT TIME ZONE $3)::date, 'YYYY-MM-DD'), s.code, count(*)::int
		FROM bookings b JOIN services s ON s.id = b.service_id
		WHERE b.office_id = $1 AND b.cancelled_by = 'office' AND b.cancelled_at >= $2
		GROUP BY 1, 2 ORDER BY 1 DESC, 2`, o.ID, since, o.Location().String())
	if err != nil {
		return nil, fmt.Errorf("booking: office cancellations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OfficeCancel, error) {
		var c OfficeCancel
		err := row.Scan(&c.Day, &c.Service, &c.Bookings)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("booking: office cancellations: %w", err)
	}
	if out == nil {
		out = []OfficeCancel{}
	}
	return out, nil
}

// noticeDays reads ?days= (1 to maxNoticeDays; defaultNoticeDays when absent).
func noticeDays(r *http.Request) (int, error) {
	s := r.URL.Query().Get("days")
	if s == "" {
		return defaultNoticeDays, nil
	}
	d, err := strconv.Atoi(s)
	if err != nil || d < 1 || d > maxNoticeDays {
		return 0, web.InvalidField("days", "days must be a whole number from 1 to %d", maxNoticeDays)
	}
	return d, nil
}

// apiNotifications serves GET /api/v1/offices/{office}/notifications?days=: the delivery status. The
// office's managers.
func (h *Handler) apiNotifications(r *http.Request) (int, any, error) {
	days, err := noticeDays(r)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(h.notices(r.Context(), ticketing.OfficeOf(r), days))
}

// noticesView is the delivery page's data.
type noticesView struct {
	*Notices
	Days int
	// Table is the counts as rows of kind and channel with a column per status.
	Table []noticeRow
	lang  string
	names map[string]string // service names by code
}

// noticeRow is one kind and channel's messages by status.
type noticeRow struct {
	Kind, Channel         string
	Pending, Sent, Failed int
}

// When formats a time in the office's zone for the page.
func (v *noticesView) When(t time.Time, loc *time.Location) string {
	return web.FormatDateTime(v.lang, t.In(loc))
}

// Day formats a local day (YYYY-MM-DD) for the page.
func (v *noticesView) Day(day string) string { return web.FormatISODay(v.lang, day) }

// ServiceName names a service (by code) in the page's language.
func (v *noticesView) ServiceName(code string) string {
	if n, ok := v.names[code]; ok {
		return n
	}
	return code
}

// noticesPage fills /manage/notifications (?days=).
func (h *Handler) noticesPage(r *http.Request, o *ticketing.Office) (any, error) {
	days, err := noticeDays(r)
	if err != nil {
		return nil, err
	}
	n, err := h.notices(r.Context(), o, days)
	if err != nil {
		return nil, err
	}
	v := &noticesView{Notices: n, Days: days, lang: web.RequestLang(r, web.StaffLangs), names: map[string]string{}}
	services, err := h.Tickets.Services(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	for _, s := range services {
		v.names[s.Code] = s.Name(v.lang)
	}
	for _, c := range n.Counts {
		i := len(v.Table) - 1
		if i < 0 || v.Table[i].Kind != c.Kind || v.Table[i].Channel != string(c.Channel) {
			v.Table = append(v.Table, noticeRow{Kind: c.Kind, Channel: string(c.Channel)})
			i++
		}
		switch c.Status {
		case "pending":
			v.Table[i].Pending += c.N
		case "sent":
			v.Table[i].Sent += c.N
		case "failed":
			v.Table[i].Failed += c.N
		}
	}
	return v, nil
}

// pushKey serves GET /api/v1/push/key: the VAPID public key the phone page subscribes with. Anyone.
func (h *Handler) pushKey(r *http.Request) (int, any, error) {
	if h.Outbox == nil {
		return 0, nil, web.NotFound("push_unavailable", "alerts on the phone are not available here")
	}
	key, err := h.Outbox.VAPIDPublicKey(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]string{"key": key}, nil
}

// alertRequest is the body of POST /api/v1/tickets/{code}/alerts.
type alertRequest struct {
	Subscription *notify.Subscription `json:"subscription"`
	// Ahead is how many tickets ahead or fewer the citizen wants to be told at; absent: the office's.
	Ahead *int `json:"ahead"`
}

// alertAnswer is the answer of POST /api/v1/tickets/{code}/alerts: the threshold that applies.
type alertAnswer struct {
	Ahead int `json:"ahead"`
}

// subscribeAlerts serves POST /api/v1/tickets/{code}/alerts {"subscription", "ahead"?}: the phone page's
// opt-in to "your turn is near" by Web Push. Anyone holding the code, while the ticket waits; subscribing
// again replaces the subscription. 201 with the threshold that applies.
func (h *Handler) subscribeAlerts(r *http.Request) (int, any, error) {
	if h.Outbox == nil {
		return 0, nil, web.NotFound("push_unavailable", "alerts on the phone are not available here")
	}
	code := chi.URLParam(r, "code")
	t, err := h.Tickets.TicketByCode(r.Context(), code)
	if err != nil {
		return 0, nil, err
	}
	var req alertRequest
	if err := web.Decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	if req.Subscription == nil {
		return 0, nil, web.InvalidField("subscription", "subscription is required: the browser's push subscription")
	}
	if t.Status != ticketing.Waiting {
		return 0, nil, web.Conflict("ticket_not_waiting", "this ticket is no longer waiting")
	}
	if err := h.Outbox.Subscribe(r.Context(), t.OfficeID, topicPrefix+code, *req.Subscription, req.Ahead); err != nil {
		return 0, nil, err
	}
	ahead := 0
	if req.Ahead != nil {
		ahead = *req.Ahead
	} else {
		st, err := h.Store.SettingsOf(r.Context(), t.OfficeID)
		if err != nil {
			return 0, nil, err
		}
		ahead = st.TurnNearAhead
	}
	if h.Store.turns != nil {
		h.Store.turns.Poke(t.OfficeID) // already near: told at once
	}
	return http.StatusCreated, alertAnswer{Ahead: ahead}, nil
}

// TurnNearAhead is the office's "your turn is near" threshold: the phone page offers it.
func (s *Store) TurnNearAhead(ctx context.Context, officeID int64) (int, error) {
	st, err := s.SettingsOf(ctx, officeID)
	return st.TurnNearAhead, err
}
