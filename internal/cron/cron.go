// Package cron runs periodic jobs for each of a set of targets (Turno's offices) on schedules read in each
// target's time zone. Any number of nodes may run a Runner against one database: a run is claimed by
// inserting its (job, target, scheduled time) row into job_runs, whose unique key lets exactly one node
// win, and every run is recorded there with its node, status and detail.
//
// The package knows nothing of offices or tickets: the parts that own the work define their jobs, and the
// binary hands the runner the jobs and a function listing the targets.
package cron

import (
	"context"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// Target is what a job runs for: an office, by id, with its name for logs and its time zone.
type Target struct {
	ID       int64
	Name     string
	Location *time.Location
}

// Schedule tells when a job runs next: the first activation strictly after t, or the zero time for none.
type Schedule interface {
	Next(t time.Time) time.Time
}

// Job is a task run for every target on a schedule.
type Job struct {
	// Name identifies the job in job_runs and logs, e.g. "forecast".
	Name string
	// Spec is a standard five-field cron expression ("30 2 * * *") or descriptor ("@daily"), read on the
	// target's wall clock. Interval descriptors (@every) are refused: their times depend on when a node
	// started, so nodes could not agree on a run. Leave it empty when Schedule is set.
	Spec string
	// Schedule, when set, gives the job's times for a target itself (for example the office's closing
	// times, which come from its calendar). It is asked again at every check.
	Schedule func(ctx context.Context, t Target) (Schedule, error)
	// Run does the work for target t, scheduled at at; detail is recorded with the run.
	Run func(ctx context.Context, t Target, at time.Time) (detail string, err error)
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Check reports whether j is well formed.
func (j Job) Check() error {
	if j.Name == "" || j.Run == nil {
		return fmt.Errorf("cron: job %q needs a name and a Run function", j.Name)
	}
	if (j.Spec == "") == (j.Schedule == nil) {
		return fmt.Errorf("cron: job %s needs either a Spec or a Schedule", j.Name)
	}
	if j.Spec != "" {
		_, err := parseSpec(j.Name, j.Spec)
		return err
	}
	return nil
}

func parseSpec(name, spec string) (*cron.SpecSchedule, error) {
	s, err := parser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("cron: job %s: spec %q: %w", name, spec, err)
	}
	ss, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("cron: job %s: spec %q is an interval; use a cron expression", name, spec)
	}
	return ss, nil
}

// schedule returns j's schedule for target t.
func (j Job) schedule(ctx context.Context, t Target) (Schedule, error) {
	if j.Schedule != nil {
		return j.Schedule(ctx, t)
	}
	spec, err := parseSpec(j.Name, j.Spec)
	if err != nil {
		return nil, err
	}
	spec.Location = time.UTC
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	return wallSchedule{spec, loc}, nil
}

// wallSchedule evaluates a cron expression on the target's wall clock, so each matching wall-clock time
// runs once a day even across daylight-saving changes: when clocks go back 02:30 happens twice and runs
// once (cron alone would run it twice); when they go forward 02:30 does not exist and the run happens at
// 03:30 (cron alone would skip the day).
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
