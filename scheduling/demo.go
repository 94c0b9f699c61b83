package scheduling

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/scheduling/demand"
	"turno/ticketing"
)

// demoTemplates are the demo office's shifts: a morning, a long morning, the Tuesday/Thursday afternoon
// and Saturday morning; each starts 15 minutes before opening.
var demoTemplates = []ShiftTemplate{
	{Code: "M", Name: "Mattina", Starts: "08:15", Ends: "13:15", Weekdays: []int{1, 2, 3, 4, 5}, Active: true},
	{Code: "L", Name: "Mattina lunga", Starts: "08:15", Ends: "14:15", Weekdays: []int{1, 2, 3, 4, 5}, Active: true},
	{Code: "P", Name: "Pomeriggio", Starts: "14:15", Ends: "18:15", Weekdays: []int{2, 4}, Active: true},
	{Code: "S", Name: "Sabato mattina", Starts: "08:15", Ends: "12:45", Weekdays: []int{6}, Active: true},
}

// demoContracts by staff code: mostly full time (36 h, the public administration's week), three part-timers.
var demoContracts = map[string]Contract{
	"S08": {WeeklyMinutes: 1800, MaxDailyMinutes: 480, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2},
	"S09": {WeeklyMinutes: 1080, MaxDailyMinutes: 360, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2, AllowedTemplates: []string{"M", "S"}},
	"S10": {WeeklyMinutes: 1440, MaxDailyMinutes: 480, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 1},
}

// demoArrivals is the mean number of arrivals per 30 minutes of each service at the busiest time of an
// average day; demoDays says on which weekdays (and afternoons) a service is offered: partner agencies
// come on set days, as they do in real one-stop shops.
var demoArrivals = map[string]float64{
	"cie": 1.6, "certificati": 3.0, "residenza": 0.7, "tributi": 1.3, "isee": 0.9, "edilizia": 0.5,
	"inps-pensioni": 1.3, "enel-bonus": 0.9, "suap": 0.5, "inps-imprese": 0.5, "edilizia-imprese": 0.4,
}

type serviceDays struct {
	mornings, afternoons []int // ISO weekdays
}

var demoDays = map[string]serviceDays{
	"cie":              {[]int{1, 2, 3, 4, 5, 6}, []int{2, 4}},
	"certificati":      {[]int{1, 2, 3, 4, 5, 6}, []int{2, 4}},
	"residenza":        {[]int{1, 2, 3, 4, 5, 6}, []int{2, 4}},
	"tributi":          {[]int{1, 2, 3, 4, 5}, []int{4}},
	"isee":             {[]int{1, 3, 5}, []int{2}},
	"edilizia":         {[]int{2, 4}, []int{4}},
	"inps-pensioni":    {[]int{2, 4}, nil},
	"enel-bonus":       {[]int{1, 5}, nil},
	"suap":             {[]int{1, 3, 5}, nil},
	"inps-imprese":     {[]int{3}, nil},
	"edilizia-imprese": {[]int{2, 4}, []int{4}},
}

// demoWeekday scales a weekday's demand: Monday busiest, Friday quieter, Saturday morning moderate.
var demoWeekday = [8]float64{0, 1.3, 1.0, 0.95, 1.05, 0.8, 0.75, 0}

// demoShape is the relative arrival rate through the day by local hour and minute: a morning peak at
// 9:30–11:00 and a smaller afternoon peak around 15:30.
func demoShape(t time.Duration) float64 {
	h := t.Hours()
	if h < 14 {
		return 0.35 + 0.65*math.Exp(-math.Pow((h-10.25)/1.1, 2))
	}
	return 0.3 + 0.35*math.Exp(-math.Pow((h-15.75)/0.9, 2))
}

func offered(days []int, wd int) bool {
	for _, d := range days {
		if d == wd {
			return true
		}
	}
	return false
}

