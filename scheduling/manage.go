package scheduling

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/scheduling/demand"
	"turno/scheduling/job"
	"turno/ticketing"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

func managePage(name string) *web.Page {
	return web.NewPage(templateFiles, "templates/manage.html", "templates/"+name+".html")
}

var (
	homePage      = managePage("home")
	cataloguePage = managePage("catalogue")
	staffPage     = managePage("staff")
	memberPage    = managePage("member")
	hoursPage     = managePage("hours")
	templatesPage = managePage("templates")
	absencesPage  = managePage("absences")
	demandPage    = managePage("demand")
	errorPage     = managePage("error")
)

// Pages serves the manager's pages under /manage: home, catalogue, staff and skills, opening hours,
// shift templates, absences and demand. Forms post JSON to the API with a small script; the roster pages
// (/manage/rosters) belong to scheduling/plan.
type Pages struct {
	Store *ticketing.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (p *Pages) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Routes mounts the pages and their script.
func (p *Pages) Routes(r chi.Router) {
	static, _ := fs.Sub(staticFiles, "static")
	r.Handle("/manage/assets/*", http.StripPrefix("/manage/assets/", http.FileServer(http.FS(static))))
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage", p.page(homePage, "home", p.home))
		r.Get("/manage/catalogue", p.page(cataloguePage, "catalogue", p.catalogue))
		r.Get("/manage/staff", p.page(staffPage, "staff", p.staff))
		r.Get("/manage/staff/{id}", p.page(memberPage, "staff", p.member))
		r.Get("/manage/hours", p.page(hoursPage, "hours", p.hours))
		r.Get("/manage/templates", p.page(templatesPage, "templates", p.templates))
		r.Get("/manage/absences", p.page(absencesPage, "absences", p.absences))
		r.Get("/manage/demand", p.page(demandPage, "demand", p.demand))
	})
}

// NavItem is a link of the manager's navigation bar.
type NavItem struct {
	Key, Href string
	Active    bool
}

// navItems are the sections; "rosters" is scheduling/plan's.
var navItems = []NavItem{
	{Key: "home", Href: "/manage"}, {Key: "catalogue", Href: "/manage/catalogue"}, {Key: "staff", Href: "/manage/staff"},
	{Key: "hours", Href: "/manage/hours"}, {Key: "templates", Href: "/manage/templates"}, {Key: "absences", Href: "/manage/absences"},
	{Key: "demand", Href: "/manage/demand"}, {Key: "rosters", Href: "/manage/rosters"},
}

// View is what every manager page receives as web.View.Data.
type View struct {
	Office  *ticketing.Office
	Offices []*ticketing.Office // for admins: the offices they can switch to
	Nav     []NavItem
	API     string // /api/v1/offices/{slug}
	Query   string // "?office=slug" for admins, so links keep the office
	Lang    string
	Page    any
}

// Q appends the office query to a path.
func (v *View) Q(path string) string { return path + v.Query }

// Link returns path with the office query and one more parameter.
func (v *View) Link(path, key string, value any) string {
	q := url.Values{}
	if v.Query != "" {
		q.Set("office", v.Office.Slug)
	}
	q.Set(key, fmt.Sprint(value))
	return path + "?" + q.Encode()
}

type handler func(ctx context.Context, r *http.Request, v *View) error

// page resolves the office the caller manages, runs fill and renders the page.
func (p *Pages) page(pg *web.Page, section string, fill handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		u := auth.FromContext(ctx).User
		lang := web.RequestLang(r, web.StaffLangs)
		view := &web.View{Lang: lang, Title: "manage", Body: "manage", User: u.DisplayName}
		v, err := p.view(r, u, section, lang)
		if err == nil {
			err = fill(ctx, r, v)
		}
		if err != nil {
			p.fail(w, r, view, v, err)
			return
		}
		view.Data = v
		pg.Render(w, r, view)
	}
}

func (p *Pages) fail(w http.ResponseWriter, r *http.Request, view *web.View, v *View, err error) {
	var we *web.Error
	if !errors.As(err, &we) {
		web.WriteError(w, r, err) // logs it; the body is JSON, good enough for a 500
		return
	}
	if v == nil {
		v = &View{Lang: view.Lang}
	}
	v.Page = we.Message
	view.Data, view.Status = v, we.Status
	errorPage.Render(w, r, view)
}

