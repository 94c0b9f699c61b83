package bench

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"turno/internal/database/dbtest"
)

// A short real region: the turno binary built from this tree as the node, two offices with two desks, a
// screen and five phones each, in both client modes. Every kind of latency is measured, the events and
// statements are counted, and nothing fails.
func TestRegionShortRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real nodes for seconds of load")
	}
	bin := filepath.Join(t.TempDir(), "turno")
	if out, err := exec.Command("go", "build", "-o", bin, "turno/cmd/turno").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, pull := range []bool{false, true} {
		name := map[bool]string{false: "push", true: "pull"}[pull]
		t.Run(name, func(t *testing.T) {
			opt := RegionOptions{Node: []string{bin, "serve"}, DatabaseURL: dbtest.URL(), Offices: 2, Desks: 2, Screens: 1,
				Phones: 5, Factor: 200, Weekday: time.Monday, Clock: 10*time.Hour + 15*time.Minute,
				Duration: 5 * time.Second, Warmup: 2 * time.Second, Nodes: 1, Pull: pull, Runs: 1, Seed: 1}
			if _, err := raiseFileLimit(); err != nil {
				t.Fatal(err)
			}
			r, err := regionRun(context.Background(), opt, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.events == 0 {
				t.Fatal("no events in the window")
			}
			for name, l := range map[string]latency{"issue": r.issue, "call-next": r.call, "event → screen": r.screen,
				"called frame": r.called, "event → desk": r.desk, "event → phone": r.phone} {
				if l.n == 0 || l.p50 <= 0 || l.p99 < l.p50 || l.max < l.p99 {
					t.Errorf("%s: %+v, want measured latencies", name, l)
				}
			}
			if r.perEvent(r.statements) <= 0 {
				t.Errorf("statements per event %v, want > 0", r.perEvent(r.statements))
			}
			if r.connections != 2*(1+2+5) {
				t.Errorf("connections %d, want %d", r.connections, 2*(1+2+5))
			}
			if n := r.errors(); n != 0 {
				t.Errorf("%d errors: HTTP %v, %d drops, %d dial failures", n, r.httpErrors, r.drops, r.dialFailure)
			}
		})
	}
}
