package insight

import (
	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/ticketing"
)

// Handler serves insight's JSON API and pages. Each concern mounts its own routes from its own file.
type Handler struct {
	Store   *Store
	Tickets *ticketing.Store
	Auth    *auth.Store
	// Costs gives the hourly cost of staff from their contracts (scheduling), for the per-agency
	// accounting; without it every minute is charged at the office's default rate.
	Costs StaffCosts
	// Planning gives the forecast and the published rosters (scheduling) to the planning loop; without it
	// the planning loop has no forecast and no roster to show.
	Planning Planning
	// Appointments gives the booked channel's figures (package booking) to the statistics and the reports
	// page; without it they have none.
	Appointments Appointments
}

// Routes mounts insight's API and pages on r, which must run auth.Store.Authenticate.
func (h *Handler) Routes(r chi.Router) {
	h.statsRoutes(r)
	h.operatorRoutes(r)
	h.feedbackRoutes(r)
	h.accountingRoutes(r)
	h.networkRoutes(r)
	h.reportPages(r)
}
