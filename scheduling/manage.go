package scheduling

import (
	"context"
	"embed"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/cron"
	"turno/internal/web"
	"turno/scheduling/demand"
	"turno/ticketing"
)

//go:embed templates/*.html
var templateFiles embed.FS

var (
	homePage      = web.ManagePage(templateFiles, "templates/home.html")
	memberPage    = web.ManagePage(templateFiles, "templates/member.html")
	templatesPage = web.ManagePage(templateFiles, "templates/templates.html")
	absencesPage  = web.ManagePage(templateFiles, "templates/absences.html")
	demandPage    = web.ManagePage(templateFiles, "templates/demand.html")
)

// Pages serves the manager's planning pages in the /manage shell: the home page, a staff member's page
// (contract, preferences, absences), shift templates, absences and demand. Their forms send JSON to the
// API. The catalogue, staff and hours pages are ticketing's, the roster pages scheduling/plan's.
type Pages struct {
	Store   *Store
	Tickets *ticketing.Store
	Demand  *demand.Store
	// Runs lists an office's latest background-job runs for the home page (the cron runner's Recent); nil
	// shows none.
	Runs func(ctx context.Context, officeID int64, n int) ([]cron.Run, error)
}

// Routes mounts the pages.
func (p *Pages) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage", p.Tickets.ManageHandler(homePage, "home", p.home))
		r.Get("/manage/staff/{id}", p.Tickets.ManageHandler(memberPage, "staff", p.member))
		r.Get("/manage/templates", p.Tickets.ManageHandler(templatesPage, "templates", p.templates))
		r.Get("/manage/absences", p.Tickets.ManageHandler(absencesPage, "absences", p.absences))
		r.Get("/manage/demand", p.Tickets.ManageHandler(demandPage, "demand", p.demand))
	})
}

// homeData is the manager's overview.
type homeData struct {
	Services, Desks, Staff, Contracts, Templates int
	Absences                                     []Absence
	Closures                                     []closure
	Forecast                                     *demand.Forecast
	WeeklyArrivals                               float64
	PeakStaff                                    int
	Runs                                         []cron.Run
}

// closure is an upcoming day with different hours: a holiday or an exception.
type closure struct {
	Day    time.Time
	What   string
	Closed bool
	Hours  string
}

