package ticketing

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// DeskTime is one staff member's time at the desks of an office in one slot of one local date: how long
// they were signed in to a desk, how much of it they spent serving citizens and how much on pause, by
// the reason they gave. Staff 0 stands for sessions and tickets whose operator is no longer known.
type DeskTime struct {
	Day             time.Time // local date at UTC midnight
	Slot            TimeOfDay // the slot's start by the office's wall clock
	StaffID         int64
	SignedInSeconds float64
	// ServingSeconds adds up the service time (started → finished) of the tickets the operator served, the
	// service time of docs/kpis.md cut at the slot's edges; a ticket still being served counts up to now.
	ServingSeconds float64
	Paused         map[string]float64 // pause reason → seconds
}

// DeskTime reads an office's desk sessions, pauses and served tickets on the local dates from to to (both
// included) and cuts them into slots of slotMinutes by the office's wall clock, per staff member. What is
// still open (a session, a pause, a ticket being served) counts up to now; nothing counts after it.
//
// Slots follow the wall clock on daylight-saving days too: the hour that does not exist on the spring
// day has no slots, and the two passes of the repeated autumn hour add up in the same slots.
func (s *Store) DeskTime(ctx context.Context, o *Office, from, to time.Time, slotMinutes int) ([]DeskTime, error) {
	if slotMinutes <= 0 || 60%slotMinutes != 0 {
		return nil, fmt.Errorf("ticketing: desk time: slot of %d minutes does not divide an hour", slotMinutes)
	}
	now := s.now()
	start, end := o.Midnight(from), o.Midnight(to.AddDate(0, 0, 1))
	if end.After(now) {
		end = now
	}
	if !end.After(start) {
		return nil, nil
	}
	cut := newSlotCutter(o, from, to, slotMinutes)
	type key struct {
		day   time.Time
		slot  TimeOfDay
		staff int64
	}
	acc := map[key]*DeskTime{}
	get := func(day time.Time, slot TimeOfDay, staff int64) *DeskTime {
		k := key{day, slot, staff}
		if d, ok := acc[k]; ok {
			return d
		}
		d := &DeskTime{Day: day, Slot: slot, StaffID: staff}
		acc[k] = d
		return d
	}
	clip := func(a, b time.Time) (time.Time, time.Time) {
		if a.Before(start) {
			a = start
		}
		if b.After(end) {
			b = end
		}
		return a, b
	}

	// Sessions: signed-in time.
	rows, err := s.pool.Query(ctx, `
		SELECT coalesce(ds.staff_id, 0), ds.opened_at, coalesce(ds.closed_at, $4)
		FROM desk_sessions ds JOIN desks d ON d.id = ds.desk_id
		WHERE d.office_id = $1 AND ds.opened_at < $3 AND coalesce(ds.closed_at, 'infinity') > $2`, o.ID, start, end, now)
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk time: sessions: %w", err)
	}
	var staff int64
	var a, b time.Time
	for rows.Next() {
		if err := rows.Scan(&staff, &a, &b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticketing: desk time: sessions: %w", err)
		}
		a, b = clip(a, b)
		cut.each(a, b, func(day time.Time, slot TimeOfDay, secs float64) { get(day, slot, staff).SignedInSeconds += secs })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: desk time: sessions: %w", err)
	}

	// Pauses: an unended pause ends with its session, or now.
	rows, err = s.pool.Query(ctx, `
		SELECT coalesce(ds.staff_id, 0), p.reason, p.started_at, coalesce(p.ended_at, ds.closed_at, $4)
		FROM desk_pauses p JOIN desk_sessions ds ON ds.id = p.desk_session_id JOIN desks d ON d.id = ds.desk_id
		WHERE d.office_id = $1 AND p.started_at < $3 AND coalesce(p.ended_at, ds.closed_at, 'infinity') > $2`, o.ID, start, end, now)
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk time: pauses: %w", err)
	}
	var reason string
	for rows.Next() {
		if err := rows.Scan(&staff, &reason, &a, &b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticketing: desk time: pauses: %w", err)
		}
		a, b = clip(a, b)
		cut.each(a, b, func(day time.Time, slot TimeOfDay, secs float64) {
			d := get(day, slot, staff)
			if d.Paused == nil {
				d.Paused = map[string]float64{}
			}
			d.Paused[reason] += secs
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: desk time: pauses: %w", err)
	}

	// Served tickets: started → finished, or → now while still serving. local_day narrows the scan to the
	// office's days around the period (a ticket is served on the day it was issued, or the day after at most).
	rows, err = s.pool.Query(ctx, `
		SELECT coalesce(staff_id, 0), started_at, coalesce(finished_at, $4)
		FROM tickets
		WHERE office_id = $1 AND local_day BETWEEN $5 AND $6 AND started_at IS NOT NULL
		  AND started_at < $3 AND coalesce(finished_at, 'infinity') > $2`,
		o.ID, start, end, now, from.AddDate(0, 0, -1), to)
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk time: tickets: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&staff, &a, &b); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ticketing: desk time: tickets: %w", err)
		}
		a, b = clip(a, b)
		cut.each(a, b, func(day time.Time, slot TimeOfDay, secs float64) { get(day, slot, staff).ServingSeconds += secs })
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ticketing: desk time: tickets: %w", err)
	}

	out := make([]DeskTime, 0, len(acc))
	for _, d := range acc {
		out = append(out, *d)
	}
	sortDeskTime(out)
	return out, nil
}

