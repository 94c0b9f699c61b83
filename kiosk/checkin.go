package kiosk

import (
	"context"
	"log/slog"

	"turno/ticketing"
)

// Bookings tells the kiosk whether its office takes appointments; package booking implements it. The
// kiosk then offers "I have a booking": the citizen types the booking's code on the on-screen keyboard,
// or shows its QR code to the camera where the kiosk has one and the browser reads QR codes
// (BarcodeDetector), and the page checks the booking in (POST /api/v1/bookings/{code}/check-in, as the
// kiosk's device) and prints the ticket it gets like any other.
type Bookings interface {
	TakesBookings(ctx context.Context, officeID int64) (bool, error)
}

// offersCheckIn reports whether the kiosk of office o shows "I have a booking". A failure to tell hides
// the button (walk-ins still get their tickets) and is logged.
func (h *Handler) offersCheckIn(ctx context.Context, o *ticketing.Office) bool {
	if h.Bookings == nil {
		return false
	}
	ok, err := h.Bookings.TakesBookings(ctx, o.ID)
	if err != nil {
		slog.ErrorContext(ctx, "kiosk: whether the office takes bookings", "office", o.Slug, "err", err)
		return false
	}
	return ok
}
