package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"turno/internal/auth"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/insight"
)

// Stores are the parts the demo seeds, each through its own methods. Insight may be nil: then the
// history gets no operator time roll-up and no feedback.
type Stores struct {
	Tickets *ticketing.Store
	Auth    *auth.Store
	Plans   *scheduling.Store
	Demand  *demand.Store
	Insight *insight.Store
	// Bookings, when set, gives the demo office its appointments (SeedBookings).
	Bookings *booking.Store
}

// HistoryDays is how many days of history Seed gives each demo office: a year, so that every report has
// seasons and months to compare.
const HistoryDays = 365

// Seed adds what is missing of the demo installation, with now as today: three offices (the demo office of
// SeedOffice and two smaller towns), each with its catalogue, staff, users and devices, planning data and
// forecast, and a year of history: tickets with their outcomes, the operators' desk sessions and pauses,
// the operator time rolled up from them, and citizens' feedback; the demo office also gets its
// appointments (SeedBookings) when s.Bookings is set. It is idempotent: what exists, a
// manager's edits included, is kept, and history is only added to days that have none. It returns the
// demo office.
func Seed(ctx context.Context, s Stores, now time.Time) (*ticketing.Office, error) {
	start := time.Now()
	var first *ticketing.Office
	for _, t := range append([]*town{demoTown()}, otherTowns()...) {
		o, err := seedTown(ctx, s.Tickets, s.Auth, t)
		if err != nil {
			return nil, err
		}
		if first == nil {
			first = o
		}
		if err := seedPlanning(ctx, s, o, now); err != nil {
			return nil, err
		}
		if err := seedYear(ctx, s, t, o, now); err != nil {
			return nil, fmt.Errorf("demo office %s: %w", o.Slug, err)
		}
		if err := s.Demand.Refresh(ctx, o.ID, now); err != nil {
			return nil, err
		}
		if t.office.Slug == OfficeSlug {
			if err := SeedBookings(ctx, s, o, now); err != nil {
				return nil, fmt.Errorf("demo office %s: bookings: %w", o.Slug, err)
			}
		}
	}
	slog.Info("demo seeded", "offices", 1+len(otherTowns()), "history_days", HistoryDays, "took", time.Since(start).Round(time.Millisecond))
	return first, nil
}

// SeedDemoOffice is Seed for the demo office alone, with the HistoryWeeks weeks of ticket history its
// forecast reads and no desk sessions or feedback: what tests that need the planning data seed.
func SeedDemoOffice(ctx context.Context, s Stores, now time.Time) (*ticketing.Office, error) {
	o, err := SeedOffice(ctx, s.Tickets, s.Auth)
	if err != nil {
		return nil, err
	}
	if err := SeedPlanning(ctx, s, o, now); err != nil {
		return nil, err
	}
	return o, nil
}

// seedYear writes an office's year of history, rolls up the operator time of the days that got desk
// sessions and adds feedback to the served visits that have none.
func seedYear(ctx context.Context, s Stores, t *town, o *ticketing.Office, now time.Time) error {
	days, err := seedHistory(ctx, s, t, o, now, HistoryDays)
	if err != nil || s.Insight == nil {
		return err
	}
	if err := rollUp(ctx, s.Insight, o, days); err != nil {
		return err
	}
	today := o.LocalDay(now)
	_, err = s.Insight.ImportFeedback(ctx, o.ID, today.AddDate(0, 0, -HistoryDays), today, rateVisit)
	return err
}

// rollUp rolls up the operator time of days, four days at a time: each is a query of its own, and a
// year of them one after the other would be most of the seed's time.
func rollUp(ctx context.Context, in *insight.Store, o *ticketing.Office, days []time.Time) error {
	next := make(chan time.Time)
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for day := range next {
				if _, err := in.RollUpOperatorTime(ctx, o, day); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for _, day := range days {
		select {
		case next <- day:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err != nil {
		return err
	}
	return <-errs // nil when every day rolled up
}

// demoComments are what citizens write, by score.
var demoComments = [6][]string{
	2: {"Attesa troppo lunga.", "Mancavano informazioni sui documenti da portare."},
	3: {"Servizio nella media.", "Personale gentile ma attesa lunga."},
	4: {"Tutto bene, grazie.", "Veloci e chiari."},
	5: {"Gentilissimi, pratica risolta in pochi minuti.", "Ottimo servizio!", "Very helpful staff, thank you."},
}

// rateVisit decides whether a served visit got feedback (about one in eight) and which: the longer the wait
// against the target, the lower the score. It draws from the visit's own id, so a second seed decides the
// same.
func rateVisit(v insight.PastVisit) (insight.PastFeedback, bool) {
	rng := rand.New(rand.NewPCG(uint64(v.LastTicketID), 0x5eed))
	if rng.Float64() >= 0.125 {
		return insight.PastFeedback{}, false
	}
	score := 5
	switch ratio := v.WaitSeconds / float64(max(v.TargetSecs, 1)); {
	case ratio > 1.5:
		score = 2
	case ratio > 1:
		score = 3
	case ratio > 0.5:
		score = 4
	}
	if r := rng.Float64(); r < 0.05 {
		score -= 2
	} else if r < 0.2 {
		score--
	}
	score = max(score, 1)
	fb := insight.PastFeedback{Score: score, Source: "phone", After: time.Duration(1+rng.IntN(30)) * time.Minute}
	if rng.Float64() < 0.4 {
		fb.Source = "tablet"
		fb.After = time.Duration(10+rng.IntN(50)) * time.Second
	}
	if cs := demoComments[max(score, 2)]; rng.Float64() < 0.3 {
		fb.Comment = cs[rng.IntN(len(cs))]
	}
	return fb, true
}
