package booking

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The API for the town's portal and the booking pages: an office's slots, booking, and the booking's own
// routes, where the code in the path is the holder's credential (like a ticket's).

// DefaultBookLimit is how many bookings one anonymous address or kiosk may make per minute.
const DefaultBookLimit = 10

// staffBookFactor is how many more bookings a staff member may make a minute than an anonymous caller.
const staffBookFactor = 10

// MaxSlotDays is the longest range of days the slots API answers at once.
const MaxSlotDays = 92

// defaultSlotDays is the range of days the slots API answers without from and to: today and 14 more.
const defaultSlotDays = 15

// bookingRoutes mounts the slots, booking and the booking's own routes.
func (h *Handler) bookingRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.With(h.Tickets.InOffice(ticketing.Anyone)).Method("GET", o+"/slots", web.Endpoint(h.apiSlots))
	r.With(h.bookLimit, h.Tickets.InOffice(ticketing.Anyone)).Method("POST", o+"/bookings", web.Endpoint(h.apiBook))
	r.Method("GET", "/api/v1/bookings/{code}", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(h.Store.ByCode(r.Context(), NormalizeCode(chi.URLParam(r, "code"))))
	}))
	r.Method("POST", "/api/v1/bookings/{code}/cancel", web.Endpoint(h.apiCancel))
	r.Method("POST", "/api/v1/bookings/{code}/reschedule", web.Endpoint(h.apiReschedule))
}

// SlotList is the answer of the slots API: a service's slots over a range of the office's days.
type SlotList struct {
	Office      string `json:"office"`
	Service     string `json:"service"`
	TimeZone    string `json:"time_zone"`
	SlotMinutes int    `json:"slot_minutes"`
	From        string `json:"from"` // the first local date, YYYY-MM-DD
	To          string `json:"to"`   // the last local date, included
	Slots       []Slot `json:"slots"`
}

// apiSlots answers GET /api/v1/offices/{office}/slots?service=&from=&to=&staff=: the slots of a bookable
// service over local days from..to (default today and the next 14 days, at most MaxSlotDays). With staff
// (a back-office service's specialist), places, booked and free are that specialist's: 1 or 0.
func (h *Handler) apiSlots(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	q := r.URL.Query()
	if q.Get("service") == "" {
		return 0, nil, web.InvalidField("service", "service is required")
	}
	svc, rules, err := h.Store.bookable(r.Context(), o, q.Get("service"))
	if err != nil {
		return 0, nil, err
	}
	from := o.LocalDay(h.Store.now())
	to := from.AddDate(0, 0, defaultSlotDays-1)
	if s := q.Get("from"); s != "" {
		if from, err = ticketing.ParseDate("from", s); err != nil {
			return 0, nil, err
		}
		to = from.AddDate(0, 0, defaultSlotDays-1)
	}
	if s := q.Get("to"); s != "" {
		if to, err = ticketing.ParseDate("to", s); err != nil {
			return 0, nil, err
		}
	}
	switch {
	case to.Before(from):
		return 0, nil, web.InvalidField("to", "to must not be before from")
	case to.Sub(from) >= MaxSlotDays*24*time.Hour:
		return 0, nil, web.InvalidField("to", "from and to may be at most %d days apart", MaxSlotDays)
	}
	var staff int64
	if s := q.Get("staff"); s != "" {
		if staff, err = strconv.ParseInt(s, 10, 64); err != nil || staff <= 0 || !rules.BackOffice {
			return 0, nil, web.InvalidField("staff", "only back-office appointments are booked with a specialist")
		}
	}
	list, err := h.Store.Slots(r.Context(), o, svc, o.Midnight(from), o.Midnight(to.AddDate(0, 0, 1)))
	if err != nil {
		return 0, nil, err
	}
	if staff != 0 {
		list = specialistSlots(list, staff)
	}
	return http.StatusOK, SlotList{Office: o.Slug, Service: svc.Code, TimeZone: o.TimeZone,
		SlotMinutes: int(rules.SlotLength(svc.ExpectedHandlingSeconds) / time.Minute),
		From:        from.Format(time.DateOnly), To: to.Format(time.DateOnly), Slots: list}, nil
}

