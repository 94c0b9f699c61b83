package insight

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// statsTemplates are the reports page and its charts.
//
//go:embed templates/stats*.html
var statsTemplates embed.FS

// statsStatic are the reports page's styles (including the print layout) and script, served under
// /manage/stats/static/.
//
//go:embed static/stats.css static/stats.js
var statsStatic embed.FS

var statsPage = web.ManagePage(statsTemplates, "templates/stats.html", "templates/stats_charts.html")

// reportPages mounts the reports page /manage/stats and its assets.
func (h *Handler) reportPages(r chi.Router) {
	sub, err := fs.Sub(statsStatic, "static")
	if err != nil {
		panic(err)
	}
	r.Get("/manage/stats/static/*", http.StripPrefix("/manage/stats/static/", http.FileServer(http.FS(sub))).ServeHTTP)
	r.With(auth.RequirePage).Get("/manage/stats", h.Tickets.ManageHandler(statsPage, "stats", h.statsPage))
}

// The period presets of the reports page, and "custom" for the dates the manager types.
const (
	presetMonth     = "month"
	presetLastMonth = "last_month"
	presetWeeks     = "weeks12"
	presetYear      = "year"
	presetCustom    = "custom"
)

var presets = []string{presetMonth, presetLastMonth, presetWeeks, presetYear, presetCustom}

// defaultGoal is the share of citizens called within the wait target that the bars are drawn against
// when the planning does not give the office's own (ServiceLevelGoal): the planning's default service
// level (80/20), scheduling/demand.DefaultSettings.
const defaultGoal = 0.8

// ServiceLevelGoal is what a Handler.Planning also implements when it knows the office's service-level
// goal: the share of citizens to call within the wait target (0.8 for 80 %), scheduling's planning
// setting. The share-within-target chart draws its line there, and at defaultGoal without it.
type ServiceLevelGoal interface {
	ServiceLevel(ctx context.Context, officeID int64) (float64, error)
}

// goal returns the office's service-level goal.
func (h *Handler) goal(ctx context.Context, o *ticketing.Office) (float64, error) {
	g, ok := h.Planning.(ServiceLevelGoal)
	if !ok {
		return defaultGoal, nil
	}
	return g.ServiceLevel(ctx, o.ID)
}

// statsFilter is what the reports page shows: a period and optionally one service or agency.
type statsFilter struct {
	Preset   string
	From, To time.Time
	Service  string
	Agency   string
}

// periodOf computes a preset's dates on the office's today (local date at UTC midnight): this month so
// far, last month, the last twelve whole ISO weeks, this year so far.
func periodOf(preset string, today time.Time) (from, to time.Time) {
	first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	switch preset {
	case presetMonth:
		return first, today
	case presetLastMonth:
		return first.AddDate(0, -1, 0), first.AddDate(0, 0, -1)
	case presetYear:
		return time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC), today
	}
	monday := mondayOf(today)
	return monday.AddDate(0, 0, -7*12), monday.AddDate(0, 0, -1)
}

// parseFilter reads the page's GET form. Without a period the page shows the last twelve weeks; custom
// dates are checked as the statistics API checks them. On a bad value it returns the filter as far as it
// could read it, so the form keeps what the manager typed, and the error naming the field.
func parseFilter(q url.Values, today time.Time) (statsFilter, error) {
	f := statsFilter{Preset: q.Get("period"), Service: q.Get("service"), Agency: q.Get("agency")}
	if f.Preset == "" {
		f.Preset = presetWeeks
		if q.Get("from") != "" || q.Get("to") != "" {
			f.Preset = presetCustom
		}
	}
	f.From, f.To = periodOf(presetWeeks, today)
	switch f.Preset {
	case presetMonth, presetLastMonth, presetWeeks, presetYear:
		f.From, f.To = periodOf(f.Preset, today)
		return f, nil
	case presetCustom:
	default:
		f.Preset = presetWeeks
		return f, web.InvalidField("period", "period must be month, last_month, weeks12, year or custom")
	}
	var err error
	for _, d := range []struct {
		field string
		into  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		s := q.Get(d.field)
		if s == "" {
			return f, web.InvalidField(d.field, "%s is required (YYYY-MM-DD)", web.Term(d.field))
		}
		if *d.into, err = ticketing.ParseDate(d.field, s); err != nil {
			return f, err
		}
	}
	// The statistics API's rules, with its words.
	if f.To.Before(f.From) {
		return f, web.InvalidField("to", "to must not be before from")
	}
	if days := int(f.To.Sub(f.From).Hours()/24) + 1; days > MaxStatsDays {
		return f, web.InvalidField("to", "the period has %d days; statistics cover at most %d days", days, MaxStatsDays)
	}
	return f, nil
}

