package booking

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/notify"
	"turno/ticketing"
)

// Handler serves the booking part's JSON API and pages. Each concern mounts its own routes from its own file.
type Handler struct {
	Store   *Store
	Tickets *ticketing.Store
	Auth    *auth.Store
	// Outbox is the notifications outbox, whose delivery status managers see.
	Outbox *notify.Store
	// BookLimit is how many bookings one anonymous address (or kiosk) may make per minute; staff get ten
	// times as many. 0 means DefaultBookLimit.
	BookLimit int

	// bookLimit is the one limiter of the booking API and the booking form, so both share its buckets.
	bookLimit func(http.Handler) http.Handler
}

// Routes mounts the booking API and pages on r, which must run auth.Store.Authenticate.
func (h *Handler) Routes(r chi.Router) {
	limit := h.BookLimit
	if limit <= 0 {
		limit = DefaultBookLimit
	}
	h.bookLimit = ticketing.CallerLimit(limit, staffBookFactor)
	h.ruleRoutes(r)         // rules.go: booking rules, blackouts, settings (API and manager pages)
	h.bookingRoutes(r)      // api.go: slots and bookings for the town's portal
	h.checkInRoutes(r)      // checkin.go: check-in by kiosk or staff
	h.citizenRoutes(r)      // citizen.go: /book/{office} and the booking's own page
	h.backOfficeRoutes(r)   // backoffice.go: hand-off, agenda, specialists' hours
	h.notificationRoutes(r) // notices.go: delivery status for managers, push subscriptions
}

// officeAndService returns the office and the service of booking b, which every page and file about one
// booking shows.
func (h *Handler) officeAndService(ctx context.Context, b *Booking) (*ticketing.Office, *ticketing.Service, error) {
	o, err := h.Tickets.OfficeByID(ctx, b.OfficeID)
	if err != nil {
		return nil, nil, err
	}
	svc, err := h.Tickets.ServiceByCode(ctx, o.ID, b.Service)
	if err != nil {
		return nil, nil, err
	}
	return o, svc, nil
}
