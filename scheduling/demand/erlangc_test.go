package demand

import (
	"math"
	"testing"
)

// The table of /work/shared/benchmarks/erlangc.md (../shared/benchmarks/erlangc.md from the repository): the
// worked example of the CRAN ErlangC package README, pyworkforce and Call Centre Helper — 100 contacts per
// 30 minutes, 180 s average handling time (A = 10 Erlangs), 20 s target answer time.
var erlangTable = []struct {
	n                         int
	a                         float64
	pWait, asa, sl, occupancy float64
}{
	{11, 10, 0.6821182, 122.78, 0.3896138, 0.9090909},
	{12, 10, 0.4493882, 40.445, 0.640158, 0.8333333},
	{13, 10, 0.2852705, 17.116, 0.7955948, 0.7692308},
	{14, 10, 0.1741319, 7.836, 0.88835, 0.7142857},
}

func TestErlangCTable(t *testing.T) {
	const aht, target = 180.0, 20.0
	// The table's traffic is λ·AHT: 100 contacts per 1800 s × 180 s.
	if a := 100.0 / 1800 * aht; math.Abs(a-10) > 1e-12 {
		t.Fatalf("traffic = %v, want 10", a)
	}
	for _, row := range erlangTable {
		if got := ErlangC(row.n, row.a); math.Abs(got-row.pWait) > 5e-7 {
			t.Errorf("N=%d: P(wait) = %.7f, want %.7f", row.n, got, row.pWait)
		}
		// ASA is published rounded to 5 significant digits (122.78, 40.445 …).
		if got := ASA(row.n, row.a, aht); math.Abs(got-row.asa) > 0.005 {
			t.Errorf("N=%d: ASA = %.4f s, want %.3f s", row.n, got, row.asa)
		}
		if got := ServiceLevel(row.n, row.a, aht, target); math.Abs(got-row.sl) > 5e-6 {
			t.Errorf("N=%d: SL(20 s) = %.7f, want %.7f", row.n, got, row.sl)
		}
		if got := row.a / float64(row.n); math.Abs(got-row.occupancy) > 5e-8 {
			t.Errorf("N=%d: occupancy = %.7f, want %.7f", row.n, got, row.occupancy)
		}
	}
	// "So for an 80 % service level in 20 s this example needs 14 agents (before shrinkage); with 30 %
	// shrinkage, 20 on the roster."
	if got := Agents(10, aht, target, 0.80); got != 14 {
		t.Errorf("Agents(80%% in 20 s) = %d, want 14", got)
	}
	if got := WithShrinkage(14, 0.30); got != 20 {
		t.Errorf("WithShrinkage(14, 30%%) = %d, want 20", got)
	}
}

// TestMM1 checks the single-server case against the textbook examples of erlangc.md: with one agent Erlang C
// is the utilisation ρ and the mean wait in queue is Wq = ρ/(μ−λ).
func TestMM1(t *testing.T) {
	// λ = 24/h, μ = 30/h: p0 = 0.2, W = 1/6 h (so Wq = W − 1/μ = 1/6 − 1/30 h = 8 min).
	lambda, mu := 24.0, 30.0
	a := lambda / mu
	if p0 := 1 - ErlangC(1, a); math.Abs(p0-0.2) > 1e-12 {
		t.Errorf("p0 = %v, want 0.2", p0)
	}
	aht := 3600 / mu // seconds
	if w := ASA(1, a, aht) + aht; math.Abs(w-3600.0/6) > 1e-9 {
		t.Errorf("W = %v s, want 600 s", w)
	}
	// λ = 30/h, mean service 1.5 min: Lq = 2.25, Wq = 4.5 min, p0 = 0.25.
	a = 30.0 / 60 * 1.5
	if p0 := 1 - ErlangC(1, a); math.Abs(p0-0.25) > 1e-12 {
		t.Errorf("p0 = %v, want 0.25", p0)
	}
	wq := ASA(1, a, 90)
	if math.Abs(wq-270) > 1e-9 {
		t.Errorf("Wq = %v s, want 270 s", wq)
	}
	if lq := 30.0 / 3600 * wq; math.Abs(lq-2.25) > 1e-12 {
		t.Errorf("Lq = %v, want 2.25", lq)
	}
}

func TestErlangCEdges(t *testing.T) {
	if got := ErlangC(5, 0); got != 0 {
		t.Errorf("no traffic: P(wait) = %v, want 0", got)
	}
	if got := ErlangC(3, 3); got != 1 {
		t.Errorf("n = a: P(wait) = %v, want 1 (the queue grows without bound)", got)
	}
	if got := Agents(0, 600, 900, 0.8); got != 0 {
		t.Errorf("no traffic needs %d agents, want 0", got)
	}
	// A large office: the recursion must stay finite where factorials overflow (N past 170).
	if got := ErlangC(400, 380); math.IsNaN(got) || got <= 0 || got >= 1 {
		t.Errorf("ErlangC(400, 380) = %v, want a probability", got)
	}
	if got := Agents(380, 180, 20, 0.8); got <= 380 || got > 420 {
		t.Errorf("Agents(380 Erlangs) = %d, want a little above 380", got)
	}
	if got := WithShrinkage(0, 0.3); got != 0 {
		t.Errorf("WithShrinkage(0) = %d", got)
	}
	if got := WithShrinkage(17, 0.15); got != 20 {
		t.Errorf("WithShrinkage(17, 15%%) = %d, want 20 (17/0.85 is exactly 20)", got)
	}
}
