package ticketing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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
	devicesPage   = web.ManagePage(templates, "templates/devices.html")
	usersPage     = web.ManagePage(templates, "templates/users.html")
	settingsPage  = web.ManagePage(templates, "templates/settings.html")
)

// PlanSummary is a staff member's planning at a glance, as the skills matrix shows it.
type PlanSummary struct {
	Text    string // e.g. "36 h · 5 days · M,S"
	Missing bool   // nothing to plan with (no contract): shown as a warning
}

// Manage serves the office-setup pages of /manage: the catalogue, staff and skills, opening hours, the
// office's devices (kiosks and hall screens), its staff logins and its settings. Their forms send JSON to
// the setup API (and a screen's settings to the displays part's PATCH /devices/{device}).
type Manage struct {
	Store *Store
	// Auth keeps the office's devices and users, which the devices and users pages list.
	Auth *auth.Store
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
		r.Get("/manage/devices", m.Store.ManageHandler(devicesPage, "devices", m.devices))
		r.Get("/manage/users", m.Store.ManageHandler(usersPage, "users", m.users))
		r.Get("/manage/settings", m.Store.ManageHandler(settingsPage, "settings", m.settings))
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

// screenLayouts are the hall screen's layouts (the displays part validates them; the first is the default).
var screenLayouts = []string{"calls_queue", "calls", "queue"}

// screenSettings mirror a hall screen's stored settings (the displays part owns their meaning and checks
// them when the page saves them) for the devices page's forms.
type screenSettings struct {
	Audiences []string `json:"audiences"`
	Services  []string `json:"services"`
	Desks     []int    `json:"desks"`
	Title     string   `json:"title"`
	Calls     int      `json:"calls"`
	Voice     *bool    `json:"voice"`
	Chime     *bool    `json:"chime"`
	Lang      string   `json:"lang"`
	Layout    string   `json:"layout"`
}

// Has reports whether list holds v (the forms' checkboxes).
func (s *screenSettings) Has(list any, v any) bool {
	switch l := list.(type) {
	case []string:
		return slices.Contains(l, fmt.Sprint(v))
	case []int:
		n, ok := v.(int)
		return ok && slices.Contains(l, n)
	}
	return false
}

// On reports whether a switch that defaults to on (voice, chime) is on.
func (s *screenSettings) On(b *bool) bool { return b == nil || *b }

// screen is a hall screen with its settings as the form shows them.
type screen struct {
	*auth.Device
	Set screenSettings
}

// tablet is a feedback tablet with the number of the desk it asks the citizens of (0: none yet).
type tablet struct {
	*auth.Device
	Desk int
}

// devicesData lists the office's kiosks, screens and feedback tablets, and what a screen's filters and a
// tablet's desk choose from.
type devicesData struct {
	Kiosks    []*auth.Device
	Screens   []screen
	Tablets   []tablet
	Services  []*Service
	Desks     []*Desk
	Langs     []web.Language
	Layouts   []string
	Audiences []string
	// OfficeLang names the office's default language, which a screen without its own speaks.
	OfficeLang string
}

func (m *Manage) devices(r *http.Request, o *Office) (any, error) {
	ctx := r.Context()
	list, err := m.Auth.Devices(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	d := &devicesData{Langs: web.CitizenLangs, Layouts: screenLayouts, Audiences: []string{Citizen, Business}, OfficeLang: o.Lang}
	for _, dev := range list {
		switch dev.Kind {
		case auth.Kiosk:
			d.Kiosks = append(d.Kiosks, dev)
		case auth.Display:
			sc := screen{Device: dev}
			if b, err := json.Marshal(dev.Settings); err == nil {
				_ = json.Unmarshal(b, &sc.Set) // unknown or odd values show as unset
			}
			d.Screens = append(d.Screens, sc)
		case auth.Feedback:
			tb := tablet{Device: dev}
			if n, ok := dev.Settings["desk"].(float64); ok {
				tb.Desk = int(n)
			}
			d.Tablets = append(d.Tablets, tb)
		}
	}
	if d.Services, err = m.Store.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Desks, err = m.Store.Desks(ctx, o.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// usersData lists the office's staff logins and the staff members a new login may be.
type usersData struct {
	Users []*auth.OfficeUser
	Staff []*Staff
	Me    int64 // the signed-in user, who cannot disable themselves
	Admin bool  // the signed-in user is an administrator (may create and change administrators)
	// MinPassword is the shortest password the rules accept.
	MinPassword int
	lang        string
	loc         *time.Location
}

// When prints an instant in the page's language and the office's time zone, or "—".
func (d *usersData) When(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return web.FormatDateTime(d.lang, t.In(d.loc))
}

// Locked reports whether a user is locked out now.
func (d *usersData) Locked(u *auth.OfficeUser) bool { return u.LockedUntil != nil }

// StaffName returns the full name of staff member id, or "".
func (d *usersData) StaffName(id *int64) string {
	if id == nil {
		return ""
	}
	for _, st := range d.Staff {
		if st.ID == *id {
			return st.FullName
		}
	}
	return ""
}

func (m *Manage) users(r *http.Request, o *Office) (any, error) {
	ctx := r.Context()
	d := &usersData{MinPassword: auth.MinPasswordLength, lang: web.RequestLang(r, web.StaffLangs), loc: o.Location()}
	if me := auth.FromContext(ctx).User; me != nil {
		d.Me, d.Admin = me.ID, me.Role == auth.Admin
	}
	var err error
	if d.Users, err = m.Auth.OfficeUsers(ctx, o.ID); err != nil {
		return nil, err
	}
	if d.Staff, err = m.Store.StaffList(ctx, o.ID); err != nil {
		return nil, err
	}
	return d, nil
}

// settingsData is the office's settings form: the office itself (in the shell's view) and its choices.
type settingsData struct {
	Langs     []web.Language
	TimeZones []string
}

func (m *Manage) settings(r *http.Request, o *Office) (any, error) {
	zones := []string{"Europe/Rome", "Europe/Vatican", "Europe/San_Marino", "Europe/Zurich", "Europe/Paris",
		"Europe/Berlin", "Europe/Madrid", "Europe/London", "Europe/Bucharest", "Europe/Tirane", "Europe/Kyiv", "UTC"}
	if !slices.Contains(zones, o.TimeZone) {
		zones = append([]string{o.TimeZone}, zones...)
	}
	return &settingsData{Langs: web.CitizenLangs, TimeZones: zones}, nil
}