func (p *Pages) view(r *http.Request, u *auth.User, section, lang string) (*View, error) {
	ctx := r.Context()
	if u.Role != auth.Manager && u.Role != auth.Admin {
		return nil, web.Forbidden("not_manager", "these pages are for office managers")
	}
	v := &View{Lang: lang}
	var err error
	switch slug := r.URL.Query().Get("office"); {
	case slug != "":
		v.Office, err = p.Store.Office(ctx, slug)
	case u.OfficeID != 0:
		v.Office, err = p.Store.OfficeByID(ctx, u.OfficeID)
	default:
		offices, lerr := p.Store.Offices(ctx)
		if lerr != nil {
			return nil, lerr
		}
		if len(offices) == 0 {
			return nil, web.NotFound("no_office", "there is no office yet; create one with turno demo or the API")
		}
		v.Office = offices[0]
	}
	if err != nil {
		return nil, err
	}
	if !auth.CanManage(u, v.Office.ID) {
		return nil, web.Forbidden("other_office", "you do not manage office %q", v.Office.Slug)
	}
	if u.Role == auth.Admin {
		if v.Offices, err = p.Store.Offices(ctx); err != nil {
			return nil, err
		}
		v.Query = "?office=" + v.Office.Slug
	}
	v.API = "/api/v1/offices/" + v.Office.Slug
	for _, n := range navItems {
		n.Active = n.Key == section
		n.Href = v.Q(n.Href)
		v.Nav = append(v.Nav, n)
	}
	return v, nil
}

// homeData is the manager's overview.
type homeData struct {
	Services, Desks, Staff, Contracts, Templates int
	Absences                                     []Absence
	Closures                                     []closure
	Forecast                                     *demand.Forecast
	WeeklyArrivals                               float64
	PeakStaff                                    int
	Runs                                         []job.Run
}

// closure is an upcoming day with different hours: a holiday or an exception.
type closure struct {
	Day    time.Time
	What   string
	Closed bool
	Hours  string
}

func (p *Pages) home(ctx context.Context, r *http.Request, v *View) error {
	o, pool := v.Office, p.Store.Pool()
	d := &homeData{}
	services, err := p.Store.Services(ctx, o.ID)
	if err != nil {
		return err
	}
	desks, err := p.Store.Desks(ctx, o.ID)
	if err != nil {
		return err
	}
	staff, err := p.Store.StaffList(ctx, o.ID)
	if err != nil {
		return err
	}
	contracts, err := Contracts(ctx, pool, o.ID)
	if err != nil {
		return err
	}
	templates, err := ShiftTemplates(ctx, pool, o.ID)
	if err != nil {
		return err
	}
	d.Services, d.Desks, d.Staff, d.Contracts, d.Templates = len(services), len(desks), len(staff), len(contracts), len(templates)
	now := p.now()
	today := o.LocalDay(now)
	loc := o.Location()
	if d.Absences, err = Absences(ctx, pool, o.ID, now, time.Date(today.Year(), today.Month(), today.Day()+15, 0, 0, 0, 0, loc), 0); err != nil {
		return err
	}
	if d.Closures, err = p.closures(ctx, o, today, 60); err != nil {
		return err
	}
	if d.Forecast, err = demand.Load(ctx, pool, o.ID); err != nil {
		return err
	}
	peak := map[demand.Key]int{}
	for _, row := range d.Forecast.Rows {
		d.WeeklyArrivals += row.Arrivals
		k := demand.Key{Weekday: row.Weekday, Slot: row.Slot}
		peak[k] += row.StaffNeeded
		d.PeakStaff = max(d.PeakStaff, peak[k])
	}
	if d.Runs, err = job.Recent(ctx, &job.Env{Pool: pool}, o.ID, 8); err != nil {
		return err
	}
	v.Page = d
	return nil
}

// closures lists the days of the next n whose hours differ from the weekly ones.
func (p *Pages) closures(ctx context.Context, o *ticketing.Office, today time.Time, n int) ([]closure, error) {
	cal, err := p.Store.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	var out []closure
	for i := 0; i < n; i++ {
		day := today.AddDate(0, 0, i)
		if e, ok := cal.Exceptions[day]; ok {
			out = append(out, closure{Day: day, What: e.Reason, Closed: e.Closed, Hours: spanText(spans(e.Intervals))})
			continue
		}
		weekly := cal.Weekly[demand.ISOWeekday(day)]
		if len(weekly) == 0 {
			continue
		}
		if name, ok := ticketing.Holiday(day); ok {
			out = append(out, closure{Day: day, What: name, Closed: true})
		} else if o.PatronDay != "" && day.Format("01-02") == o.PatronDay {
			out = append(out, closure{Day: day, What: "Santo patrono", Closed: true})
		}
	}
	return out, nil
}

// spanText writes spans as the opening-hours inputs read them: "08:30-13:00, 14:30-18:00".
func spanText(ss []Span) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Opens + "-" + s.Closes
	}
	return strings.Join(parts, ", ")
}

// catalogueData lists services, desks, priority categories and the agencies services belong to.
type catalogueData struct {
	Services   []*ticketing.Service
	Desks      []*ticketing.Desk
	Priorities []*ticketing.PriorityCategory
	Agencies   []ticketing.Agency
}

