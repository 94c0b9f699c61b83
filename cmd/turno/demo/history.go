package demo

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
)

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

// demoShape is the relative arrival rate through the day by local time: a morning peak at 9:30–11:00 and a
// smaller afternoon peak around 15:30.
func demoShape(t time.Duration) float64 {
	h := t.Hours()
	if h < 14 {
		return 0.35 + 0.65*math.Exp(-math.Pow((h-10.25)/1.1, 2))
	}
	return 0.3 + 0.35*math.Exp(-math.Pow((h-15.75)/0.9, 2))
}

// SeedHistory writes synthetic tickets for every open day of the demand.HistoryWeeks weeks before now that
// has none, in three stages: which days (historyDays), which tickets on each (dayHistory), and the write
// (ticketing.Store.ImportHistory). Each day's random stream is seeded by its date, so the history is the
// same on every machine.
func SeedHistory(ctx context.Context, tickets *ticketing.Store, o *ticketing.Office, now time.Time) error {
	days, err := historyDays(ctx, tickets, o, now)
	if err != nil || len(days) == 0 {
		return err
	}
	h, err := newHistorian(ctx, tickets, o)
	if err != nil {
		return err
	}
	var past []ticketing.PastTicket
	for _, day := range days {
		past = append(past, h.dayHistory(day)...)
	}
	return tickets.ImportHistory(ctx, o.ID, past)
}

// historyDay is a past open day without tickets, with its opening intervals.
type historyDay struct {
	date time.Time // local date at UTC midnight
	open []ticketing.Interval
}

// historyDays returns the open days of the history window that have no tickets yet.
func historyDays(ctx context.Context, tickets *ticketing.Store, o *ticketing.Office, now time.Time) ([]historyDay, error) {
	cal, err := tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	today := o.LocalDay(now)
	from := today.AddDate(0, 0, -demand.HistoryWeeks*7)
	done, err := tickets.TicketDays(ctx, o.ID, from, today)
	if err != nil {
		return nil, err
	}
	var out []historyDay
	for day := from; day.Before(today); day = day.AddDate(0, 0, 1) {
		if ivs := cal.Intervals(day); len(ivs) > 0 && !done[day] {
			out = append(out, historyDay{day, ivs})
		}
	}
	return out, nil
}

// historian makes up a day's tickets for the office's services, desks and staff.
type historian struct {
	office   *ticketing.Office
	services []*ticketing.Service
	deskFor  map[string][]int64 // service code → desks that serve it
	staffFor map[string][]int64 // service code → staff with the skill, by id
}

func newHistorian(ctx context.Context, tickets *ticketing.Store, o *ticketing.Office) (*historian, error) {
	h := &historian{office: o, deskFor: map[string][]int64{}, staffFor: map[string][]int64{}}
	var err error
	if h.services, err = tickets.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	desks, err := tickets.Desks(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	staff, err := tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range desks {
		for _, code := range d.Services {
			h.deskFor[code] = append(h.deskFor[code], d.ID)
		}
	}
	for _, st := range staff {
		for code := range st.Skills {
			h.staffFor[code] = append(h.staffFor[code], st.ID)
		}
	}
	for _, ids := range h.staffFor {
		slices.Sort(ids)
	}
	return h, nil
}

// arrival is one synthetic visitor of a day.
type arrival struct {
	service  *ticketing.Service
	issued   time.Time
	noShow   bool
	wait     time.Duration
	handling time.Duration
	lang     string
}

// dayHistory makes up a day's tickets: Poisson arrivals per service and 30-minute slot following
// demoShape, demoWeekday and demoDays; about 10 % no-shows; handling times log-normally spread around each
// service's expected handling time. Tickets are done or no_show with their called, started and finished
// times, a desk that serves the service and a staff member who has the skill.
func (h *historian) dayHistory(day historyDay) []ticketing.PastTicket {
	rng := rand.New(rand.NewPCG(uint64(day.date.Unix()), uint64(h.office.ID)))
	arrivals := h.arrivals(rng, day)
	sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].issued.Before(arrivals[j].issued) })
	numbers := map[string]int{}
	out := make([]ticketing.PastTicket, 0, len(arrivals))
	for _, a := range arrivals {
		sv := a.service
		numbers[sv.Prefix]++
		t := ticketing.PastTicket{Service: sv, Number: numbers[sv.Prefix], Day: day.date, Status: ticketing.Done, Lang: a.lang,
			IssuedAt: a.issued, CalledAt: a.issued.Add(a.wait)}
		if a.noShow {
			t.Status, t.FinishedAt = ticketing.NoShow, t.CalledAt.Add(2*time.Minute)
		} else {
			started := t.CalledAt.Add(time.Duration(20+rng.IntN(60)) * time.Second)
			t.StartedAt, t.FinishedAt = &started, started.Add(a.handling)
		}
		if ds := h.deskFor[sv.Code]; len(ds) > 0 {
			t.DeskID = ds[rng.IntN(len(ds))]
		}
		if ss := h.staffFor[sv.Code]; len(ss) > 0 {
			t.StaffID = ss[rng.IntN(len(ss))]
		}
		out = append(out, t)
	}
	return out
}

// arrivals draws the day's visitors, slot by slot of each opening interval.
func (h *historian) arrivals(rng *rand.Rand, day historyDay) []arrival {
	wd := ticketing.ISOWeekday(day.date)
	midnight := h.office.Midnight(day.date)
	var out []arrival
	for _, iv := range day.open {
		afternoon := iv.Opens >= ticketing.Clock(14, 0)
		opens, closes := iv.Opens.Duration(), iv.Closes.Duration()
		for slot := opens; slot < closes; slot += 30 * time.Minute {
			end := min(slot+30*time.Minute, closes-10*time.Minute) // the last arrivals come 10 minutes before closing
			if end <= slot {
				continue
			}
			for _, sv := range h.services {
				days, ok := demoDays[sv.Code]
				if !ok || !sv.Active || (afternoon && !slices.Contains(days.afternoons, wd)) || (!afternoon && !slices.Contains(days.mornings, wd)) {
					continue
				}
				mean := demoArrivals[sv.Code] * demoWeekday[wd] * demoShape(slot+15*time.Minute) * float64(end-slot) / float64(30*time.Minute)
				for range poisson(rng, mean) {
					at := slot + time.Duration(rng.Int64N(int64(end-slot)))
					handling := float64(sv.ExpectedHandlingSeconds) * math.Exp(0.35*rng.NormFloat64()-0.06)
					a := arrival{service: sv, issued: midnight.Add(at).Truncate(time.Second), noShow: rng.Float64() < 0.10,
						wait: time.Duration(60+rng.ExpFloat64()*420) * time.Second, handling: time.Duration(max(60, handling)) * time.Second, lang: "it"}
					if rng.Float64() < 0.06 {
						a.lang = "en"
					}
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// poisson draws from a Poisson distribution with the given mean (Knuth's method; the means here are small).
func poisson(rng *rand.Rand, mean float64) int {
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
