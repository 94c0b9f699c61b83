package plan

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/scheduling"
	"turno/scheduling/roster"
	"turno/ticketing"
)

//go:embed templates/*.html
var templateFiles embed.FS

var (
	listPage   = web.ManagePage(templateFiles, "templates/rosters.html")
	rosterPage = web.ManagePage(templateFiles, "templates/roster.html")
	// shiftsPage is the operator's own page, outside the /manage shell.
	shiftsPage = web.NewPage(templateFiles, "templates/shifts.html")
)

// pageRoutes mounts the manager's roster pages under /manage/rosters (the shell's last section) and the
// operator's /me/shifts. The pages' forms post to them and are answered with a redirect.
func (pl *Planner) pageRoutes(r chi.Router) {
	r.Get("/manage/rosters/static/*", staticHandler().ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage/rosters", pl.pageList)
		r.Post("/manage/rosters", pl.pageCreate)
		r.Get("/manage/rosters/{id:[0-9]+}", pl.pageRoster)
		r.Post("/manage/rosters/{id:[0-9]+}/publish", pl.pagePublish)
		r.Post("/manage/rosters/{id:[0-9]+}/absence", pl.pageAbsence)
		r.Post("/manage/rosters/{id:[0-9]+}/apply", pl.pageApply)
		r.Post("/manage/rosters/{id:[0-9]+}/repair", pl.pageRepair)
		r.Post("/manage/rosters/{id:[0-9]+}/shift", pl.pageEdit)
		r.Get("/me/shifts", pl.pageShifts)
		r.Post("/me/shifts/feed", pl.pageFeed)
	})
}

