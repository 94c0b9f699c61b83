package roster

import (
	"math/rand/v2"
	"testing"
	"time"
)

// randomStaff returns a staff member with random limits, some of them
// tight, over the tiny shift types.
func randomStaff(rng *rand.Rand, days int) Staff {
	st := NewStaff("A")
	pick := func(p float64) bool { return rng.Float64() < p }
	if pick(0.5) {
		st.MaxShifts = []int{Unlimited, rng.IntN(4), Unlimited}
	}
	if pick(0.5) {
		st.MinMinutes = 480 * rng.IntN(4)
	}
	if pick(0.5) {
		st.MaxMinutes = 480*rng.IntN(5) + 100*rng.IntN(2)
	}
	if pick(0.6) {
		st.MaxConsecutive = 1 + rng.IntN(4)
	}
	if pick(0.6) {
		st.MinConsecutive = rng.IntN(4)
	}
	if pick(0.6) {
		st.MinConsecutiveOff = rng.IntN(4)
	}
	if pick(0.4) {
		st.MaxWeekends = rng.IntN(2)
	}
	if pick(0.3) {
		st.MaxSaturdays = rng.IntN(2)
	}
	if pick(0.3) {
		st.MinRest = 600 + 60*rng.IntN(3)
	}
	if pick(0.5) {
		st.Unavailable = []int{rng.IntN(days)}
	}
	return st
}

// TestRowDPMatchesBruteForce compares the row program with an exhaustive
// search over all rows, scored by the evaluator, on random staff and costs,
// half the time with some cells banned.
func TestRowDPMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const days = 7
	for trial := range 200 {
		m := &Model{
			Days:         days,
			FirstWeekday: time.Weekday(rng.IntN(7)),
			Shifts:       tinyShifts(),
			Staff:        []Staff{randomStaff(rng, days)},
		}
		if err := m.Validate(); err != nil {
			t.Fatal(err)
		}
		p := compile(m)
		rs := p.newRowSolver(0)
		if rs.full == nil {
			t.Fatal("no plan for a tiny row")
		}
		cost := make([]int32, days*p.nv)
		for i := range cost {
			cost[i] = int32(rng.IntN(21) - 10)
		}
		fix := noFix
		if trial%2 == 1 {
			fix.ban = make([]bool, days*p.nv)
			for i := range fix.ban {
				fix.ban[i] = rng.IntN(7) == 0
			}
		}

		bestCost, found := int32(0), false
		row := make([]int, days)
		var walk func(d int, c int32)
		walk = func(d int, c int32) {
			if d == days {
				if len(rowViolations(m, 0, row)) == 0 && (!found || c < bestCost) {
					bestCost, found = c, true
				}
				return
			}
			for v := range p.nv {
				if fix.ban != nil && fix.ban[d*p.nv+v] {
					continue
				}
				row[d] = v - 1
				walk(d+1, c+cost[d*p.nv+v])
			}
		}
		walk(0, 0)

		out := make([]int16, days)
		_, ok := rs.solve(p, cost, fix, &dpScratch{}, out)
		var got int32
		for d, v := range out {
			got += cost[d*p.nv+int(v)]
			if ok && fix.ban != nil && fix.ban[d*p.nv+int(v)] {
				t.Fatalf("trial %d: DP row %v uses a banned cell on day %d", trial, out, d)
			}
		}
		if ok != found {
			t.Fatalf("trial %d: staff %+v: DP feasible=%v, brute force %v", trial, m.Staff[0], ok, found)
		}
		if !ok {
			continue
		}
		if got != bestCost {
			t.Fatalf("trial %d: staff %+v: DP cost %d, brute force %d", trial, m.Staff[0], got, bestCost)
		}
		for d, v := range out {
			row[d] = int(v) - 1
		}
		if vs := rowViolations(m, 0, row); len(vs) > 0 {
			t.Fatalf("trial %d: DP row %v has violations %v", trial, row, vs)
		}
	}
}
