package demand_test

import (
	"testing"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
)

// In a slot with one busy group and several small ones, staff are sized on the pooled traffic: fewer than
// the sum of per-group needs, shared by traffic, with every group that has arrivals keeping one person.
func TestComputePoolsTheSlot(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	cal := &ticketing.Calendar{Loc: rome, Exceptions: map[time.Time]ticketing.Exception{}}
	cal.Weekly[1] = []ticketing.Interval{{Opens: ticketing.Clock(9, 0), Closes: ticketing.Clock(9, 30)}}
	groups := []string{"anagrafe", "enel", "inps", "sociale", "tributi"}
	handling := map[string]float64{"anagrafe": 600, "enel": 600, "inps": 1200, "sociale": 1200, "tributi": 900}
	arrivals := map[string]float64{"anagrafe": 12, "enel": 0.2, "inps": 1, "sociale": 0.5, "tributi": 2}
	overrides := map[demand.Key]float64{}
	for g, n := range arrivals {
		overrides[demand.Key{Weekday: 1, Slot: ticketing.Clock(9, 0), Group: g}] = n
	}
	s := demand.DefaultSettings
	rows := demand.Compute(demand.Input{Calendar: cal, Today: date(2026, 6, 1), Settings: s, Groups: groups,
		Handling: handling, Overrides: overrides})

	var traffic, work, arr float64
	sumStaff, sumSeparate := 0, 0
	for _, r := range rows {
		if r.Weekday != 1 {
			continue
		}
		traffic += r.Arrivals * r.HandlingSeconds / 1800
		work += r.Arrivals * r.HandlingSeconds
		arr += r.Arrivals
		sumStaff += r.StaffNeeded
		sumSeparate += demand.WithShrinkage(r.AgentsNeeded, s.Shrinkage)
		if r.Arrivals > 0 && r.StaffNeeded < 1 {
			t.Errorf("group %s has %.1f arrivals and no staff", r.Group, r.Arrivals)
		}
		if r.Group == "anagrafe" && r.StaffNeeded < 3 {
			t.Errorf("the busy group gets %d staff, want the largest share", r.StaffNeeded)
		}
	}
	pooled := demand.WithShrinkage(demand.Agents(traffic, work/arr, float64(s.TargetWaitSeconds), s.ServiceLevel), s.Shrinkage)
	if sumStaff != pooled {
		t.Fatalf("the slot's staff add up to %d, want the pooled Erlang C need %d", sumStaff, pooled)
	}
	if sumStaff >= sumSeparate {
		t.Fatalf("pooled need %d is not below the sum of separate per-group needs %d", sumStaff, sumSeparate)
	}
	t.Logf("pooled staff %d, separate groups would need %d", sumStaff, sumSeparate)
}
