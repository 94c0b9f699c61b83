package ticketing

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

var (
	cataloguePage = web.ManagePage(templates, "templates/catalogue.html")
	staffPage     = web.ManagePage(templates, "templates/staff.html")
	hoursPage     = web.ManagePage(templates, "templates/hours.html")
)

// PlanSummary is a staff member's planning at a glance, as the skills matrix shows it.
type PlanSummary struct {
	Text    string // e.g. "36 h · 5 days · M,S"
	Missing bool   // nothing to plan with (no contract): shown as a warning
}

// Manage serves the office-setup pages of /manage: the catalogue, staff and skills, and opening hours
// with the office's settings. Their forms send JSON to the setup API.
type Manage struct {
	Store *Store
	// Plans gives each staff member's planning summary for the skills matrix (scheduling's); nil leaves
	// the column empty.
	Plans func(ctx context.Context, officeID int64, lang string) (map[int64]PlanSummary, error)
}

// Routes mounts the pages.
func (m *Manage) Routes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage/catalogue", m.Store.ManageHandler(cataloguePage, "catalogue", m.catalogue))
		r.Get("/manage/staff", m.Store.ManageHandler(staffPage, "staff", m.staff))
		r.Get("/manage/hours", m.Store.ManageHandler(hoursPage, "hours", m.hours))
	})
}

// catalogueData lists services, desks, priority categories and the agencies services belong to.
type catalogueData struct {
	Services   []*Service
	Desks      []*Desk
	Priorities []*PriorityCategory
	Agencies   []*Agency
}

func (m *Manage) catalogue(r *http.Request, o *Office) (any, error) {
	ctx := r.Context()
	d := &catalogueData{}
	var err error
	if d.Services, err = m.Store.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Desks, err = m.Store.Desks(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Priorities, err = m.Store.PriorityCategories(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Agencies, err = m.Store.Agencies(ctx, o.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// staffData is the skills matrix: staff by name, services grouped by skill group.
type staffData struct {
	Rows     []*Staff
	Plans    map[int64]PlanSummary
	Services []*Service
	Levels   []SkillLevel
}

func (m *Manage) staff(r *http.Request, o *Office) (any, error) {
	ctx := r.Context()
	d := &staffData{Levels: SkillLevels}
	var err error
	if d.Rows, err = m.Store.StaffList(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Services, err = m.Store.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	// Columns grouped by skill group, the way the roster plans.
	sort.SliceStable(d.Services, func(i, j int) bool { return d.Services[i].Category < d.Services[j].Category })
	if m.Plans != nil {
		if d.Plans, err = m.Plans(ctx, o.ID, web.RequestLang(r, web.StaffLangs)); err != nil {
			return nil, err
		}
	}
	return d, nil
}

type hoursData struct {
	Weekly     []weekdayHours
	Exceptions []Exception
	Holidays   []OfficeHoliday
	Today      string
}

type weekdayHours struct {
	Weekday int
	Text    string // as the inputs read it: "08:30-13:00, 14:30-18:00"
}

func (m *Manage) hours(r *http.Request, o *Office) (any, error) {
	ctx := r.Context()
	cal, err := m.Store.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	d := &hoursData{}
	for wd := 1; wd <= 7; wd++ {
		d.Weekly = append(d.Weekly, weekdayHours{wd, IntervalsText(cal.Weekly[wd])})
	}
	today := o.LocalDay(m.Store.Now())
	d.Today = today.Format(time.DateOnly)
	if d.Exceptions, err = m.Store.Exceptions(ctx, o.ID, today.AddDate(0, 0, -30), today.AddDate(1, 0, 0)); err != nil {
		return nil, err
	}
	d.Holidays = append(o.Holidays(today.Year()), o.Holidays(today.Year()+1)...)
	return d, nil
}

// IntervalsText writes intervals as the opening-hours inputs read them: "08:30-13:00, 14:30-18:00".
func IntervalsText(ivs []Interval) string {
	parts := make([]string, len(ivs))
	for i, iv := range ivs {
		parts[i] = iv.Opens.String() + "-" + iv.Closes.String()
	}
	return strings.Join(parts, ", ")
}