func sortDeskTime(out []DeskTime) {
	slices.SortFunc(out, func(x, y DeskTime) int {
		if c := x.Day.Compare(y.Day); c != 0 {
			return c
		}
		if c := cmp.Compare(x.Slot, y.Slot); c != 0 {
			return c
		}
		return cmp.Compare(x.StaffID, y.StaffID)
	})
}

// slotCutter cuts spans of time into the wall-clock slots of an office's local dates. Within a day it
// steps from local midnight in real time; every step is labelled with the wall-clock slot it starts in,
// which stays aligned because the offsets of time zones change by whole hours (or half hours, which the
// 15- and 30-minute slots also follow).
type slotCutter struct {
	days []cutDay
	step time.Duration
}

type cutDay struct {
	day    time.Time
	starts []time.Time // the steps' starts, then the next midnight
	labels []TimeOfDay
}

func newSlotCutter(o *Office, from, to time.Time, slotMinutes int) *slotCutter {
	c := &slotCutter{step: time.Duration(slotMinutes) * time.Minute}
	loc := o.Location()
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		cd := cutDay{day: d}
		next := o.Midnight(d.AddDate(0, 0, 1))
		for at := o.Midnight(d); at.Before(next); at = at.Add(c.step) {
			tod := TimeOfDayOf(at, loc)
			cd.starts = append(cd.starts, at)
			cd.labels = append(cd.labels, tod-tod%TimeOfDay(slotMinutes))
		}
		cd.starts = append(cd.starts, next)
		c.days = append(c.days, cd)
	}
	return c
}

// each calls fn with the seconds of [a, b) that fall in each slot it overlaps.
func (c *slotCutter) each(a, b time.Time, fn func(day time.Time, slot TimeOfDay, secs float64)) {
	if !b.After(a) {
		return
	}
	for i := range c.days {
		d := &c.days[i]
		dayStart, dayEnd := d.starts[0], d.starts[len(d.starts)-1]
		if !a.Before(dayEnd) || !b.After(dayStart) {
			continue
		}
		j := 0
		if a.After(dayStart) {
			j = int(a.Sub(dayStart) / c.step)
		}
		for ; j < len(d.labels); j++ {
			s, e := d.starts[j], d.starts[j+1]
			if !s.Before(b) {
				break
			}
			lo, hi := maxTime(a, s), minTime(b, e)
			if hi.After(lo) {
				fn(d.day, d.labels[j], hi.Sub(lo).Seconds())
			}
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
