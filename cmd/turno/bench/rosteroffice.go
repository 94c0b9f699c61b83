package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"turno/scheduling/plan"
	"turno/ticketing"
)

// RosterOfficeOptions configure RosterOffice: the size of the synthetic office, the solver's time limits,
// how many seeds to run per limit and the solver threads.
type RosterOfficeOptions struct {
	Staff, Groups, Days int
	Limits              []time.Duration
	Seeds               int
	Threads             int
}

// rosterOfficeRun is one measured solve of the synthetic office.
type rosterOfficeRun struct {
	seed           uint64
	limit          time.Duration
	timeToFeasible time.Duration // negative: none found
	feasible       bool
	shortfall      int
	uncovered      int
	objective      int
	needed         int
}

// ParseRosterOffice reads the flags of "turno bench roster-office" (--staff 60 --groups 8 --days 28
// --seeds 3 --threads 2 --limits 10s,60s).
func ParseRosterOffice(args []string) (RosterOfficeOptions, error) {
	fs := flag.NewFlagSet("bench roster-office", flag.ContinueOnError)
	var opt RosterOfficeOptions
	fs.IntVar(&opt.Staff, "staff", 60, "staff members")
	fs.IntVar(&opt.Groups, "groups", 8, "skill groups (at most 10)")
	fs.IntVar(&opt.Days, "days", 28, "days in the roster")
	fs.IntVar(&opt.Seeds, "seeds", 3, "runs (seeds) per time limit")
	fs.IntVar(&opt.Threads, "threads", 2, "solver threads")
	limits := fs.String("limits", "10s,60s", "comma-separated time limits")
	if err := fs.Parse(args); err != nil {
		return RosterOfficeOptions{}, err
	}
	for _, s := range strings.Split(*limits, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return RosterOfficeOptions{}, fmt.Errorf("bench roster-office: --limits: %w", err)
		}
		opt.Limits = append(opt.Limits, d)
	}
	return opt, nil
}