// SeedDemo adds the planning data of the demo office: planning settings, the shift templates, contracts of
// the ten demo staff, a few preferences and absences, and HistoryWeeks weeks of synthetic ticket history
// before today, then refreshes the forecast. It is idempotent and fills only what is missing: settings,
// templates and contracts a manager has changed are kept, and history is added only for past open days
// without tickets.
func SeedDemo(ctx context.Context, store *ticketing.Store, now time.Time) error {
	pool := store.Pool()
	o, err := store.Office(ctx, ticketing.DemoOffice)
	if err != nil {
		return err
	}
	// 80 % called within 20 minutes, the services' usual wait target; 10 % shrinkage for short breaks.
	if _, err := pool.Exec(ctx, `INSERT INTO planning_settings (office_id, service_level, target_wait_seconds, shrinkage)
		VALUES ($1, 0.80, 1200, 0.10) ON CONFLICT DO NOTHING`, o.ID); err != nil {
		return fmt.Errorf("scheduling: demo settings: %w", err)
	}
	existing, err := ShiftTemplates(ctx, pool, o.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range existing {
		have[t.Code] = true
	}
	for _, t := range demoTemplates {
		if !have[t.Code] {
			t.Weekdays = append([]int(nil), t.Weekdays...)
			if err := SaveShiftTemplate(ctx, pool, o.ID, &t); err != nil {
				return err
			}
		}
	}
	staff, err := store.StaffList(ctx, o.ID)
	if err != nil {
		return err
	}
	contracts, err := Contracts(ctx, pool, o.ID)
	if err != nil {
		return err
	}
	byCode := map[string]*ticketing.Staff{}
	for _, st := range staff {
		byCode[st.Code] = st
		if _, ok := contracts[st.ID]; ok {
			continue
		}
		c, ok := demoContracts[st.Code]
		if !ok {
			c = DefaultContract
		}
		if err := SaveContract(ctx, pool, o.ID, st.ID, c); err != nil {
			return err
		}
	}
	if err := seedDemoWishes(ctx, store, o, byCode, now); err != nil {
		return err
	}
	if err := seedDemoHistory(ctx, store, o, now); err != nil {
		return err
	}
	return demand.Refresh(ctx, pool, o.ID, now)
}

// seedDemoWishes adds preferences (once) and, when the office has no absence at all, two upcoming ones.
func seedDemoWishes(ctx context.Context, store *ticketing.Store, o *ticketing.Office, byCode map[string]*ticketing.Staff, now time.Time) error {
	pool := store.Pool()
	prefs := map[string][]Preference{
		"S02": {{Weekday: 6, Wanted: false, Weight: 5}},
		"S05": {{Weekday: 2, Template: "P", Wanted: true, Weight: 3}},
		"S08": {{Weekday: 1, Wanted: false, Weight: 2}},
		"S10": {{Weekday: 6, Wanted: true, Weight: 2}},
	}
	for code, ps := range prefs {
		st := byCode[code]
		if st == nil {
			continue
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM staff_preferences WHERE staff_id = $1`, st.ID).Scan(&n); err != nil {
			return fmt.Errorf("scheduling: demo preferences: %w", err)
		}
		if n == 0 {
			if err := SetPreferences(ctx, pool, o.ID, st.ID, ps); err != nil {
				return err
			}
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM absences WHERE office_id = $1`, o.ID).Scan(&n); err != nil {
		return fmt.Errorf("scheduling: demo absences: %w", err)
	}
	if n > 0 {
		return nil
	}
	// A week of leave for S03 starting the Monday after next, and a training morning for S06 next Wednesday.
	today := o.LocalDay(now)
	monday := today.AddDate(0, 0, 1-demand.ISOWeekday(today)+14)
	wednesday := today.AddDate(0, 0, 3-demand.ISOWeekday(today)+7)
	for _, in := range []AbsenceInput{
		{StaffID: idOf(byCode["S03"]), Kind: "leave", StartsAt: monday.Format(time.DateOnly), EndsAt: monday.AddDate(0, 0, 4).Format(time.DateOnly), Note: "Ferie"},
		{StaffID: idOf(byCode["S06"]), Kind: "training", StartsAt: wednesday.Format(time.DateOnly) + "T08:00", EndsAt: wednesday.Format(time.DateOnly) + "T13:00", Note: "Corso ANPR"},
	} {
		if in.StaffID == 0 {
			continue
		}
		if _, err := RecordAbsence(ctx, store, o, in, 0); err != nil {
			return err
		}
	}
	return nil
}

func idOf(st *ticketing.Staff) int64 {
	if st == nil {
		return 0
	}
	return st.ID
}

// histTicket is one synthetic past ticket.
type histTicket struct {
	service  *ticketing.Service
	issued   time.Time
	noShow   bool
	wait     time.Duration
	handling time.Duration
	lang     string
}

// seedDemoHistory writes synthetic tickets for every open day of the HistoryWeeks weeks before today that
// has none: Poisson arrivals per service and 30-minute slot following demoShape, demoWeekday and demoDays;
// about 10 % no-shows; handling times log-normally spread around each service's expected handling time.
// Tickets are done or no_show with their called, started and finished times, a desk that serves the
// service and a staff member who has the skill. Each day's random stream is seeded by its date, so the
// history is the same on every machine.
func seedDemoHistory(ctx context.Context, store *ticketing.Store, o *ticketing.Office, now time.Time) error {
	pool := store.Pool()
	cal, err := store.Calendar(ctx, o)
	if err != nil {
		return err
	}
	services, err := store.Services(ctx, o.ID)
	if err != nil {
		return err
	}
	desks, err := store.Desks(ctx, o.ID)
	if err != nil {
		return err
	}
	staff, err := store.StaffList(ctx, o.ID)
	if err != nil {
		return err
	}
	deskFor, staffFor := map[string][]int64{}, map[string][]int64{}
	for _, d := range desks {
		for _, code := range d.Services {
			deskFor[code] = append(deskFor[code], d.ID)
		}
	}
	for _, st := range staff {
		for code := range st.Skills {
			staffFor[code] = append(staffFor[code], st.ID)
		}
	}
	for _, ids := range staffFor {
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	}
	today := o.LocalDay(now)
	from := today.AddDate(0, 0, -demand.HistoryWeeks*7)
	rows, err := pool.Query(ctx, `SELECT DISTINCT local_day FROM tickets WHERE office_id = $1 AND local_day >= $2 AND local_day < $3`, o.ID, from, today)
	if err != nil {
		return fmt.Errorf("scheduling: demo history days: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("scheduling: demo history days: %w", err)
	}
	skip := map[time.Time]bool{}
	for _, d := range done {
		skip[d] = true
	}
	loc := o.Location()
	var out [][]any
	for day := from; day.Before(today); day = day.AddDate(0, 0, 1) {
		ivs := cal.Intervals(day)
		if len(ivs) == 0 || skip[day] {
			continue
		}
		rng := mrand.New(mrand.NewPCG(uint64(day.Unix()), uint64(o.ID)))
		wd := demand.ISOWeekday(day)
		var day0 []histTicket
		for _, iv := range ivs {
			afternoon := iv.Opens >= 14*time.Hour
			for slot := iv.Opens; slot < iv.Closes; slot += 30 * time.Minute {
				end := min(slot+30*time.Minute, iv.Closes-10*time.Minute) // the last arrivals come 10 minutes before closing
				if end <= slot {
					continue
				}
				for _, sv := range services {
					days, ok := demoDays[sv.Code]
					if !ok || !sv.Active || (afternoon && !offered(days.afternoons, wd)) || (!afternoon && !offered(days.mornings, wd)) {
						continue
					}
					mean := demoArrivals[sv.Code] * demoWeekday[wd] * demoShape(slot+15*time.Minute) * float64(end-slot) / float64(30*time.Minute)
					for range poisson(rng, mean) {
						at := slot + time.Duration(rng.Int64N(int64(end-slot)))
						local := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(at).Truncate(time.Second)
						h := float64(sv.ExpectedHandlingSeconds) * math.Exp(0.35*rng.NormFloat64()-0.06)
						t := histTicket{service: sv, issued: local, noShow: rng.Float64() < 0.10,
							wait: time.Duration(60+rng.ExpFloat64()*420) * time.Second, handling: time.Duration(max(60, h)) * time.Second, lang: "it"}
						if rng.Float64() < 0.06 {
							t.lang = "en"
						}
						day0 = append(day0, t)
					}
				}
			}
		}
		sort.Slice(day0, func(i, j int) bool { return day0[i].issued.Before(day0[j].issued) })
		numbers := map[string]int{}
		for _, t := range day0 {
			sv := t.service
			numbers[sv.Prefix]++
			n := numbers[sv.Prefix]
			called := t.issued.Add(t.wait)
			var started, finished any
			status := "done"
			if t.noShow {
				status, finished = "no_show", called.Add(2*time.Minute)
			} else {
				s := called.Add(time.Duration(20+rng.IntN(60)) * time.Second)
				started, finished = s, s.Add(t.handling)
			}
			var deskID, staffID any
			if ds := deskFor[sv.Code]; len(ds) > 0 {
				deskID = ds[rng.IntN(len(ds))]
			}
			if ss := staffFor[sv.Code]; len(ss) > 0 {
				staffID = ss[rng.IntN(len(ss))]
			}
			out = append(out, []any{o.ID, sv.ID, historyCode(), sv.Prefix, n, ticketing.Label(sv.Prefix, n), day, status, t.lang,
				t.issued, t.issued, called, started, finished, deskID, staffID})
		}
	}
	if len(out) == 0 {
		return nil
	}
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"tickets"},
		[]string{"office_id", "service_id", "code", "prefix", "number", "label", "local_day", "status", "lang",
			"issued_at", "queued_at", "called_at", "started_at", "finished_at", "desk_id", "staff_id"},
		pgx.CopyFromRows(out))
	if err != nil {
		return fmt.Errorf("scheduling: demo history: %w", err)
	}
	return nil
}

// poisson draws from a Poisson distribution with the given mean (Knuth's method; the means here are small).
func poisson(rng *mrand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

const codeAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"

// historyCode returns an unguessable public code like the ones ticketing gives live tickets.
func historyCode() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}
