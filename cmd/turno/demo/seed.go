package demo

import (
	"context"
	"time"

	"turno/internal/auth"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
)

// Stores are the parts the demo seeds, each through its own methods.
type Stores struct {
	Tickets *ticketing.Store
	Auth    *auth.Store
	Plans   *scheduling.Store
	Demand  *demand.Store
}

// Seed adds what is missing of the demo: the office with its catalogue, staff, users and devices
// (SeedOffice), then its planning data, history and forecast (SeedPlanning), with now as today. It is
// idempotent: what exists, a manager's edits included, is kept.
func Seed(ctx context.Context, s Stores, now time.Time) (*ticketing.Office, error) {
	o, err := SeedOffice(ctx, s.Tickets, s.Auth)
	if err != nil {
		return nil, err
	}
	if err := SeedPlanning(ctx, s, o, now); err != nil {
		return nil, err
	}
	return o, nil
}