// RosterOffice solves the synthetic office (SyntheticOffice) once per seed and time limit with the real
// office model and solver, and writes one line per run and the medians per limit.
func RosterOffice(ctx context.Context, w io.Writer, opt RosterOfficeOptions) error {
	if opt.Staff < 1 || opt.Groups < 1 || opt.Groups > len(syntheticGroups) || opt.Days < 1 || opt.Seeds < 1 || len(opt.Limits) == 0 {
		return fmt.Errorf("bench roster-office: need staff, 1–%d groups, days, seeds and time limits", len(syntheticGroups))
	}
	var runs []rosterOfficeRun
	fmt.Fprintf(w, "synthetic office: %d staff, %d skill groups, %d days, 30-minute slots, Saturday mornings; %d threads\n",
		opt.Staff, opt.Groups, opt.Days, max(opt.Threads, 2))
	for _, limit := range opt.Limits {
		for seed := uint64(1); seed <= uint64(opt.Seeds); seed++ {
			r, err := solveSynthetic(ctx, opt, seed, limit)
			if err != nil {
				return err
			}
			runs = append(runs, r)
			fmt.Fprintf(w, "limit %-4v seed %d: first feasible %v, feasible %v, shortfall %d of %d person-slots, %d uncovered slots, objective %d\n",
				limit, seed, r.timeToFeasible.Round(time.Millisecond), r.feasible, r.shortfall, r.needed, r.uncovered, r.objective)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		var ttf []time.Duration
		var short []int
		for _, r := range runs {
			if r.limit == limit {
				ttf = append(ttf, r.timeToFeasible)
				short = append(short, r.shortfall)
			}
		}
		slices.Sort(ttf)
		slices.Sort(short)
		fmt.Fprintf(w, "limit %v: median first feasible %v, median shortfall %d (%d runs)\n",
			limit, ttf[len(ttf)/2].Round(time.Millisecond), short[len(short)/2], len(ttf))
	}
	return nil
}

// solveSynthetic builds, solves and explains one synthetic office.
func solveSynthetic(ctx context.Context, opt RosterOfficeOptions, seed uint64, limit time.Duration) (rosterOfficeRun, error) {
	p, err := plan.Build(SyntheticOffice(opt.Staff, opt.Groups, opt.Days, seed))
	if err != nil {
		return rosterOfficeRun{}, err
	}
	out, err := p.Solve(ctx, plan.SolveOptions{TimeLimit: limit, Seed: seed, Threads: opt.Threads})
	if err != nil {
		return rosterOfficeRun{}, err
	}
	res, err := p.Explain(out.Roster)
	if err != nil {
		return rosterOfficeRun{}, err
	}
	r := rosterOfficeRun{seed: seed, limit: limit, timeToFeasible: out.TimeToFeasible, feasible: res.Feasible,
		shortfall: res.Shortfall, uncovered: res.Uncovered, objective: res.Objective}
	for _, sl := range p.Slots {
		r.needed += sl.Needed
	}
	return r, nil
}

// syntheticGroups are the skill groups of the synthetic office, the first Groups of them used.
var syntheticGroups = []string{"anagrafe", "tributi", "sociale", "edilizia", "inps", "enel", "imprese", "stato-civile", "polizia", "scuola"}

// SyntheticOffice builds, without a database, a realistic office: staff people across groups skill
// groups, open Monday to Friday mornings, Tuesday and Thursday afternoons and Saturday mornings, with
// full-time (36 h, 5 days) and part-time (24 h/4 days, 18 h/3 days) contracts, some leave and
// preferences, and a demand with a mid-morning peak sized so that peaks are hard to cover.
func SyntheticOffice(staff, groups, days int, seed uint64) *plan.Input {
	rng := rand.New(rand.NewPCG(seed, 7))
	rome, _ := time.LoadLocation("Europe/Rome")
	from := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) // a Monday, no holiday in the next 6 weeks
	in := &plan.Input{OfficeID: 1, Loc: rome, From: from, Days: days, SlotMinutes: 30, Demand: map[plan.DemandKey]int{}}
	iv := func(opens, closes ticketing.TimeOfDay) ticketing.Interval {
		return ticketing.Interval{Opens: opens, Closes: closes}
	}
	c := ticketing.Clock
	weekly := map[int][]ticketing.Interval{
		1: {iv(c(8, 30), c(13, 0))}, 2: {iv(c(8, 30), c(13, 0)), iv(c(14, 30), c(17, 30))}, 3: {iv(c(8, 30), c(13, 0))},
		4: {iv(c(8, 30), c(13, 0)), iv(c(14, 30), c(18, 0))}, 5: {iv(c(8, 30), c(13, 0))}, 6: {iv(c(8, 30), c(12, 30))},
	}
	for d := range days {
		in.Open = append(in.Open, weekly[ticketing.ISOWeekday(in.Date(d))])
	}
	tpl := func(id int64, code string, s, e ticketing.TimeOfDay, wds ...int) plan.Template {
		t := plan.Template{ID: id, Code: code, Name: code, Start: s, End: e}
		for _, wd := range wds {
			t.Weekdays[wd] = true
		}
		return t
	}
	in.Templates = []plan.Template{
		tpl(1, "M", c(8, 0), c(14, 0), 1, 2, 3, 4, 5),
		tpl(2, "R", c(8, 0), c(17, 0), 2, 4),
		tpl(3, "P", c(12, 0), c(18, 0), 2, 4),
		tpl(4, "S", c(8, 0), c(13, 0), 6),
	}
	in.Groups = append([]string(nil), syntheticGroups[:groups]...)
	share := make([]float64, groups)
	total := 0.0
	for g := range share {
		share[g] = 1 / float64(g+2)
		total += share[g]
	}
	for g := range share {
		share[g] /= total
	}
	pick := func() int {
		x := rng.Float64()
		for g, s := range share {
			if x < s {
				return g
			}
			x -= s
		}
		return groups - 1
	}
	for i := range staff {
		m := plan.Member{ID: int64(i + 1), Code: fmt.Sprintf("E%02d", i+1), Name: fmt.Sprintf("Staff %02d", i+1), Groups: map[string]ticketing.SkillLevel{}}
		m.Groups[in.Groups[pick()]] = ticketing.Primary
		for range 1 + rng.IntN(2) {
			if g := in.Groups[pick()]; m.Groups[g] == "" {
				m.Groups[g] = ticketing.Secondary
			}
		}
		switch {
		case i%5 == 3:
			m.Contract = plan.Contract{WeeklyMinutes: 24 * 60, MaxDailyMinutes: 540, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdays4W: 2}
		case i%5 == 4:
			m.Contract = plan.Contract{WeeklyMinutes: 18 * 60, MaxDailyMinutes: 360, MaxDaysPerWeek: 3, MinRestMinutes: 660, MaxSaturdays4W: 1}
		default:
			m.Contract = plan.Contract{WeeklyMinutes: 36 * 60, MaxDailyMinutes: 540, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdays4W: 2}
		}
		in.Staff = append(in.Staff, m)
	}
	// A week of leave for one person in twelve, and some preferences.
	for i := 0; i < staff; i += 12 {
		start := ticketing.TimeOfDay(0).On(in.Date(7*(i/12%max(1, days/7))), rome)
		in.Absences = append(in.Absences, plan.Absence{ID: int64(i + 1), StaffID: int64(i + 1), Kind: "leave", Start: start, End: start.AddDate(0, 0, 7)})
	}
	for i := 1; i < staff; i += 7 {
		in.Preferences = append(in.Preferences, plan.Preference{StaffID: int64(i + 1), Weekday: 6, Wanted: false, Weight: 2})
	}
	for i := 2; i < staff; i += 9 {
		in.Preferences = append(in.Preferences, plan.Preference{StaffID: int64(i + 1), Weekday: 1 + i%5, TemplateID: 1, Wanted: true, Weight: 1})
	}
	// Demand: about 0.55 people per staff member in the morning peak, fewer in afternoons and on Saturday.
	for wd := 1; wd <= 6; wd++ {
		for _, iv := range weekly[wd] {
			for slot := iv.Opens; slot < iv.Closes; slot += 30 {
				peak := 1.0
				switch {
				case slot < c(9, 30):
					peak = 0.75
				case slot >= c(14, 0):
					peak = 0.45
				case slot >= c(12, 0):
					peak = 0.8
				}
				if wd == 6 {
					peak *= 0.6
				}
				if wd == 1 {
					peak *= 1.15
				}
				for g, group := range in.Groups {
					in.Demand[plan.DemandKey{Weekday: wd, Slot: slot, Group: group}] = int(0.55*float64(staff)*share[g]*peak + 0.5)
				}
			}
		}
	}
	return in
}
