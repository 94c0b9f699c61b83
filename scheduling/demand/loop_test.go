package demand_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// TestBackcastIsTheForecastOfEachMonday: the planning loop's backcast of a Monday is exactly the forecast
// Preview computes the night before it, and it learns only from the weeks before that Monday.
func TestBackcastIsTheForecastOfEachMonday(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	store := demand.NewStore(env.Pool, env.Store)
	ctx := context.Background()
	rome := env.Office.Location()
	var cie int64
	if err := env.Pool.QueryRow(ctx, `SELECT id FROM services WHERE office_id = $1 AND code = 'cie'`, env.Office.ID).Scan(&cie); err != nil {
		t.Fatal(err)
	}
	// Twelve Mondays of history with k identity cards at 09:10 on the k-th: demand that grows week by week.
	first := date(2026, 3, 2)
	seq := 0
	for k := 1; k <= 12; k++ {
		day := first.AddDate(0, 0, 7*(k-1))
		for range k {
			seq++
			at := time.Date(day.Year(), day.Month(), day.Day(), 9, 10, 0, 0, rome)
			if _, err := env.Pool.Exec(ctx, `INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status,
				issued_at, queued_at, called_at, started_at, finished_at)
				VALUES ($1, $2, $3, 'H', $4, $5, $6, 'done', $7, $7, $8, $8, $9)`,
				env.Office.ID, cie, fmt.Sprintf("back%012d", seq), seq, fmt.Sprintf("H%03d", seq), day, at,
				at.Add(5*time.Minute), at.Add(5*time.Minute+time.Duration(k)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
	mondays := []time.Time{first.AddDate(0, 0, 7*9), first.AddDate(0, 0, 7*11)}
	_, got, err := store.Backcast(ctx, env.Office, mondays)
	if err != nil {
		t.Fatal(err)
	}
	cell := func(rows []demand.Row) demand.Row {
		for _, r := range rows {
			if r.Weekday == 1 && r.Slot == ticketing.Clock(9, 0) && r.Group == "anagrafe" {
				return r
			}
		}
		t.Fatal("no Monday 09:00 anagrafe cell")
		return demand.Row{}
	}
	for _, m := range mondays {
		want, err := store.Preview(ctx, env.Office.ID, env.Office.Midnight(m).Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[m], want) {
			t.Errorf("backcast of %s differs from the forecast computed that night:\n%+v\n%+v", m.Format(time.DateOnly), cell(got[m]), cell(want))
		}
	}
	// The later Monday has learnt from the two busier weeks in between.
	if a, b := cell(got[mondays[0]]).Arrivals, cell(got[mondays[1]]).Arrivals; !(b > a) || a == 0 {
		t.Errorf("Monday 09:00 arrivals %v then %v; want growth", a, b)
	}
}
