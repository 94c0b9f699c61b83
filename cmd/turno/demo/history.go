package demo

import (
	"cmp"
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

// ArrivalRates is the demo office's arrival curve at a local weekday and time of day: the mean arrivals per
// hour of each service its history follows (demoArrivals × demoWeekday × demoShape), for the services
// offered on that weekday's morning or afternoon. Load tests scale it to drive a live office.
func ArrivalRates(weekday time.Weekday, clock time.Duration) map[string]float64 {
	wd := int(weekday)
	if wd == 0 {
		wd = 7 // ISO: Sunday is 7
	}
	out := map[string]float64{}
	for code, perSlot := range demoArrivals {
		days := demoDays[code].mornings
		if clock >= 14*time.Hour {
			days = demoDays[code].afternoons
		}
		if r := 2 * perSlot * demoWeekday[wd] * demoShape(clock); r > 0 && slices.Contains(days, wd) {
			out[code] = r
		}
	}
	return out
}

// SeedHistory writes synthetic tickets for every open day of the demand.HistoryWeeks weeks before now that
// has none (seedHistory).
func SeedHistory(ctx context.Context, tickets *ticketing.Store, o *ticketing.Office, now time.Time) error {
	_, err := seedHistory(ctx, Stores{Tickets: tickets}, demoTown(), o, now, demand.HistoryWeeks*7)
	return err
}

// seedHistory writes the history of the days open days before now, in three stages: which days
// (historyDays), what happened on each (dayHistory: tickets and, with s.Auth, the operators' desk
// sessions), and the writes (ticketing.Store.ImportHistory, ImportDeskSessions). Each day's random stream
// is seeded by its date and the office, so the history is the same on every machine. Tickets are added to
// days without tickets, sessions to days without sessions; it returns the days that got sessions.
func seedHistory(ctx context.Context, s Stores, t *town, o *ticketing.Office, now time.Time, days int) ([]time.Time, error) {
	cal, err := s.Tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	today := o.LocalDay(now)
	from := today.AddDate(0, 0, -days)
	haveTickets, err := s.Tickets.TicketDays(ctx, o.ID, from, today)
	if err != nil {
		return nil, err
	}
	haveSessions := map[time.Time]bool{}
	if s.Auth != nil {
		if haveSessions, err = s.Tickets.DeskSessionDays(ctx, o, from, today); err != nil {
			return nil, err
		}
	}
	h, err := newHistorian(ctx, s, t, o)
	if err != nil {
		return nil, err
	}
	var past []ticketing.PastTicket
	var sessions []ticketing.PastDeskSession
	var sessionDays []time.Time
	for day := from; day.Before(today); day = day.AddDate(0, 0, 1) {
		ivs := cal.Intervals(day)
		if len(ivs) == 0 || haveTickets[day] && (s.Auth == nil || haveSessions[day]) {
			continue
		}
		ts, ss := h.dayHistory(historyDay{day, ivs})
		if !haveTickets[day] {
			for i := range ts {
				if ts[i].Continues > 0 {
					ts[i].Continues += len(past) // the day's indices become the import's
				}
			}
			past = append(past, ts...)
		}
		if s.Auth != nil && !haveSessions[day] && len(ss) > 0 {
			sessions, sessionDays = append(sessions, ss...), append(sessionDays, day)
		}
	}
	if err := s.Tickets.ImportHistory(ctx, o.ID, past); err != nil {
		return nil, err
	}
	return sessionDays, s.Tickets.ImportDeskSessions(ctx, o.ID, sessions)
}

// historyDay is a past open day, with its opening intervals.
type historyDay struct {
	date time.Time // local date at UTC midnight
	open []ticketing.Interval
}

// historian makes up a day's tickets and desk sessions for the office's services, desks and staff.
type historian struct {
	office   *ticketing.Office
	demand   float64
	services []*ticketing.Service
	byCode   map[string]*ticketing.Service
	desks    []*ticketing.Desk
	staff    []*ticketing.Staff // those who work at the desks (with an account, when sessions are made)
	userOf   map[int64]int64    // staff id → user id
}

func newHistorian(ctx context.Context, s Stores, t *town, o *ticketing.Office) (*historian, error) {
	h := &historian{office: o, demand: t.demand, byCode: map[string]*ticketing.Service{}, userOf: map[int64]int64{}}
	var err error
	if h.services, err = s.Tickets.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	for _, sv := range h.services {
		h.byCode[sv.Code] = sv
	}
	if h.desks, err = s.Tickets.Desks(ctx, o.ID); err != nil {
		return nil, err
	}
	staff, err := s.Tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	if s.Auth != nil {
		users, err := s.Auth.OfficeUsers(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.StaffID != nil && *u.StaffID != 0 {
				h.userOf[*u.StaffID] = u.ID
			}
		}
	}
	for _, st := range staff {
		if s.Auth == nil || h.userOf[st.ID] != 0 {
			h.staff = append(h.staff, st)
		}
	}
	slices.SortFunc(h.staff, func(a, b *ticketing.Staff) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(h.desks, func(a, b *ticketing.Desk) int { return cmp.Compare(a.Number, b.Number) })
	return h, nil
}

// arrival is one synthetic visitor of a day.
type arrival struct {
	service  *ticketing.Service
	issued   time.Time
	closes   time.Time // the end of the opening interval they came in
	wait     time.Duration
	handling time.Duration
	lang     string
}

// post is a desk staffed by one operator for one opening interval.
type post struct {
	desk  *ticketing.Desk
	staff *ticketing.Staff
}

// Shares of the outcomes, of the visitors: realistic for an Italian counter with a kiosk.
const (
	shareNoShow    = 0.09 // called, did not come
	shareCancelled = 0.03 // withdrew from the phone page
	shareExpired   = 0.01 // still waiting at closing time
	shareTransfer  = 0.05 // served, then sent on to another service
	shareRecall    = 0.12 // called twice before coming
)

// dayHistory makes up a day: Poisson arrivals per service and 30-minute slot following demoShape,
// demoWeekday and demoDays; handling times log-normally spread around each service's expected handling
// time; the outcomes in the shares above. Each opening interval the operators take a desk each (a post),
// and a visitor is served at a post whose desk serves the service and whose operator has the skill. The
// posts become desk sessions from a quarter of an hour before opening to a quarter after closing, with a
// coffee break in long mornings and now and then back-office work.
func (h *historian) dayHistory(day historyDay) ([]ticketing.PastTicket, []ticketing.PastDeskSession) {
	rng := rand.New(rand.NewPCG(uint64(day.date.Unix()), uint64(h.office.ID)))
	midnight := h.office.Midnight(day.date)
	numbers := map[string]int{}
	var out []ticketing.PastTicket
	var sessions []ticketing.PastDeskSession
	for _, iv := range day.open {
		posts := h.posts(rng)
		arrivals := h.arrivals(rng, day, iv)
		sort.Slice(arrivals, func(i, j int) bool { return arrivals[i].issued.Before(arrivals[j].issued) })
		for _, a := range arrivals {
			sv := a.service
			numbers[sv.Prefix]++
			t := ticketing.PastTicket{Service: sv, Number: numbers[sv.Prefix], Day: day.date, Status: ticketing.Done, Lang: a.lang,
				IssuedAt: a.issued}
			p := pick(rng, posts, sv.Code)
			r := rng.Float64()
			switch {
			case r < shareCancelled:
				t.Status, t.FinishedAt = ticketing.Cancelled, t.IssuedAt.Add(a.wait*2/3)
				out = append(out, t)
				continue
			case r < shareCancelled+shareExpired || p == nil:
				t.Status, t.FinishedAt = ticketing.Expired, a.closes
				out = append(out, t)
				continue
			}
			t.CalledAt, t.DeskID, t.StaffID = t.IssuedAt.Add(a.wait), p.desk.ID, p.staff.ID
			if rng.Float64() < shareRecall {
				t.Recalls = 1
			}
			if r < shareCancelled+shareExpired+shareNoShow {
				t.Status, t.Recalls, t.FinishedAt = ticketing.NoShow, 2, t.CalledAt.Add(3*time.Minute)
				out = append(out, t)
				continue
			}
			started := t.CalledAt.Add(time.Duration(20+rng.IntN(60)+90*t.Recalls) * time.Second)
			t.StartedAt, t.FinishedAt = &started, started.Add(a.handling)
			next := h.transferTo(rng, sv, posts)
			if next == nil || rng.Float64() >= shareTransfer/(1-shareCancelled-shareExpired-shareNoShow) {
				out = append(out, t)
				continue
			}
			// Served, then sent on: the same number queues for the next service and is served there.
			t.Status = ticketing.Transferred
			out = append(out, t)
			q := t.FinishedAt
			called := q.Add(time.Duration(60+rng.IntN(360)) * time.Second)
			start2 := called.Add(time.Duration(20+rng.IntN(40)) * time.Second)
			np := pick(rng, posts, next.Code)
			out = append(out, ticketing.PastTicket{Service: next, Number: t.Number, Day: day.date, Status: ticketing.Done,
				Lang: t.Lang, IssuedAt: t.IssuedAt, QueuedAt: q, CalledAt: called, StartedAt: &start2,
				FinishedAt: start2.Add(time.Duration(float64(next.ExpectedHandlingSeconds)*0.8) * time.Second),
				DeskID:     np.desk.ID, StaffID: np.staff.ID, Continues: len(out)})
		}
		opens, closes := midnight.Add(iv.Opens.Duration()-15*time.Minute), midnight.Add(iv.Closes.Duration()+15*time.Minute)
		for _, p := range posts {
			user := h.userOf[p.staff.ID]
			if user == 0 {
				continue
			}
			ds := ticketing.PastDeskSession{DeskID: p.desk.ID, UserID: user, StaffID: p.staff.ID,
				OpenedAt: opens.Add(time.Duration(rng.IntN(10)) * time.Minute), ClosedAt: closes.Add(time.Duration(rng.IntN(20)) * time.Minute)}
			if iv.Closes-iv.Opens >= 4*60 {
				at := midnight.Add(ticketing.Clock(10, 15).Duration() + time.Duration(rng.IntN(60))*time.Minute)
				ds.Pauses = append(ds.Pauses, ticketing.PastPause{Reason: "Pausa", StartedAt: at, EndedAt: at.Add(time.Duration(10+rng.IntN(10)) * time.Minute)})
			}
			if rng.Float64() < 0.25 {
				at := closes.Add(-time.Duration(40+rng.IntN(30)) * time.Minute)
				ds.Pauses = append(ds.Pauses, ticketing.PastPause{Reason: "Back office", StartedAt: at, EndedAt: at.Add(time.Duration(15+rng.IntN(15)) * time.Minute)})
			}
			sessions = append(sessions, ds)
		}
	}
	return out, sessions
}

// posts puts the operators at the desks for one opening interval: each desk in turn takes the first
// free operator (in a shuffled order) who has a skill for one of its services.
func (h *historian) posts(rng *rand.Rand) []post {
	free := slices.Clone(h.staff)
	rng.Shuffle(len(free), func(i, j int) { free[i], free[j] = free[j], free[i] })
	var out []post
	for _, d := range h.desks {
		for i, st := range free {
			if slices.ContainsFunc(d.Services, func(code string) bool { _, ok := st.Skills[code]; return ok }) {
				out = append(out, post{d, st})
				free = slices.Delete(free, i, i+1)
				break
			}
		}
	}
	return out
}

// pick chooses a post that can serve a service: the desk serves it and the operator has the skill.
func pick(rng *rand.Rand, posts []post, code string) *post {
	var fit []*post
	for i := range posts {
		if _, ok := posts[i].staff.Skills[code]; ok && slices.Contains(posts[i].desk.Services, code) {
			fit = append(fit, &posts[i])
		}
	}
	if len(fit) == 0 {
		// Nobody with the skill sits at a desk that serves it: a desk that serves it calls the ticket anyway
		// (a generalist helps out), else nobody does.
		for i := range posts {
			if slices.Contains(posts[i].desk.Services, code) {
				fit = append(fit, &posts[i])
			}
		}
	}
	if len(fit) == 0 {
		return nil
	}
	return fit[rng.IntN(len(fit))]
}

// demoTransfers are the usual hand-overs: an identity card needs a certificate first, a change of
// residence ends with the local taxes, an ISEE with the pension agency.
var demoTransfers = [][2]string{{"cie", "certificati"}, {"residenza", "tributi"}, {"isee", "inps-pensioni"}, {"certificati", "tributi"}, {"suap", "edilizia-imprese"}}

// transferTo returns the service a visitor of sv may be sent on to, when one is staffed now.
func (h *historian) transferTo(rng *rand.Rand, sv *ticketing.Service, posts []post) *ticketing.Service {
	for _, tr := range demoTransfers {
		if tr[0] == sv.Code {
			if next := h.byCode[tr[1]]; next != nil && pick(rng, posts, next.Code) != nil {
				return next
			}
		}
	}
	return nil
}

// arrivals draws the visitors of one opening interval, slot by slot.
func (h *historian) arrivals(rng *rand.Rand, day historyDay, iv ticketing.Interval) []arrival {
	wd := ticketing.ISOWeekday(day.date)
	midnight := h.office.Midnight(day.date)
	var out []arrival
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
			mean := h.demand * demoArrivals[sv.Code] * demoWeekday[wd] * demoShape(slot+15*time.Minute) * float64(end-slot) / float64(30*time.Minute)
			for range poisson(rng, mean) {
				at := slot + time.Duration(rng.Int64N(int64(end-slot)))
				handling := float64(sv.ExpectedHandlingSeconds) * math.Exp(0.35*rng.NormFloat64()-0.06)
				a := arrival{service: sv, issued: midnight.Add(at).Truncate(time.Second), closes: midnight.Add(closes),
					wait: time.Duration(60+rng.ExpFloat64()*420) * time.Second, handling: time.Duration(max(60, handling)) * time.Second, lang: "it"}
				if rng.Float64() < 0.06 {
					a.lang = "en"
				}
				out = append(out, a)
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