func (p *Pages) catalogue(ctx context.Context, r *http.Request, v *View) error {
	o := v.Office
	d := &catalogueData{}
	var err error
	if d.Services, err = p.Store.Services(ctx, o.ID); err != nil {
		return err
	}
	if d.Desks, err = p.Store.Desks(ctx, o.ID); err != nil {
		return err
	}
	if d.Priorities, err = p.Store.PriorityCategories(ctx, o.ID); err != nil {
		return err
	}
	rows, err := p.Store.Pool().Query(ctx, `SELECT id, code, name FROM agencies WHERE office_id = $1 ORDER BY name`, o.ID)
	if err != nil {
		return fmt.Errorf("scheduling: agencies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a ticketing.Agency
		if err := rows.Scan(&a.ID, &a.Code, &a.Name); err != nil {
			return fmt.Errorf("scheduling: agencies: %w", err)
		}
		d.Agencies = append(d.Agencies, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scheduling: agencies: %w", err)
	}
	v.Page = d
	return nil
}

// staffRow is a line of the skills matrix.
type staffRow struct {
	*ticketing.Staff
	Contract *Contract
}

type staffData struct {
	Rows      []staffRow
	Services  []*ticketing.Service
	Templates []ShiftTemplate
	Levels    []string
}

func (p *Pages) staff(ctx context.Context, r *http.Request, v *View) error {
	o, pool := v.Office, p.Store.Pool()
	d := &staffData{Levels: []string{ticketing.Primary, ticketing.Secondary, ticketing.Learning}}
	staff, err := p.Store.StaffList(ctx, o.ID)
	if err != nil {
		return err
	}
	contracts, err := Contracts(ctx, pool, o.ID)
	if err != nil {
		return err
	}
	for _, st := range staff {
		row := staffRow{Staff: st}
		if c, ok := contracts[st.ID]; ok {
			row.Contract = &c
		}
		d.Rows = append(d.Rows, row)
	}
	services, err := p.Store.Services(ctx, o.ID)
	if err != nil {
		return err
	}
	// Columns grouped by skill group, the way the roster plans.
	sort.SliceStable(services, func(i, j int) bool { return services[i].Category < services[j].Category })
	d.Services = services
	if d.Templates, err = ShiftTemplates(ctx, pool, o.ID); err != nil {
		return err
	}
	v.Page = d
	return nil
}

type memberData struct {
	*StaffDetail
	Contract  Contract
	Templates []ShiftTemplate
	Absences  []Absence
	Kinds     []string
	JSON      string // the staff member for the edit form's script
}

func (p *Pages) member(ctx context.Context, r *http.Request, v *View) error {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return staffNotFound(chi.URLParam(r, "id"))
	}
	st, err := p.Store.StaffMember(ctx, v.Office.ID, id)
	if err != nil {
		return err
	}
	pool := p.Store.Pool()
	detail, err := StaffDetailOf(ctx, pool, st)
	if err != nil {
		return err
	}
	d := &memberData{StaffDetail: detail, Contract: DefaultContract, Kinds: AbsenceKinds}
	if detail.Contract != nil {
		d.Contract = *detail.Contract
	}
	if d.Templates, err = ShiftTemplates(ctx, pool, v.Office.ID); err != nil {
		return err
	}
	now := p.now()
	if d.Absences, err = Absences(ctx, pool, v.Office.ID, now.AddDate(0, -1, 0), now.AddDate(1, 0, 0), st.ID); err != nil {
		return err
	}
	b, _ := json.Marshal(detail.Preferences)
	d.JSON = string(b)
	v.Page = d
	return nil
}

// allowed reports whether a contract lets its holder work template code.
func (c Contract) Allowed(code string) bool {
	if len(c.AllowedTemplates) == 0 {
		return true
	}
	for _, x := range c.AllowedTemplates {
		if x == code {
			return true
		}
	}
	return false
}

// Hours formats the weekly minutes as hours, e.g. "36 h" or "30 h 30".
func (c Contract) Hours() string {
	h, m := c.WeeklyMinutes/60, c.WeeklyMinutes%60
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %02d", h, m)
}

type hoursData struct {
	Weekly     []weekdayHours
	Exceptions []Exception
	Holidays   []Holiday
	Today      string
}

type weekdayHours struct {
	Weekday int
	Text    string
}

func (p *Pages) hours(ctx context.Context, r *http.Request, v *View) error {
	o := v.Office
	h, err := OpeningHours(ctx, p.Store, o)
	if err != nil {
		return err
	}
	d := &hoursData{}
	for wd := 1; wd <= 7; wd++ {
		d.Weekly = append(d.Weekly, weekdayHours{wd, spanText(h.Hours[wd])})
	}
	today := o.LocalDay(p.now())
	d.Today = today.Format(time.DateOnly)
	if d.Exceptions, err = Exceptions(ctx, p.Store.Pool(), o.ID, today.AddDate(0, 0, -30), today.AddDate(1, 0, 0)); err != nil {
		return err
	}
	d.Holidays = append(Holidays(o, today.Year()), Holidays(o, today.Year()+1)...)
	v.Page = d
	return nil
}

func (p *Pages) templates(ctx context.Context, r *http.Request, v *View) error {
	list, err := ShiftTemplates(ctx, p.Store.Pool(), v.Office.ID)
	if err != nil {
		return err
	}
	v.Page = list
	return nil
}

type absencesData struct {
	Absences []Absence
	Staff    []*ticketing.Staff
	Kinds    []string
	Today    string
}

func (p *Pages) absences(ctx context.Context, r *http.Request, v *View) error {
	o := v.Office
	now := p.now()
	today := o.LocalDay(now)
	d := &absencesData{Kinds: AbsenceKinds, Today: today.Format(time.DateOnly)}
	var err error
	if d.Absences, err = Absences(ctx, p.Store.Pool(), o.ID, now.AddDate(0, 0, -14), now.AddDate(0, 6, 0), 0); err != nil {
		return err
	}
	if d.Staff, err = p.Store.StaffList(ctx, o.ID); err != nil {
		return err
	}
	v.Page = d
	return nil
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
	Slot  string
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

func (p *Pages) demand(ctx context.Context, r *http.Request, v *View) error {
	f, err := demand.Load(ctx, p.Store.Pool(), v.Office.ID)
	if err != nil {
		return err
	}
	d := &demandData{Forecast: f, ServiceLevelPct: int(f.Settings.ServiceLevel*100 + 0.5), ShrinkagePct: int(f.Settings.Shrinkage*100 + 0.5)}
	type cellKey struct {
		wd   int
		slot string
	}
	cells := map[cellKey]*demandCell{}
	groupCells := map[cellKey]map[string]demand.Row{}
	days, slots, groups := map[int]bool{}, map[string]bool{}, map[string]bool{}
	for _, row := range f.Rows {
		k := cellKey{row.Weekday, row.SlotStart}
		c := cells[k]
		if c == nil {
			c = &demandCell{Open: true}
			cells[k] = c
			groupCells[k] = map[string]demand.Row{}
		}
		c.Arrivals += row.Arrivals
		c.Staff += row.StaffNeeded
		c.Agents += row.AgentsNeeded
		c.Overridden = c.Overridden || row.Overridden
		if row.Overridden {
			d.Overrides = append(d.Overrides, row)
		}
		groupCells[k][row.Group] = row
		days[row.Weekday], slots[row.SlotStart], groups[row.Group] = true, true, true
		d.MaxStaff = max(d.MaxStaff, c.Staff)
	}
	for wd := 1; wd <= 7; wd++ {
		if days[wd] {
			d.Weekdays = append(d.Weekdays, wd)
		}
	}
	var slotList []string
	for s := range slots {
		slotList = append(slotList, s)
	}
	sort.Strings(slotList)
	for g := range groups {
		d.Groups = append(d.Groups, g)
	}
	sort.Strings(d.Groups)
	heat := func(staff int) int {
		if d.MaxStaff == 0 || staff == 0 {
			return 0
		}
		return 1 + 3*staff/(d.MaxStaff+1)
	}
	for _, s := range slotList {
		line := demandLine{Slot: s}
		for _, wd := range d.Weekdays {
			c := demandCell{}
			if x := cells[cellKey{wd, s}]; x != nil {
				c = *x
				c.Arrivals = float64(int(c.Arrivals*10+0.5)) / 10
				c.Heat = heat(c.Staff)
			}
			line.Cells = append(line.Cells, c)
		}
		d.Lines = append(d.Lines, line)
	}
	d.Weekday, _ = strconv.Atoi(r.URL.Query().Get("weekday"))
	if !days[d.Weekday] && len(d.Weekdays) > 0 {
		d.Weekday = d.Weekdays[0]
	}
	for _, s := range slotList {
		gc, ok := groupCells[cellKey{d.Weekday, s}]
		if !ok {
			continue
		}
		line := demandLine{Slot: s}
		for _, g := range d.Groups {
			row := gc[g]
			line.Cells = append(line.Cells, demandCell{Open: true, Arrivals: row.Arrivals, Staff: row.StaffNeeded,
				Agents: row.AgentsNeeded, Overridden: row.Overridden, Group: g})
		}
		d.Detail = append(d.Detail, line)
	}
	v.Page = d
	return nil
}

// JSON marshals v for a data- attribute (the edit buttons fill forms from it).
func (v *View) JSON(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}