// pageURL is the address of a page of the shell: path with the administrator's office and the non-empty
// params (name, value, …).
func pageURL(v *web.Manage, path string, params ...string) string {
	q := url.Values{}
	if v.Query != "" {
		q.Set("office", v.Slug)
	}
	for i := 0; i+1 < len(params); i += 2 {
		if params[i+1] != "" {
			q.Set(params[i], params[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// redirect answers a form: to the page at path with params, or, for a *web.Error, with its message as
// ?error= too; any other error is shown on the shell's error page.
func redirect(w http.ResponseWriter, r *http.Request, v *web.Manage, err error, path string, params ...string) {
	var we *web.Error
	switch {
	case err == nil:
	case errors.As(err, &we):
		params = append(params, "error", we.In(web.RequestLang(r, web.StaffLangs)))
	default:
		web.RenderManage(w, r, listPage, ticketing.UserName(r), v, err)
		return
	}
	http.Redirect(w, r, pageURL(v, path, params...), http.StatusSeeOther)
}

type listView struct {
	Rows  []listRow
	From  string
	To    string
	Error string
}

type listRow struct {
	Roster  *Roster
	Summary *Result
}

// pageList lists the office's rosters with a form to plan a new period.
func (pl *Planner) pageList(w http.ResponseWriter, r *http.Request) {
	v, o, err := pl.tickets.ManageView(r, "rosters")
	if err == nil {
		v.Page, err = pl.listView(r, o)
	}
	web.RenderManage(w, r, listPage, ticketing.UserName(r), v, err)
}

func (pl *Planner) listView(r *http.Request, o *ticketing.Office) (*listView, error) {
	list, err := pl.Rosters(r.Context(), o.ID)
	if err != nil {
		return nil, err
	}
	// Suggest the four weeks from next Monday.
	today := o.LocalDay(pl.now())
	monday := today.AddDate(0, 0, 8-ticketing.ISOWeekday(today))
	d := &listView{From: monday.Format(time.DateOnly), To: monday.AddDate(0, 0, 27).Format(time.DateOnly), Error: r.URL.Query().Get("error")}
	for _, ro := range list {
		row := listRow{Roster: ro}
		var res Result
		if !unsolved(ro.Status) && json.Unmarshal(ro.Result, &res) == nil {
			row.Summary = &res
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// pageCreate starts solving the period of the form and opens the new roster.
func (pl *Planner) pageCreate(w http.ResponseWriter, r *http.Request) {
	v, o, err := pl.tickets.ManageView(r, "rosters")
	if err != nil {
		web.RenderManage(w, r, listPage, ticketing.UserName(r), v, err)
		return
	}
	limit, err := web.FormInt(r, "time_limit_seconds", 0)
	if err != nil {
		redirect(w, r, v, err, "/manage/rosters")
		return
	}
	req := createRequest{From: r.PostFormValue("from"), To: r.PostFormValue("to"), TimeLimitSeconds: limit}
	per, err := req.period()
	if err != nil {
		redirect(w, r, v, err, "/manage/rosters")
		return
	}
	id, err := pl.StartSolve(r.Context(), o, per, userID(r))
	if err != nil {
		redirect(w, r, v, err, "/manage/rosters")
		return
	}
	redirect(w, r, v, nil, fmt.Sprintf("/manage/rosters/%d", id))
}

// managedRosterPage resolves {id} to a roster the caller manages and the shell's view of the roster's
// office, whatever office the query names.
func (pl *Planner) managedRosterPage(r *http.Request) (*Roster, *web.Manage, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return nil, nil, err
	}
	o, err := pl.tickets.OfficeByID(r.Context(), ro.OfficeID)
	if err != nil {
		return nil, nil, err
	}
	own := r.Clone(r.Context())
	q := own.URL.Query()
	q.Set("office", o.Slug)
	own.URL.RawQuery = q.Encode()
	v, _, err := pl.tickets.ManageView(own, "rosters")
	return ro, v, err
}

type dayColumn struct {
	Date   string
	Label  string
	Open   bool
	InSpan bool
	Chart  *chart
}

// absenceRow is an absence in the roster's period, linked to its substitution proposals.
type absenceRow struct {
	ID    int64
	Staff string
	Kind  string
	From  string
	To    string
	URL   string // the week grid with the absence's proposals
}

type gridCell struct {
	Shift   string
	Times   string
	Group   string
	Absent  bool
	Partial bool
	Changed bool
}

type gridRow struct {
	StaffID int64
	Code    string
	Name    string
	Cells   []gridCell
}

type rosterView struct {
	Roster     *Roster
	Result     *Result
	Live       *liveView
	Week       int
	WeekNo     int
	Weeks      int
	Prev, Next string // the other weeks' pages, "" at the ends
	Days       []dayColumn
	Rows       []gridRow
	Staff      []Member
	Kinds      []string
	AbsenceID  int64
	Absences   []absenceRow
	Holes      []Hole
	Changes    []Change
	Error      string
	Flash      string
	Unmapped   int
	Solving    bool
	// Violations are the broken hard rules, Summary what the roster could not satisfy, both in words.
	Violations []violationRow
	Summary    []summaryRow
	// HourWeeks are the ISO week numbers of the period; Hours each person's hours per week.
	HourWeeks []string
	Hours     []hoursRow
	// Gaps are the uncovered slots the publication's confirmation lists (at most maxGapsShown; GapsMore
	// more).
	Gaps     []gap
	GapsMore int
	// The edit form's choices and the last edit's effects.
	EditDays   []shiftOption
	EditShifts []shiftOption
	Effects    *effectsView
	SolvedS    int64 // the solve's time in seconds
}

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// pageRoster shows a roster: its progress while solving, then the week grid with the coverage, the absence
// form with substitution proposals, the cost terms and the changes.
func (pl *Planner) pageRoster(w http.ResponseWriter, r *http.Request) {
	ro, v, err := pl.managedRosterPage(r)
	if err == nil {
		v.Page, err = pl.rosterView(r, v, ro)
	}
	web.RenderManage(w, r, rosterPage, ticketing.UserName(r), v, err)
}

func (pl *Planner) rosterView(r *http.Request, m *web.Manage, ro *Roster) (*rosterView, error) {
	ctx := r.Context()
	q := r.URL.Query()
	lang := web.RequestLang(r, web.StaffLangs)
	v := &rosterView{Roster: ro, Kinds: scheduling.AbsenceKinds, Error: q.Get("error"), Flash: q.Get("done"),
		Solving: ro.Status == "solving" || ro.Status == "queued"}
	var progress []ProgressEntry
	_ = json.Unmarshal(ro.Progress, &progress) // a progress the page cannot read is not shown
	v.Live = newLive(ro, progress)
	if unsolved(ro.Status) {
		return v, nil
	}
	var res Result
	if err := json.Unmarshal(ro.Result, &res); err != nil {
		return nil, fmt.Errorf("plan: roster result: %w", err)
	}
	v.Result = &res
	v.SolvedS = (res.ElapsedMS + 500) / 1000
	week, err := web.QueryInt(r, "week", 0)
	if err != nil {
		return nil, err
	}
	st, err := pl.load(ctx, ro)
	if err != nil {
		return nil, err
	}
	v.Unmapped = st.Unmapped
	p := st.P
	v.Staff = p.In.Staff
	v.Weeks = p.weekOf(p.In.Days-1) + 1
	v.Week = min(max(week, 0), v.Weeks-1)
	v.WeekNo = v.Week + 1
	path := fmt.Sprintf("/manage/rosters/%d", ro.ID)
	if v.Week > 0 {
		v.Prev = pageURL(m, path, "week", strconv.Itoa(v.Week-1))
	}
	if v.Week+1 < v.Weeks {
		v.Next = pageURL(m, path, "week", strconv.Itoa(v.Week+1))
	}
	if v.Changes, err = pl.Changes(ctx, ro.ID); err != nil {
		return nil, err
	}
	days := v.weekColumns(lang, p, &res)
	v.gridRows(st, days)
	v.Violations = violationRows(lang, p, &res)
	v.Summary = summaryRows(st, &res)
	who, _ := strconv.ParseInt(q.Get("who"), 10, 64)
	v.HourWeeks, v.Hours = hoursRows(st, who)
	v.Gaps = gapsOf(lang, &res, p.In.SlotMinutes)
	if len(v.Gaps) > maxGapsShown {
		v.GapsMore, v.Gaps = len(v.Gaps)-maxGapsShown, v.Gaps[:maxGapsShown]
	}
	v.EditDays, v.EditShifts = v.editDays(), shiftOptions(lang, p)
	v.Effects = effectsOf(q, p, lang)
	names := map[int64]string{}
	for _, mb := range p.In.Staff {
		names[mb.ID] = mb.Name
	}
	for _, a := range p.In.Absences {
		v.Absences = append(v.Absences, absenceRow{ID: a.ID, Staff: names[a.StaffID], Kind: a.Kind,
			From: web.FormatDateTime(lang, a.Start.In(p.In.Loc)), To: web.FormatDateTime(lang, a.End.In(p.In.Loc)),
			URL: pageURL(m, path, "week", strconv.Itoa(v.Week), "absence", strconv.FormatInt(a.ID, 10)) + "#proposals"})
	}
	if id, err := strconv.ParseInt(q.Get("absence"), 10, 64); err == nil {
		v.AbsenceID = id
		if v.Holes, err = pl.Proposals(ctx, ro, id); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// weekColumns fills the day columns of the shown ISO week, each with its coverage chart, and returns the
// period's day index of each column (outside the period: out of range).
func (v *rosterView) weekColumns(lang string, p *Problem, res *Result) []int {
	first := p.In.Date(0)
	monday := first.AddDate(0, 0, 1-ticketing.ISOWeekday(first)+7*v.Week)
	coverage := map[string][]SlotCoverage{}
	for _, c := range res.Coverage {
		coverage[c.Day] = append(coverage[c.Day], c)
	}
	var days []int
	for i := range 7 {
		date := monday.AddDate(0, 0, i)
		d := int(date.Sub(first).Hours() / 24)
		col := dayColumn{Date: date.Format(time.DateOnly), Label: web.Translate(lang, "plan.wd."+weekdayKeys[date.Weekday()]) + " " + date.Format("02/01"),
			InSpan: d >= 0 && d < p.In.Days}
		if col.InSpan {
			col.Open = len(p.In.Open[d]) > 0
			col.Chart = newChart(coverage[col.Date])
		}
		v.Days = append(v.Days, col)
		days = append(days, d)
	}
	return days
}

// gridRows fills a row per staff member with their cell on each day of days.
func (v *rosterView) gridRows(st *stored, days []int) {
	p := st.P
	changed := map[string]bool{}
	for _, c := range v.Changes {
		changed[fmt.Sprintf("%d/%s", c.StaffID, c.Day)] = true
	}
	for e, mb := range p.In.Staff {
		row := gridRow{StaffID: mb.ID, Code: mb.Code, Name: mb.Name}
		for _, d := range days {
			var c gridCell
			if d >= 0 && d < p.In.Days {
				if s := st.Cells[e][d]; s != roster.Off {
					t := p.In.Templates[p.ShiftTemplate[s]]
					c.Shift, c.Times, c.Group = t.Code, t.Start.String()+"–"+t.End.String(), p.In.Groups[p.ShiftGroup[s]]
					c.Partial = p.Blocked[e][d][p.ShiftTemplate[s]]
				}
				c.Absent = st.absentAllDay(e, d)
				c.Changed = changed[fmt.Sprintf("%d/%s", mb.ID, p.In.Date(d).Format(time.DateOnly))]
			}
			row.Cells = append(row.Cells, c)
		}
		v.Rows = append(v.Rows, row)
	}
}

// chart is a day's coverage chart: one bar pair per slot (needed, planned), understaffed slots in red.
type chart struct {
	Width, Height int
	Bars          []chartBar
	Short         int
}

type chartBar struct {
	X, NeedY, NeedH, PlanY, PlanH, LabelY int
	Label                                 string
	Short                                 bool
	Title                                 string
}

const (
	barStep   = 16
	barWidth  = 12
	barHeight = 80
)

func newChart(slots []SlotCoverage) *chart {
	type agg struct {
		needed, planned int
		short           []string
	}
	bySlot := map[string]*agg{}
	var keys []string
	for _, s := range slots {
		a := bySlot[s.Slot]
		if a == nil {
			a = &agg{}
			bySlot[s.Slot] = a
			keys = append(keys, s.Slot)
		}
		a.needed += s.Needed
		a.planned += s.Planned
		if s.Planned < s.Needed {
			a.short = append(a.short, fmt.Sprintf("%s −%d", s.Group, s.Needed-s.Planned))
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return nil
	}
	top := 1
	for _, a := range bySlot {
		top = max(top, a.needed, a.planned)
	}
	c := &chart{Width: len(keys)*barStep + 4, Height: barHeight + 16}
	for i, k := range keys {
		a := bySlot[k]
		b := chartBar{X: 2 + i*barStep, Short: len(a.short) > 0, LabelY: barHeight + 12}
		b.NeedH = a.needed * barHeight / top
		b.NeedY = barHeight - b.NeedH
		b.PlanH = a.planned * barHeight / top
		b.PlanY = barHeight - b.PlanH
		if k[3:] == "00" {
			b.Label = k[:2]
		}
		b.Title = fmt.Sprintf("%s: %d / %d", k, a.planned, a.needed)
		for _, s := range a.short {
			b.Title += " · " + s
		}
		if b.Short {
			c.Short++
		}
		c.Bars = append(c.Bars, b)
	}
	return c
}

// pagePublish publishes a draft from its page.
func (pl *Planner) pagePublish(w http.ResponseWriter, r *http.Request) {
	ro, v, err := pl.managedRosterPage(r)
	if err != nil {
		web.RenderManage(w, r, rosterPage, ticketing.UserName(r), v, err)
		return
	}
	path := fmt.Sprintf("/manage/rosters/%d", ro.ID)
	if _, err := pl.Publish(r.Context(), ro.ID, r.PostFormValue("accept_gaps") == "yes"); err != nil {
		redirect(w, r, v, err, path)
		return
	}
	redirect(w, r, v, nil, path, "done", "published")
}

// pageEdit changes one person's day from the week grid's edit form and returns to the week with the
// edit's effects, or with the reason it was refused.
func (pl *Planner) pageEdit(w http.ResponseWriter, r *http.Request) {
	ro, v, path, week, ok := pl.rosterForm(w, r)
	if !ok {
		return
	}
	back := []string{"week", strconv.Itoa(week)}
	staffID, err := web.FormID(r, "staff_id")
	if err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	tplID, group, err := parseShiftOption(r.PostFormValue("shift"))
	if err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	day := r.PostFormValue("day")
	res, err := pl.EditShift(r.Context(), ro, ShiftEdit{StaffID: staffID, Day: day, TemplateID: tplID, Group: group},
		web.RequestLang(r, web.StaffLangs), userID(r))
	if err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	http.Redirect(w, r, pageURL(v, path, append(back, "done", "edited", "fx", effectsQuery(res.Effects),
		"who", strconv.FormatInt(staffID, 10), "day", day)...)+"#hours", http.StatusSeeOther)
}

// rosterForm resolves the roster of a form posted from its page and the week the form was on; on failure
// it has answered (an error page, or back to the roster with the error) and ok is false.
func (pl *Planner) rosterForm(w http.ResponseWriter, r *http.Request) (ro *Roster, v *web.Manage, path string, week int, ok bool) {
	ro, v, err := pl.managedRosterPage(r)
	if err != nil {
		web.RenderManage(w, r, rosterPage, ticketing.UserName(r), v, err)
		return nil, nil, "", 0, false
	}
	path = fmt.Sprintf("/manage/rosters/%d", ro.ID)
	if week, err = web.FormInt(r, "week", 0); err != nil {
		redirect(w, r, v, err, path)
		return nil, nil, "", 0, false
	}
	return ro, v, path, week, true
}

// pageAbsence records an absence from the week grid and shows its substitution proposals.
func (pl *Planner) pageAbsence(w http.ResponseWriter, r *http.Request) {
	ro, v, path, week, ok := pl.rosterForm(w, r)
	if !ok {
		return
	}
	back := []string{"week", strconv.Itoa(week)}
	staffID, err := web.FormID(r, "staff_id")
	if err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	req := scheduling.AbsenceInput{StaffID: staffID, Kind: r.PostFormValue("kind"), StartsAt: r.PostFormValue("starts_at"),
		EndsAt: r.PostFormValue("ends_at"), Note: r.PostFormValue("note")}
	a, _, err := pl.recordAbsence(r.Context(), ro, req, userID(r))
	if err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	http.Redirect(w, r, pageURL(v, path, append(back, "absence", strconv.FormatInt(a.ID, 10))...)+"#proposals", http.StatusSeeOther)
}

// pageApply applies one proposed substitute.
func (pl *Planner) pageApply(w http.ResponseWriter, r *http.Request) {
	pl.repairPage(w, r, "applied", func(req *repairRequest) error {
		var err error
		if req.StaffID, err = web.FormID(r, "staff_id"); err != nil {
			return err
		}
		if req.TemplateID, err = web.FormID(r, "template_id"); err != nil {
			return err
		}
		req.Day = r.PostFormValue("day")
		return nil
	})
}

// pageRepair repairs the roster around an absence with the solver.
func (pl *Planner) pageRepair(w http.ResponseWriter, r *http.Request) {
	pl.repairPage(w, r, "repaired", func(req *repairRequest) error {
		req.Mode = "minimal"
		return nil
	})
}

// repairPage runs a repair about the form's absence, filled by fill, and returns to the roster's week with
// the absence's proposals and done as the flash.
func (pl *Planner) repairPage(w http.ResponseWriter, r *http.Request, done string, fill func(*repairRequest) error) {
	ro, v, path, week, ok := pl.rosterForm(w, r)
	if !ok {
		return
	}
	var req repairRequest
	var err error
	req.AbsenceID, err = web.FormID(r, "absence_id")
	if err != nil {
		redirect(w, r, v, err, path, "week", strconv.Itoa(week))
		return
	}
	back := []string{"week", strconv.Itoa(week), "absence", strconv.FormatInt(req.AbsenceID, 10)}
	if err := fill(&req); err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	if _, err := pl.repair(r.Context(), ro, req, userID(r)); err != nil {
		redirect(w, r, v, err, path, back...)
		return
	}
	http.Redirect(w, r, pageURL(v, path, append(back, "done", done)...)+"#proposals", http.StatusSeeOther)
}

type shiftsView struct {
	Shifts  []Shift
	Changes []Change
	FeedURL string
	NoStaff bool
	Error   string
}

// pageShifts is the operator's page: their upcoming shifts, recent changes and calendar feed.
func (pl *Planner) pageShifts(w http.ResponseWriter, r *http.Request) {
	pl.renderShifts(w, r, "")
}

func (pl *Planner) renderShifts(w http.ResponseWriter, r *http.Request, feed string) {
	u := auth.FromContext(r.Context()).User
	v := shiftsView{FeedURL: feed, NoStaff: u.StaffID == 0}
	view := &web.View{Title: "Turni", User: ticketing.UserName(r), Data: &v}
	if u.StaffID != 0 {
		var err error
		if v.Shifts, v.Changes, err = pl.myShifts(r.Context(), u.StaffID); err != nil {
			view.Status, v.Error = pageFailure(r, err)
		}
	}
	shiftsPage.Render(w, r, view)
}

// pageFeed issues the operator a new calendar feed URL and shows it once.
func (pl *Planner) pageFeed(w http.ResponseWriter, r *http.Request) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		pl.renderShifts(w, r, "")
		return
	}
	path, err := pl.IssueFeedToken(r.Context(), u.StaffID)
	if err != nil {
		view := &web.View{Title: "Turni", User: ticketing.UserName(r), Data: &shiftsView{}}
		view.Status, view.Data.(*shiftsView).Error = pageFailure(r, err)
		shiftsPage.Render(w, r, view)
		return
	}
	pl.renderShifts(w, r, feedURL(r, path))
}

// pageFailure is the status and message a plain page shows for err; anything but a *web.Error is logged
// and shown as an internal error.
func pageFailure(r *http.Request, err error) (int, string) {
	var we *web.Error
	if errors.As(err, &we) {
		return we.Status, we.Message
	}
	slog.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", web.RedactPath(r.URL.Path), "err", err)
	return http.StatusInternalServerError, web.Translate(web.RequestLang(r, web.StaffLangs), "error.internal")
}
