package booking

import (
	"embed"
	"io/fs"
	"net/http"
	"slices"
	"strconv"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The managers' page of appointments, /manage/appointments: each service's booking rules and what to
// bring, the blackout days and the office's booking settings. Its forms send JSON to the API of rules.go
// (and what to bring to ticketing's catalogue API, which owns it); rules.js sends the rules' time bands.

//go:embed templates/rules*.html
var ruleTemplates embed.FS

//go:embed static/rules.js
var ruleStatic embed.FS

var rulesPage = web.ManagePage(ruleTemplates, "templates/rules.html")

// reminderChoices are the reminders the settings form offers, in hours before the appointment.
var reminderChoices = []int{1, 2, 3, 6, 12, 24, 48, 72, 168}

// rulePageRoutes mounts /manage/appointments and its script.
func (h *Handler) rulePageRoutes(r chi.Router) {
	sub, _ := fs.Sub(ruleStatic, "static")
	r.Get("/manage/appointments/static/*", http.StripPrefix("/manage/appointments/static/", http.FileServer(http.FS(sub))).ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(auth.RequirePage)
		r.Get("/manage/appointments", h.Tickets.ManageHandler(rulesPage, "appointments", h.rulesView))
	})
}

// rulesView is the data of the appointments page.
type rulesView struct {
	Services  []ruleRow
	Blackouts []Blackout
	Settings  Settings
	Reminders []reminderChoice
	Today     string
	// Cancelled is set after adding a blackout: how many bookings it cancelled ("" when none was added).
	Cancelled string
	Weekdays  []int
}

// ruleRow is a service with its rules, as the page edits them.
type ruleRow struct {
	Service *ticketing.Service
	Rules   Rules
	// SharePct and the bands' are the shares in percent, as the form shows them.
	SharePct int
	Bands    []bandRow
	// DefaultSlot is the slot length the service gets when its rules leave it to the handling time.
	DefaultSlot int
}

type bandRow struct {
	Band
	SharePct int
}

type reminderChoice struct {
	Hours   int
	Checked bool
}

func pct(share float64) int { return int(share*100 + 0.5) }

func (h *Handler) rulesView(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	services, err := h.Tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	stored, err := h.Store.OfficeRules(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	today := o.LocalDay(h.Store.Now())
	v := &rulesView{Today: today.Format("2006-01-02"), Cancelled: r.URL.Query().Get("cancelled"), Weekdays: []int{1, 2, 3, 4, 5, 6, 7}}
	if _, err := strconv.Atoi(v.Cancelled); err != nil {
		v.Cancelled = ""
	}
	for _, sv := range services {
		rules, ok := stored[sv.ID]
		if !ok {
			rules = DefaultRules(sv.ID, sv.Code)
		}
		row := ruleRow{Service: sv, Rules: rules, SharePct: pct(rules.DefaultShare),
			DefaultSlot: int(Rules{}.SlotLength(sv.ExpectedHandlingSeconds).Minutes())}
		for _, b := range rules.Bands {
			row.Bands = append(row.Bands, bandRow{Band: b, SharePct: pct(b.Share)})
		}
		v.Services = append(v.Services, row)
	}
	if v.Blackouts, err = h.Store.Blackouts(ctx, o.ID, today); err != nil {
		return nil, err
	}
	if v.Settings, err = h.Store.SettingsOf(ctx, o.ID); err != nil {
		return nil, err
	}
	hours := slices.Clone(reminderChoices)
	for _, hr := range v.Settings.ReminderHours {
		if !slices.Contains(hours, hr) {
			hours = append(hours, hr)
		}
	}
	slices.Sort(hours)
	for _, hr := range hours {
		v.Reminders = append(v.Reminders, reminderChoice{Hours: hr, Checked: slices.Contains(v.Settings.ReminderHours, hr)})
	}
	return v, nil
}
