// Package job runs Turno's periodic work per office — expiring tickets at closing time, the nightly
// forecast refresh, the purge of old personal data, and whatever other parts register (the weekly draft
// roster) — on schedules read in each office's time zone. Any number of nodes may run a Runner against one
// database: a run is claimed by inserting its (job, office, scheduled time) row into job_runs, whose unique
// key lets exactly one node win, and every run is logged there with its node, status and detail.
package job

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"

	"turno/ticketing"
)

// AtClosing is the Spec of a job that runs at each open day's last closing time (from the office calendar,
// holidays and exceptions included).
const AtClosing = "@closing"

// Env is what jobs run with.
type Env struct {
	Pool  *pgxpool.Pool
	Store *ticketing.Store
	Log   *slog.Logger
}

// Job is a task run for every office on a schedule.
type Job struct {
	// Name identifies the job in job_runs and logs, e.g. "forecast".
	Name string
	// Spec is a standard five-field cron expression ("30 2 * * *") or descriptor ("@daily"), read in the
	// office's time zone, or AtClosing. Interval descriptors (@every) are refused: their times depend on when
	// a node started, so nodes could not agree on a run.
	Spec string
	// Run does the work for office o, scheduled at at; detail is logged with the run.
	Run func(ctx context.Context, env *Env, o *ticketing.Office, at time.Time) (detail string, err error)
}

// Schedule tells when a job runs next: the first activation strictly after t, or the zero time for none.
type Schedule interface {
	Next(t time.Time) time.Time
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Check reports whether j is well formed.
func (j Job) Check() error {
	if j.Name == "" || j.Run == nil {
		return fmt.Errorf("job: %q needs a name and a Run function", j.Name)
	}
	if j.Spec == AtClosing {
		return nil
	}
	s, err := parser.Parse(j.Spec)
	if err != nil {
		return fmt.Errorf("job %s: spec %q: %w", j.Name, j.Spec, err)
	}
	if _, ok := s.(*cron.SpecSchedule); !ok {
		return fmt.Errorf("job %s: spec %q is an interval; use a cron expression", j.Name, j.Spec)
	}
	return nil
}

// schedule returns j's schedule for office o in o's time zone; cal is needed for AtClosing only.
func (j Job) schedule(o *ticketing.Office, cal *ticketing.Calendar) (Schedule, error) {
	if j.Spec == AtClosing {
		return closingSchedule{cal}, nil
	}
	s, err := parser.Parse(j.Spec)
	if err != nil {
		return nil, fmt.Errorf("job %s: spec %q: %w", j.Name, j.Spec, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("job %s: spec %q is an interval; use a cron expression", j.Name, j.Spec)
	}
	spec.Location = time.UTC
	return wallSchedule{spec, o.Location()}, nil
}

// wallSchedule evaluates a cron expression on the office's wall clock, so each matching wall-clock time runs
// once a day even across daylight-saving changes: when clocks go back 02:30 happens twice and runs once
// (cron alone would run it twice); when they go forward 02:30 does not exist and the run happens at 03:30
// (cron alone would skip the day).
type wallSchedule struct {
	spec *cron.SpecSchedule // in UTC, standing for the wall clock
	loc  *time.Location
}

func (w wallSchedule) Next(t time.Time) time.Time {
	l := t.In(w.loc)
	wall := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
	for range 4 {
		wall = w.spec.Next(wall)
		if wall.IsZero() {
			return wall
		}
		real := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, w.loc)
		// An ambiguous wall time maps to either occurrence; take the first.
		_, off := real.Zone()
		_, offBefore := real.Add(-3 * time.Hour).Zone()
		if d := time.Duration(offBefore-off) * time.Second; d > 0 {
			if e := real.Add(-d); e.Format(time.DateTime) == real.Format(time.DateTime) && e.After(t) {
				real = e
			}
		}
		if real.After(t) {
			return real
		}
	}
	return time.Time{}
}

// closingSchedule fires at the last closing time of every open day.
type closingSchedule struct{ cal *ticketing.Calendar }

func (c closingSchedule) Next(t time.Time) time.Time {
	local := t.In(c.cal.Loc)
	for d := 0; d <= 60; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, c.cal.Loc)
		var last time.Duration
		for _, iv := range c.cal.Intervals(day) {
			last = max(last, iv.Closes)
		}
		if last == 0 {
			continue
		}
		// By wall clock, so daylight-saving days keep their closing hour.
		at := time.Date(day.Year(), day.Month(), day.Day(), int(last/time.Hour), int(last%time.Hour/time.Minute), 0, 0, c.cal.Loc)
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
}

var (
	registryMu sync.Mutex
	registry   []Job
)

// Register adds a job that every Runner built with Registered runs, next to the built-in ones. Parts call
// it from an init function; it panics on a malformed job or a duplicate name, which are programming errors.
func Register(j Job) {
	if err := j.Check(); err != nil {
		panic(err)
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, x := range append(Builtin(), registry...) {
		if x.Name == j.Name {
			panic(fmt.Sprintf("job: %q registered twice", j.Name))
		}
	}
	registry = append(registry, j)
}

// Registered returns the built-in jobs followed by the registered ones.
func Registered() []Job {
	registryMu.Lock()
	defer registryMu.Unlock()
	return append(Builtin(), slices.Clone(registry)...)
}