func (p *Pages) home(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	d := &homeData{}
	services, err := p.Tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	desks, err := p.Tickets.Desks(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	staff, err := p.Tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	contracts, err := p.Store.Contracts(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	templates, err := p.Store.ShiftTemplates(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	d.Services, d.Desks, d.Staff, d.Contracts, d.Templates = len(services), len(desks), len(staff), len(contracts), len(templates)
	now := p.Tickets.Now()
	today := o.LocalDay(now)
	if d.Absences, err = p.Store.Absences(ctx, o.ID, now, o.Midnight(today.AddDate(0, 0, 15)), 0); err != nil {
		return nil, err
	}
	if d.Closures, err = p.closures(ctx, o, today, 60); err != nil {
		return nil, err
	}
	if d.Forecast, err = p.Demand.Load(ctx, o.ID); err != nil {
		return nil, err
	}
	peak := map[demand.Key]int{}
	for _, row := range d.Forecast.Rows {
		d.WeeklyArrivals += row.Arrivals
		k := demand.Key{Weekday: row.Weekday, Slot: row.Slot}
		peak[k] += row.StaffNeeded
		d.PeakStaff = max(d.PeakStaff, peak[k])
	}
	if p.Runs != nil {
		if d.Runs, err = p.Runs(ctx, o.ID, 8); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// closures lists the days of the next n whose hours differ from the weekly ones.
func (p *Pages) closures(ctx context.Context, o *ticketing.Office, today time.Time, n int) ([]closure, error) {
	cal, err := p.Tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	var out []closure
	for i := range n {
		day := today.AddDate(0, 0, i)
		if e, ok := cal.Exceptions[day]; ok {
			out = append(out, closure{Day: day, What: e.Reason, Closed: e.Closed, Hours: ticketing.IntervalsText(e.Intervals)})
			continue
		}
		if len(cal.Weekly[ticketing.ISOWeekday(day)]) == 0 {
			continue
		}
		if name, ok := ticketing.Holiday(day); ok {
			out = append(out, closure{Day: day, What: name, Closed: true})
		} else if cal.Closed(day) {
			out = append(out, closure{Day: day, What: "Santo patrono", Closed: true})
		}
	}
	return out, nil
}

// memberData is a staff member's page: the identity form, the contract form (filled with DefaultContract
// when there is none yet), preferences and absences.
type memberData struct {
	*ticketing.Staff
	Contract    Contract
	HasContract bool
	Preferences []Preference
	Templates   []ShiftTemplate
	Absences    []Absence
	Kinds       []string
}

func (p *Pages) member(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	id, err := web.PathID(r, "id", "unknown_staff")
	if err != nil {
		return nil, staffNotFound(chi.URLParam(r, "id"))
	}
	st, err := p.Tickets.StaffMember(ctx, o.ID, id)
	if err != nil {
		return nil, err
	}
	d := &memberData{Staff: st, Contract: DefaultContract, Kinds: AbsenceKinds}
	c, err := p.Store.Contract(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	if c != nil {
		d.Contract, d.HasContract = *c, true
	}
	if d.Preferences, err = p.Store.Preferences(ctx, st.ID); err != nil {
		return nil, err
	}
	if d.Templates, err = p.Store.ShiftTemplates(ctx, o.ID); err != nil {
		return nil, err
	}
	now := p.Tickets.Now()
	if d.Absences, err = p.Store.Absences(ctx, o.ID, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), st.ID); err != nil {
		return nil, err
	}
	return d, nil
}

func (p *Pages) templates(r *http.Request, o *ticketing.Office) (any, error) {
	return p.Store.ShiftTemplates(r.Context(), o.ID)
}

type absencesData struct {
	Absences []Absence
	Staff    []*ticketing.Staff
	Kinds    []string
	Today    string
}

func (p *Pages) absences(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	now := p.Tickets.Now()
	d := &absencesData{Kinds: AbsenceKinds, Today: o.LocalDay(now).Format(time.DateOnly)}
	var err error
	if d.Absences, err = p.Store.Absences(ctx, o.ID, now.AddDate(0, 0, -14), now.AddDate(0, 6, 0), 0); err != nil {
		return nil, err
	}
	if d.Staff, err = p.Tickets.StaffList(ctx, o.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// demandData is the forecast as a grid: one line per slot, one column per open weekday, each cell the
// sum over skill groups, plus the per-group detail of the selected weekday.
type demandData struct {
	Forecast *demand.Forecast
	Weekdays []int
	Lines    []demandLine
	Groups   []string
	Weekday  int          // the weekday whose detail is shown
	Detail   []demandLine // per slot, Cells per group
	MaxStaff int
	// Overrides are the manager's cells; the percentages fill the settings form.
	Overrides                     []demand.Row
	ServiceLevelPct, ShrinkagePct int
}

type demandLine struct {
	Slot  ticketing.TimeOfDay
	Cells []demandCell
}

type demandCell struct {
	Open       bool
	Arrivals   float64
	Staff      int
	Agents     int
	Overridden bool
	Group      string
	Heat       int // 0–4, for shading
}

// demand shows the forecast in three stages: sum the rows per weekday and slot (sumDemand), lay the sums
// out as the week grid (week), then detail the chosen weekday per skill group (day).
func (p *Pages) demand(r *http.Request, o *ticketing.Office) (any, error) {
	chosen, err := web.QueryInt(r, "weekday", 0)
	if err != nil {
		return nil, err
	}
	f, err := p.Demand.Load(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	g := sumDemand(f.Rows)
	d := &demandData{Forecast: f, Groups: g.groups, MaxStaff: g.maxStaff, Overrides: g.overrides,
		ServiceLevelPct: int(f.Settings.ServiceLevel*100 + 0.5), ShrinkagePct: int(f.Settings.Shrinkage*100 + 0.5)}
	for wd := 1; wd <= 7; wd++ {
		if g.days[wd] {
			d.Weekdays = append(d.Weekdays, wd)
		}
	}
	d.Lines = g.week(d.Weekdays)
	d.Weekday = chosen
	if !g.days[d.Weekday] && len(d.Weekdays) > 0 {
		d.Weekday = d.Weekdays[0]
	}
	d.Detail = g.day(d.Weekday)
	return d, nil
}

// demandGrid is a forecast summed per weekday and slot, keeping each cell's rows per skill group.
type demandGrid struct {
	cells     map[gridKey]*demandCell
	byGroup   map[gridKey]map[string]demand.Row
	days      map[int]bool
	slots     []ticketing.TimeOfDay // every slot of some weekday, in order
	groups    []string              // in order
	maxStaff  int                   // the largest cell
	overrides []demand.Row
}

type gridKey struct {
	weekday int
	slot    ticketing.TimeOfDay
}

// sumDemand adds up the forecast's rows per weekday and slot.
func sumDemand(rows []demand.Row) *demandGrid {
	g := &demandGrid{cells: map[gridKey]*demandCell{}, byGroup: map[gridKey]map[string]demand.Row{}, days: map[int]bool{}}
	slots, groups := map[ticketing.TimeOfDay]bool{}, map[string]bool{}
	for _, row := range rows {
		k := gridKey{row.Weekday, row.Slot}
		c := g.cells[k]
		if c == nil {
			c = &demandCell{Open: true}
			g.cells[k] = c
			g.byGroup[k] = map[string]demand.Row{}
		}
		c.Arrivals += row.Arrivals
		c.Staff += row.StaffNeeded
		c.Agents += row.AgentsNeeded
		c.Overridden = c.Overridden || row.Overridden
		if row.Overridden {
			g.overrides = append(g.overrides, row)
		}
		g.byGroup[k][row.Group] = row
		g.days[row.Weekday], slots[row.Slot], groups[row.Group] = true, true, true
		g.maxStaff = max(g.maxStaff, c.Staff)
	}
	for s := range slots {
		g.slots = append(g.slots, s)
	}
	slices.Sort(g.slots)
	for name := range groups {
		g.groups = append(g.groups, name)
	}
	slices.Sort(g.groups)
	return g
}

// week lays the sums out as the week grid: a line per slot, a cell per weekday shaded by its staff.
func (g *demandGrid) week(weekdays []int) []demandLine {
	heat := func(staff int) int {
		if g.maxStaff == 0 || staff == 0 {
			return 0
		}
		return 1 + 3*staff/(g.maxStaff+1)
	}
	var lines []demandLine
	for _, s := range g.slots {
		line := demandLine{Slot: s}
		for _, wd := range weekdays {
			c := demandCell{}
			if x := g.cells[gridKey{wd, s}]; x != nil {
				c = *x
				c.Arrivals = float64(int(c.Arrivals*10+0.5)) / 10
				c.Heat = heat(c.Staff)
			}
			line.Cells = append(line.Cells, c)
		}
		lines = append(lines, line)
	}
	return lines
}

// day details one weekday: a line per open slot, a cell per skill group.
func (g *demandGrid) day(weekday int) []demandLine {
	var lines []demandLine
	for _, s := range g.slots {
		rows, ok := g.byGroup[gridKey{weekday, s}]
		if !ok {
			continue
		}
		line := demandLine{Slot: s}
		for _, name := range g.groups {
			row := rows[name]
			line.Cells = append(line.Cells, demandCell{Open: true, Arrivals: row.Arrivals, Staff: row.StaffNeeded,
				Agents: row.AgentsNeeded, Overridden: row.Overridden, Group: name})
		}
		lines = append(lines, line)
	}
	return lines
}