// option is a choice of a filter's select.
type option struct {
	Value, Label string
	Selected     bool
}

// tile is a KPI of the period in large type.
type tile struct {
	Key   string // the KPI's field in the statistics API
	Label string
	Text  string
	Note  string
	Value string // the raw figure, for tests and scripts
}

// csvLink is a download of the period's figures grouped one way.
type csvLink struct {
	Label, Href string
}

// statsData is the reports page.
type statsData struct {
	Filter      statsFilter
	FromISO     string // the filter's dates for the date inputs
	ToISO       string
	Period      string // the period in words
	Presets     []option
	Services    []option
	Agencies    []option
	FilterErr   string // a bad filter, in the page's language
	FilterField string // the form field at fault
	Error       string // the figures could not be computed, in the page's language
	CSV         []csvLink
	Tiles       []tile
	Heatmap     *heatmap
	Waits       *histogram
	Targets     *hbars
	Trend       *trend
	Forecast    *forecastChart
}

// statsPage fills the reports page: the filter form, the KPI tiles and the charts of the period.
func (h *Handler) statsPage(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	lang := web.RequestLang(r, web.StaffLangs)
	today := o.LocalDay(h.Tickets.Now())
	f, ferr := parseFilter(r.URL.Query(), today)
	d := &statsData{Filter: f, FromISO: f.From.Format(time.DateOnly), ToISO: f.To.Format(time.DateOnly)}
	d.Period = web.FormatDayYear(lang, f.From) + " – " + web.FormatDayYear(lang, f.To)
	for _, p := range presets {
		d.Presets = append(d.Presets, option{Value: p, Label: web.Translate(lang, "stats.period."+p), Selected: p == f.Preset})
	}
	services, err := h.Tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	agencies, err := h.Tickets.Agencies(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	names, targets := map[string]string{}, map[string]int{}
	known := false
	for _, s := range services {
		names[s.Code], targets[s.Code] = s.Name(lang), s.WaitTargetSeconds
		d.Services = append(d.Services, option{Value: s.Code, Label: s.Name(lang), Selected: s.Code == f.Service})
		known = known || s.Code == f.Service
	}
	if f.Service != "" && !known && ferr == nil {
		ferr = web.InvalidField("service", "no service %q in this office", f.Service)
	}
	known = false
	for _, a := range agencies {
		d.Agencies = append(d.Agencies, option{Value: a.Code, Label: a.Name, Selected: a.Code == f.Agency})
		known = known || a.Code == f.Agency
	}
	if f.Agency != "" && !known && ferr == nil {
		ferr = web.InvalidField("agency", "no agency %q in this office", f.Agency)
	}
	if ferr != nil {
		d.FilterErr = message(ctx, lang, ferr)
		var e *web.Error
		if errors.As(ferr, &e) {
			d.FilterField = e.Field
		}
		return d, nil
	}
	d.CSV = csvLinks(lang, o, f)
	q := Query{Office: o, From: f.From, To: f.To, Service: f.Service, Agency: f.Agency}
	if err := h.fillCharts(ctx, lang, q, d, names, targets); err != nil {
		d.Error = message(ctx, lang, err)
	}
	return d, nil
}

// fillCharts computes the tiles and the charts of the period.
func (h *Handler) fillCharts(ctx context.Context, lang string, q Query, d *statsData, names map[string]string, targets map[string]int) error {
	q.Group = ByService
	byService, err := h.Store.Stats(ctx, q)
	if err != nil {
		return err
	}
	q.Group = ByWeekdayHour
	byHour, err := h.Store.Stats(ctx, q)
	if err != nil {
		return err
	}
	waits, err := h.Store.WaitHistogram(ctx, q)
	if err != nil {
		return err
	}
	weeks, err := h.Store.WeeklyTrend(ctx, q)
	if err != nil {
		return err
	}
	goal, err := h.goal(ctx, q.Office)
	if err != nil {
		return err
	}
	d.Tiles = tiles(lang, &byService.Totals)
	if err := h.addAppointments(ctx, q, byService); err != nil {
		return err
	}
	if a := byService.Totals.Appointments; a != nil && a.Booked+a.Cancelled > 0 {
		d.Tiles = append(d.Tiles, appointmentTiles(lang, a)...) // only where the period had appointments
	}
	d.Heatmap = newHeatmap(lang, byHour.Rows)
	d.Waits = newHistogram(lang, waits)
	d.Targets = newTargetBars(lang, byService.Rows, names, targets, goal)
	d.Trend = newTrend(lang, weeks)
	// The planning loop is a part of its own (staff planning's forecast): when it fails, its chart says
	// so and the others stay.
	if d.Forecast, err = h.forecastVsActual(ctx, lang, q); err != nil {
		d.Forecast = &forecastChart{chart: chart{Empty: true, Summary: message(ctx, lang, err)}}
	}
	return nil
}

// message is an error in the page's language: a *web.Error's own message, anything else logged and
// replaced by a sentence that the figures are not available.
func message(ctx context.Context, lang string, err error) string {
	var e *web.Error
	if errors.As(err, &e) {
		return e.In(lang)
	}
	slog.ErrorContext(ctx, "reports page: figures failed", "err", err)
	return web.Translate(lang, "stats.unavailable")
}

// tiles are the period's headline KPIs from the statistics API's totals.
func tiles(lang string, t *Row) []tile {
	dash := "—"
	opt := func(v *float64, f func(string, float64) string) (string, string) {
		if v == nil {
			return dash, ""
		}
		return f(lang, *v), strconv.FormatFloat(*v, 'f', -1, 64)
	}
	out := []tile{
		{Key: "arrivals", Text: formatCount(lang, t.Arrivals), Value: strconv.Itoa(t.Arrivals)},
		{Key: "served", Text: formatCount(lang, t.Served), Value: strconv.Itoa(t.Served)},
	}
	noShow := tile{Key: "no_show", Text: dash, Note: trN(lang, "stats.visits_n", t.NoShow)}
	if t.Arrivals > 0 {
		pct := 100 * float64(t.NoShow) / float64(t.Arrivals)
		noShow.Text, noShow.Value = formatPct(lang, pct), strconv.FormatFloat(math.Round(pct*10)/10, 'f', -1, 64)
	}
	out = append(out, noShow)
	p50 := tile{Key: "wait_p50_seconds"}
	p50.Text, p50.Value = opt(t.WaitP50Seconds, formatWait)
	p90 := tile{Key: "wait_p90_seconds"}
	p90.Text, p90.Value = opt(t.WaitP90Seconds, formatWait)
	within := tile{Key: "within_target_pct"}
	within.Text, within.Value = opt(t.WithinTargetPct, formatPct)
	fb := tile{Key: "feedback_mean", Note: trN(lang, "stats.ratings_n", t.FeedbackCount)}
	fb.Text, fb.Value = opt(t.FeedbackMean, func(lang string, v float64) string { return formatNumber(lang, v, 1) + " / 5" })
	out = append(out, p50, p90, within, fb)
	for i := range out {
		out[i].Label = web.Translate(lang, "stats.kpi."+out[i].Key)
	}
	return out
}

// csvLinks are the statistics API's CSV downloads of the page's period and filters, by day, by service
// and by weekday and hour.
func csvLinks(lang string, o *ticketing.Office, f statsFilter) []csvLink {
	var out []csvLink
	for _, g := range []Group{ByDay, ByService, ByWeekdayHour} {
		q := url.Values{}
		q.Set("from", f.From.Format(time.DateOnly))
		q.Set("to", f.To.Format(time.DateOnly))
		q.Set("group", string(g))
		if f.Service != "" {
			q.Set("service", f.Service)
		}
		if f.Agency != "" {
			q.Set("agency", f.Agency)
		}
		out = append(out, csvLink{Label: web.Translate(lang, "stats.csv."+string(g)),
			Href: "/api/v1/offices/" + url.PathEscape(o.Slug) + "/stats.csv?" + q.Encode()})
	}
	return out
}
