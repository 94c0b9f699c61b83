package plan

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
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
	listPage   = web.NewPage(templateFiles, "templates/common.html", "templates/rosters.html")
	rosterPage = web.NewPage(templateFiles, "templates/common.html", "templates/roster.html")
	shiftsPage = web.NewPage(templateFiles, "templates/common.html", "templates/shifts.html")
)

// pageRoutes mounts the manager's roster pages under /manage/rosters and the operator's /me/shifts.
func (pl *Planner) pageRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage/rosters", pl.pageList)
		r.Post("/manage/rosters", pl.pageCreate)
		r.Get("/manage/rosters/{id:[0-9]+}", pl.pageRoster)
		r.Post("/manage/rosters/{id:[0-9]+}/publish", pl.pagePublish)
		r.Post("/manage/rosters/{id:[0-9]+}/absence", pl.pageAbsence)
		r.Post("/manage/rosters/{id:[0-9]+}/apply", pl.pageApply)
		r.Post("/manage/rosters/{id:[0-9]+}/repair", pl.pageRepair)
		r.Get("/me/shifts", pl.pageShifts)
		r.Post("/me/shifts/feed", pl.pageFeed)
	})
}

func userName(u *auth.User) string {
	if u == nil {
		return ""
	}
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

// pageError renders an error page with the error's status.
func pageError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := "internal error"
	var we *web.Error
	if errors.As(err, &we) {
		status, msg = we.Status, we.Message
	}
	listPage.Render(w, r, &web.View{Title: "Turno", Status: status, User: userName(auth.FromContext(r.Context()).User),
		Data: map[string]any{"Error": msg}})
}

// managerOffice returns the office a manager plans: their own, or for an admin the one named by
// ?office= (default: the first office).
func (pl *Planner) managerOffice(r *http.Request) (*ticketing.Office, error) {
	u := auth.FromContext(r.Context()).User
	ctx := r.Context()
	if slug := r.URL.Query().Get("office"); slug != "" {
		o, err := pl.Store.Office(ctx, slug)
		if err != nil {
			return nil, err
		}
		if !auth.CanManage(u, o.ID) {
			return nil, web.Forbidden("other_office", "you do not manage office %q", slug)
		}
		return o, nil
	}
	if u.Role == auth.Manager && u.OfficeID != 0 {
		return pl.Store.OfficeByID(ctx, u.OfficeID)
	}
	if u.Role != auth.Admin && u.Role != auth.Manager {
		return nil, web.Forbidden("forbidden", "roster planning is for managers")
	}
	offices, err := pl.Store.Offices(ctx)
	if err != nil {
		return nil, err
	}
	if len(offices) == 0 {
		return nil, web.NotFound("no_office", "no office yet")
	}
	return offices[0], nil
}

type listView struct {
	Office *ticketing.Office
	Rows   []listRow
	From   string
	To     string
	Error  string
}

type listRow struct {
	Roster  *Roster
	Summary *Result
}

func (pl *Planner) pageList(w http.ResponseWriter, r *http.Request) {
	o, err := pl.managerOffice(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	list, err := pl.Rosters(r.Context(), o.ID)
	if err != nil {
		pageError(w, r, err)
		return
	}
	// Suggest the four weeks from next Monday.
	today := o.LocalDay(pl.now())
	monday := today.AddDate(0, 0, 8-isoWeekday(today))
	var rows []listRow
	for _, ro := range list {
		row := listRow{Roster: ro}
		var res Result
		if ro.Status != "solving" && ro.Status != "failed" && json.Unmarshal(ro.Result, &res) == nil {
			row.Summary = &res
		}
		rows = append(rows, row)
	}
	v := listView{Office: o, Rows: rows, From: monday.Format(time.DateOnly), To: monday.AddDate(0, 0, 27).Format(time.DateOnly),
		Error: r.URL.Query().Get("error")}
	listPage.Render(w, r, &web.View{Title: "Turni", Body: "manage", User: userName(auth.FromContext(r.Context()).User), Data: v})
}

func (pl *Planner) pageCreate(w http.ResponseWriter, r *http.Request) {
	o, err := pl.managerOffice(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	limit, _ := strconv.Atoi(r.PostFormValue("time_limit_seconds"))
	req := createRequest{From: r.PostFormValue("from"), To: r.PostFormValue("to"), TimeLimitSeconds: limit}
	per, err := req.period()
	if err == nil {
		var id int64
		if id, err = pl.StartSolve(r.Context(), o, per, userID(r)); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/manage/rosters/%d", id), http.StatusSeeOther)
			return
		}
	}
	redirectError(w, r, "/manage/rosters", err)
}

// redirectError sends the browser back to path with the error's message, or shows the error page.
func redirectError(w http.ResponseWriter, r *http.Request, path string, err error) {
	var we *web.Error
	if !errors.As(err, &we) {
		pageError(w, r, err)
		return
	}
	sep := "?"
	if u, perr := url.Parse(path); perr == nil && u.RawQuery != "" {
		sep = "&"
	}
	http.Redirect(w, r, path+sep+"error="+url.QueryEscape(we.Message), http.StatusSeeOther)
}

// pageRosterOf resolves {id} for a page.
func (pl *Planner) pageRosterOf(r *http.Request) (*Roster, error) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	return pl.rosterFor(r.Context(), auth.FromContext(r.Context()).User, id)
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
	Office     *ticketing.Office
	Roster     *Roster
	Result     *Result
	Progress   []ProgressEntry
	Week       int
	WeekNo     int
	Weeks      int
	Prev, Next int
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
}

