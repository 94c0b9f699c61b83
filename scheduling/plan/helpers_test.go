package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing/ticketingtest"
)

// testNow is a Wednesday; the demo's seeded absences fall next Wednesday (training, morning) and the
// week from the Monday after next (leave).
var testNow = time.Date(2026, 6, 3, 7, 30, 0, 0, mustRome())

func mustRome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		panic(err)
	}
	return loc
}

// nextMonday is the Monday after testNow.
var nextMonday = time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)

// planEnv is a demo office with its planning data (the demo's planning seed: templates, contracts,
// preferences, absences, eight weeks of history and the forecast) and a server with the planner mounted.
type planEnv struct {
	*ticketingtest.Env
	Planner *Planner
	Server  *httptest.Server
	Plans   *scheduling.Store
	Demand  *demand.Store
	stops   []stopper
}

func newPlanEnv(t *testing.T) *planEnv {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(testNow)
	ctx := context.Background()
	plans, forecast := scheduling.NewStore(env.Pool, env.Store), demand.NewStore(env.Pool, env.Store)
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Plans: plans, Demand: forecast}
	if err := demo.SeedPlanning(ctx, stores, env.Office, testNow); err != nil {
		t.Fatalf("seed demo planning data: %v", err)
	}
	e := &planEnv{Env: env, Plans: plans, Demand: forecast}
	e.Planner = e.node(t, 0)
	e.Server = env.Server(t, func(r chi.Router) { e.Planner.Routes(r) })
	return e
}

// node starts another planner on the environment's database, as another node would run it, with
// maxSolves slots (0: the machine's default) and a short queue poll. It stops when the test ends; stop
// stops it earlier and waits for its solves.
func (e *planEnv) node(t *testing.T, maxSolves int) *Planner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pl := New(ctx, e.Pool, e.Store, e.Plans, e.Demand, nil)
	pl.MaxSolves, pl.QueuePoll = maxSolves, 100*time.Millisecond
	if err := pl.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.stops = append(e.stops, stopper{pl, cancel})
	t.Cleanup(func() { cancel(); pl.Wait() })
	return pl
}

type stopper struct {
	pl     *Planner
	cancel context.CancelFunc
}

// stop stops a node started with node and waits until its dispatcher and solves have ended.
func (e *planEnv) stop(pl *Planner) {
	for _, s := range e.stops {
		if s.pl == pl {
			s.cancel()
			pl.Wait()
		}
	}
}

// settle waits until no roster is queued or solving.
func (e *planEnv) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n int
		if err := e.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rosters WHERE status IN ('queued', 'solving')`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d rosters still queued or solving after 2 minutes", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends a JSON request and decodes the JSON answer into out (when not nil); it returns the status.
func (e *planEnv) call(t *testing.T, method, path, token, body string, out any) int {
	t.Helper()
	res := ticketingtest.Do(t, method, e.Server.URL+path, token, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return res.StatusCode
}

type apiError struct {
	Error struct {
		Code, Message, Field string
	}
}

// solveRoster creates a roster through the API and waits until it is no longer queued or solving.
func (e *planEnv) solveRoster(t *testing.T, token string, from time.Time, days, seconds int) *RosterView {
	t.Helper()
	var created struct{ ID int64 }
	body := fmt.Sprintf(`{"from":%q,"to":%q,"time_limit_seconds":%d}`, from.Format(time.DateOnly),
		from.AddDate(0, 0, days-1).Format(time.DateOnly), seconds)
	if st := e.call(t, "POST", "/api/v1/offices/demo/rosters", token, body, &created); st != http.StatusAccepted {
		t.Fatalf("create roster: status %d", st)
	}
	deadline := time.Now().Add(time.Duration(seconds)*time.Second + time.Minute)
	for {
		var v RosterView
		if st := e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", created.ID), token, "", &v); st != http.StatusOK {
			t.Fatalf("get roster: status %d", st)
		}
		if v.Status != "solving" && v.Status != "queued" {
			if v.Status != "draft" {
				t.Fatalf("roster ended %s: %s", v.Status, v.Error)
			}
			return &v
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster still solving after %v", deadline)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func resultOf(t *testing.T, v *RosterView) *Result {
	t.Helper()
	var res Result
	if err := json.Unmarshal(v.Result, &res); err != nil {
		t.Fatalf("decode result: %v", err)
	}
	return &res
}