// specialistSlots keeps the slots one specialist works in, with that specialist's place only.
func specialistSlots(list []Slot, staff int64) []Slot {
	out := []Slot{}
	for _, sl := range list {
		if !slices.Contains(sl.available, staff) {
			continue
		}
		one := Slot{Start: sl.Start, End: sl.End, Places: 1, Booked: 1}
		if slices.Contains(sl.Staff, staff) {
			one.Booked, one.Free, one.Staff = 0, 1, []int64{staff}
		}
		out = append(out, one)
	}
	return out
}

// bookBody is the body of POST /api/v1/offices/{office}/bookings.
type bookBody struct {
	Service string `json:"service"`
	Start   string `json:"start"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Phone   string `json:"phone"`
	Lang    string `json:"lang"`
}

// parseStart reads a slot's start, an RFC 3339 date and time, naming field when it is not one.
func parseStart(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, web.InvalidField(field, "start must be a date and time like 2026-03-02T09:30:00+01:00")
	}
	return t, nil
}

// apiBook answers POST /api/v1/offices/{office}/bookings: anyone may book a citizen service (the caller is
// the citizen); the office's staff book as themselves, which back-office services require.
func (h *Handler) apiBook(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	var body bookBody
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	req := BookRequest{Service: body.Service, Name: body.Name, Email: body.Email, Phone: body.Phone, Lang: body.Lang,
		IdempotencyKey: r.Header.Get("Idempotency-Key")}
	if body.Service == "" {
		return 0, nil, web.InvalidField("service", "service is required")
	}
	start, err := parseStart("start", body.Start)
	if err != nil {
		return 0, nil, err
	}
	req.Start = start
	if u := auth.FromContext(r.Context()).User; u != nil && auth.WorksIn(u, o.ID) {
		req.UserID = u.ID
	}
	b, created, err := h.Store.Book(r.Context(), o, req)
	if err != nil {
		return 0, nil, err
	}
	if !created {
		return http.StatusOK, replayed{b}, nil
	}
	return http.StatusCreated, made{b}, nil
}

// made is a booking just made; it marshals as the booking and says where it lives.
type made struct{ *Booking }

// ResponseHeaders sets Location to the booking's URL.
func (m made) ResponseHeaders(h http.Header) { h.Set("Location", "/api/v1/bookings/"+m.Code) }

// replayed is a booking returned again for a repeated Idempotency-Key; it marshals as the booking.
type replayed struct{ *Booking }

// ResponseHeaders marks the response as a replay.
func (rp replayed) ResponseHeaders(h http.Header) {
	h.Set("Idempotent-Replayed", "true")
	h.Set("Location", "/api/v1/bookings/"+rp.Code)
}

// apiCancel answers POST /api/v1/bookings/{code}/cancel: by the citizen holding the code, or by the office
// when one of its staff calls.
func (h *Handler) apiCancel(r *http.Request) (int, any, error) {
	code := NormalizeCode(chi.URLParam(r, "code"))
	b, err := h.Store.ByCode(r.Context(), code)
	if err != nil {
		return 0, nil, err
	}
	by := ByCitizen
	if auth.WorksIn(auth.FromContext(r.Context()).User, b.OfficeID) {
		by = ByOffice
	}
	return web.OK(h.Store.Cancel(r.Context(), code, by))
}

// apiReschedule answers POST /api/v1/bookings/{code}/reschedule {"start"}.
func (h *Handler) apiReschedule(r *http.Request) (int, any, error) {
	var body struct {
		Start string `json:"start"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	start, err := parseStart("start", body.Start)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(h.Store.Reschedule(r.Context(), NormalizeCode(chi.URLParam(r, "code")), start))
}