var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func (pl *Planner) pageRoster(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.pageRosterOf(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	v, err := pl.rosterView(r.Context(), r, ro)
	if err != nil {
		pageError(w, r, err)
		return
	}
	rosterPage.Render(w, r, &web.View{Title: "Turni", Body: "manage", User: userName(auth.FromContext(r.Context()).User), Data: v})
}

func (pl *Planner) rosterView(ctx context.Context, r *http.Request, ro *Roster) (*rosterView, error) {
	q := r.URL.Query()
	v := &rosterView{Roster: ro, Kinds: scheduling.AbsenceKinds, Error: q.Get("error"), Flash: q.Get("done"), Solving: ro.Status == "solving"}
	o, err := pl.Store.OfficeByID(ctx, ro.OfficeID)
	if err != nil {
		return nil, err
	}
	v.Office = o
	var progress []ProgressEntry
	_ = json.Unmarshal(ro.Progress, &progress)
	if len(progress) > 8 {
		progress = progress[len(progress)-8:]
	}
	v.Progress = progress
	if ro.Status == "solving" || ro.Status == "failed" {
		return v, nil
	}
	var res Result
	if err := json.Unmarshal(ro.Result, &res); err != nil {
		return nil, fmt.Errorf("plan: roster result: %w", err)
	}
	v.Result = &res
	st, err := pl.load(ctx, ro)
	if err != nil {
		return nil, err
	}
	v.Unmapped = st.Unmapped
	p := st.P
	v.Staff = p.In.Staff
	v.Weeks = p.weekOf(p.In.Days-1) + 1
	v.Week, _ = strconv.Atoi(q.Get("week"))
	v.Week = min(max(v.Week, 0), v.Weeks-1)
	v.WeekNo = v.Week + 1
	v.Prev, v.Next = v.Week-1, v.Week+1
	if v.Next >= v.Weeks {
		v.Next = -1
	}
	changed := map[string]bool{}
	if v.Changes, err = pl.Changes(ctx, ro.ID); err != nil {
		return nil, err
	}
	for _, c := range v.Changes {
		changed[fmt.Sprintf("%d/%s", c.StaffID, c.Day)] = true
	}
	first := p.In.Date(0)
	monday := first.AddDate(0, 0, 1-isoWeekday(first)+7*v.Week)
	lang := web.RequestLang(r, web.StaffLangs)
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
	for e, mb := range p.In.Staff {
		row := gridRow{StaffID: mb.ID, Code: mb.Code, Name: mb.Name}
		for _, d := range days {
			var c gridCell
			if d >= 0 && d < p.In.Days {
				if s := st.Cells[e][d]; s != roster.Off {
					t := p.In.Templates[p.ShiftTemplate[s]]
					c.Shift, c.Times, c.Group = t.Code, hhmm(t.Start)+"–"+hhmm(t.End), p.In.Groups[p.ShiftGroup[s]]
					c.Partial = p.Blocked[e][d][p.ShiftTemplate[s]]
				}
				c.Absent = st.absentAllDay(e, d)
				c.Changed = changed[fmt.Sprintf("%d/%s", mb.ID, p.In.Date(d).Format(time.DateOnly))]
			}
			row.Cells = append(row.Cells, c)
		}
		v.Rows = append(v.Rows, row)
	}
	names := map[int64]string{}
	for _, mb := range p.In.Staff {
		names[mb.ID] = mb.Name
	}
	for _, a := range p.In.Absences {
		v.Absences = append(v.Absences, absenceRow{ID: a.ID, Staff: names[a.StaffID], Kind: a.Kind,
			From: a.Start.In(p.In.Loc).Format("02/01 15:04"), To: a.End.In(p.In.Loc).Format("02/01 15:04")})
	}
	if id, err := strconv.ParseInt(q.Get("absence"), 10, 64); err == nil {
		v.AbsenceID = id
		if v.Holes, err = pl.Proposals(ctx, ro, id); err != nil {
			return nil, err
		}
	}
	return v, nil
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

func (pl *Planner) pagePublish(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.pageRosterOf(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	back := fmt.Sprintf("/manage/rosters/%d", ro.ID)
	if _, err := pl.Publish(r.Context(), ro.ID); err != nil {
		redirectError(w, r, back, err)
		return
	}
	http.Redirect(w, r, back+"?done=published", http.StatusSeeOther)
}

func (pl *Planner) pageAbsence(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.pageRosterOf(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	back := fmt.Sprintf("/manage/rosters/%d?week=%s", ro.ID, url.QueryEscape(r.PostFormValue("week")))
	staffID, _ := strconv.ParseInt(r.PostFormValue("staff_id"), 10, 64)
	req := scheduling.AbsenceInput{StaffID: staffID, Kind: r.PostFormValue("kind"), StartsAt: r.PostFormValue("starts_at"),
		EndsAt: r.PostFormValue("ends_at"), Note: r.PostFormValue("note")}
	a, _, err := pl.recordAbsence(r.Context(), ro, req, r)
	if err != nil {
		redirectError(w, r, back, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s&absence=%d#proposals", back, a.ID), http.StatusSeeOther)
}

func (pl *Planner) pageApply(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.pageRosterOf(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	back := absenceBack(r, ro)
	var req repairRequest
	req.AbsenceID, _ = strconv.ParseInt(r.PostFormValue("absence_id"), 10, 64)
	req.StaffID, _ = strconv.ParseInt(r.PostFormValue("staff_id"), 10, 64)
	req.TemplateID, _ = strconv.ParseInt(r.PostFormValue("template_id"), 10, 64)
	req.Day = r.PostFormValue("day")
	if _, err := pl.repair(r.Context(), ro, req, userID(r)); err != nil {
		redirectError(w, r, back, err)
		return
	}
	http.Redirect(w, r, back+"&done=applied#proposals", http.StatusSeeOther)
}

// absenceBack is the roster page a form about an absence returns to: the
// same week, with that absence's proposals open.
func absenceBack(r *http.Request, ro *Roster) string {
	return fmt.Sprintf("/manage/rosters/%d?week=%s&absence=%s", ro.ID, url.QueryEscape(r.PostFormValue("week")),
		url.QueryEscape(r.PostFormValue("absence_id")))
}

func (pl *Planner) pageRepair(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.pageRosterOf(r)
	if err != nil {
		pageError(w, r, err)
		return
	}
	back := absenceBack(r, ro)
	req := repairRequest{Mode: "minimal"}
	req.AbsenceID, _ = strconv.ParseInt(r.PostFormValue("absence_id"), 10, 64)
	if _, err := pl.repair(r.Context(), ro, req, userID(r)); err != nil {
		redirectError(w, r, back, err)
		return
	}
	http.Redirect(w, r, back+"&done=repaired#proposals", http.StatusSeeOther)
}

type shiftsView struct {
	Shifts  []Shift
	Changes []Change
	FeedURL string
	NoStaff bool
}

func (pl *Planner) pageShifts(w http.ResponseWriter, r *http.Request) {
	pl.renderShifts(w, r, "")
}

func (pl *Planner) renderShifts(w http.ResponseWriter, r *http.Request, feed string) {
	u := auth.FromContext(r.Context()).User
	v := shiftsView{FeedURL: feed, NoStaff: u.StaffID == 0}
	if u.StaffID != 0 {
		var err error
		if v.Shifts, v.Changes, err = pl.myShifts(r.Context(), u.StaffID); err != nil {
			pageError(w, r, err)
			return
		}
	}
	shiftsPage.Render(w, r, &web.View{Title: "Turni", User: userName(u), Data: v})
}

func (pl *Planner) pageFeed(w http.ResponseWriter, r *http.Request) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		pl.renderShifts(w, r, "")
		return
	}
	path, err := pl.IssueFeedToken(r.Context(), u.StaffID)
	if err != nil {
		pageError(w, r, err)
		return
	}
	pl.renderShifts(w, r, feedURL(r, path))
}
