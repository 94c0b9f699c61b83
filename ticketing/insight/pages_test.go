package insight_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// fakePlanning is staff planning as the reports page sees it: a forecast of three arrivals at 09:00 and
// two at 09:30 of every weekday, no roster, and a service-level goal of 90 %.
type fakePlanning struct{}

func (fakePlanning) LoopForecast(ctx context.Context, o *ticketing.Office, from, to time.Time) (*insight.LoopForecast, error) {
	fc := &insight.LoopForecast{Available: true, SlotMinutes: 30}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if ticketing.ISOWeekday(d) <= 5 {
			fc.Slots = append(fc.Slots,
				insight.ForecastSlot{Day: d, Slot: 9 * 60, Arrivals: 3, Needed: 1, NeededAtDesks: 1},
				insight.ForecastSlot{Day: d, Slot: 9*60 + 30, Arrivals: 2, Needed: 1, NeededAtDesks: 1})
		}
	}
	return fc, nil
}

func (fakePlanning) LoopPlanned(ctx context.Context, o *ticketing.Office, from, to time.Time, slotMinutes int) ([]insight.PlannedCover, error) {
	return nil, nil
}

func (fakePlanning) ServiceLevel(ctx context.Context, officeID int64) (float64, error) {
	return 0.9, nil
}

// pageServer serves the insight routes, with planning when it is not nil, and returns the server's root.
func pageServer(t *testing.T, env *ticketingtest.Env, st *insight.Store, planning insight.Planning) string {
	t.Helper()
	h := &insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth, Planning: planning}
	return env.Server(t, func(r chi.Router) { h.Routes(r) }).URL
}

// getPage fetches a page and returns its status and HTML.
func getPage(t *testing.T, url, token string) (int, string) {
	t.Helper()
	res := ticketingtest.Do(t, "GET", url, token, "")
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var (
	figureRe = regexp.MustCompile(`data-key="([^"]*)" data-value="([^"]*)"`)
	titleRe  = regexp.MustCompile(`data-key="([^"]*)" data-value="[^"]*"><title>([^<]*)</title>`)
)

// chartOf returns the markup of one chart of the page: the <svg> with class name.
func chartOf(t *testing.T, page, name string) string {
	t.Helper()
	start := strings.Index(page, `<svg class="chart `+name+`"`)
	if start < 0 {
		t.Fatalf("no %s chart on the page", name)
	}
	end := strings.Index(page[start:], "</svg>")
	return page[start : start+end]
}

// figures returns the data-key → data-value pairs of a chart's markup, in order, and fails on a key seen
// twice.
func figures(t *testing.T, svg string) (map[string]string, []string) {
	t.Helper()
	out, keys := map[string]string{}, []string{}
	for _, m := range figureRe.FindAllStringSubmatch(svg, -1) {
		if _, dup := out[m[1]]; dup {
			t.Errorf("key %s twice", m[1])
		}
		out[m[1]] = m[2]
		keys = append(keys, m[1])
	}
	return out, keys
}

func sameFloat(t *testing.T, what, got string, want float64) {
	t.Helper()
	v, err := strconv.ParseFloat(got, 64)
	if err != nil || math.Abs(v-want) > 1e-9 {
		t.Errorf("%s: chart %q, want %v", what, got, want)
	}
}

// The reports page over the demo's history and the hand-made day: the heatmap's cells carry the
// statistics API's weekday_hour arrivals (and say them in their titles), the bars the API's
// within_target_pct per service against the planning's goal, the tiles the API's totals; the wait
// histogram and the weekly trend equal counts and percentiles computed in SQL straight from the
// tickets, and the forecast chart the planning loop's weeks.
func TestStatsPageChartsCarryTheAPIFigures(t *testing.T) {
	t.Parallel()
	env, st, _ := historyEnv(t)
	root := pageServer(t, env, st, fakePlanning{})
	token := env.Login(t, "manager")
	const from, to = "2026-09-28", "2026-11-23"
	api := func(group string) insight.Stats {
		return getStats(t, root+"/api/v1/offices/demo/stats?from="+from+"&to="+to+"&group="+group, token)
	}
	status, page := getPage(t, root+"/manage/stats?period=custom&from="+from+"&to="+to, token)
	if status != http.StatusOK {
		t.Fatalf("page: %d\n%s", status, page)
	}
	if strings.Contains(page, `id="stats-error"`) || strings.Contains(page, `id="filter-error"`) {
		t.Fatalf("the page shows an error:\n%s", page)
	}

	// Heatmap: every weekday_hour row of the API is a cell with its arrivals; the other cells are 0.
	heat := chartOf(t, page, "heat")
	cells, _ := figures(t, heat)
	byHour := api("weekday_hour")
	if len(byHour.Rows) == 0 {
		t.Fatal("no weekday_hour rows")
	}
	apiCells := map[string]int{}
	for _, r := range byHour.Rows {
		apiCells[r.Key] = r.Arrivals
		if got, ok := cells[r.Key]; !ok || got != fmt.Sprint(r.Arrivals) {
			t.Errorf("heatmap cell %s = %q, API arrivals %d", r.Key, got, r.Arrivals)
		}
	}
	for k, v := range cells {
		if _, ok := apiCells[k]; !ok && v != "0" {
			t.Errorf("heatmap cell %s = %s, not in the API", k, v)
		}
	}
	for _, m := range titleRe.FindAllStringSubmatch(heat, -1) {
		n := apiCells[m[1]]
		if want := fmt.Sprintf(": %d arriv", n); n < 1000 && !strings.Contains(html.UnescapeString(m[2]), want) {
			t.Errorf("heatmap cell %s title %q does not say %d arrivals", m[1], m[2], n)
		}
	}

	// Share within target: a bar per service with a share, its value the API's; under the 90 % goal the
	// bar is marked below, and the goal is drawn at 90 %.
	targets := chartOf(t, page, "targets")
	bars, _ := figures(t, targets)
	byService := api("service")
	withShare := 0
	for _, r := range byService.Rows {
		if r.WithinTargetPct == nil {
			continue
		}
		withShare++
		got, ok := bars[r.Key]
		if !ok {
			t.Errorf("no bar for service %s", r.Key)
			continue
		}
		sameFloat(t, "bar "+r.Key, got, *r.WithinTargetPct)
		marked := regexp.MustCompile(`class="bar below"[^>]*data-key="` + regexp.QuoteMeta(r.Key) + `"`).MatchString(targets)
		if marked != (*r.WithinTargetPct < 90) {
			t.Errorf("service %s at %v %%: marked below the goal = %v", r.Key, *r.WithinTargetPct, marked)
		}
	}
	if len(bars) != withShare || withShare == 0 {
		t.Errorf("%d bars for %d services with a share", len(bars), withShare)
	}
	if !strings.Contains(targets, "Obiettivo 90,0 %") {
		t.Error("the goal line does not say 90 %")
	}

	// Tiles: the API's totals.
	totals := byService.Totals
	for kpi, want := range map[string]float64{"arrivals": float64(totals.Arrivals), "served": float64(totals.Served),
		"within_target_pct": *totals.WithinTargetPct, "wait_p90_seconds": *totals.WaitP90Seconds,
		"no_show": math.Round(1000*float64(totals.NoShow)/float64(totals.Arrivals)) / 10} {
		m := regexp.MustCompile(`data-kpi="` + kpi + `" data-value="([^"]*)"`).FindStringSubmatch(page)
		if m == nil {
			t.Errorf("no tile %s", kpi)
			continue
		}
		sameFloat(t, "tile "+kpi, m[1], math.Round(want*10)/10)
	}

	// Wait histogram: the called visits by wait, counted from the tickets (a visit's first ticket).
	ctx := context.Background()
	hist, _ := figures(t, chartOf(t, page, "hist"))
	rows, err := env.Pool.Query(ctx, `
		SELECT width_bucket(extract(epoch FROM first_called_at - issued_at), ARRAY[300,600,900,1200,1800,2700,3600,5400]::float8[]), count(*)
		FROM tickets WHERE office_id = $1 AND transferred_from IS NULL AND first_called_at IS NOT NULL
			AND (issued_at AT TIME ZONE 'Europe/Rome')::date BETWEEN $2 AND $3 GROUP BY 1`, env.Office.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	bounds := []int{0, 300, 600, 900, 1200, 1800, 2700, 3600, 5400}
	for rows.Next() {
		var b, n int
		if err := rows.Scan(&b, &n); err != nil {
			t.Fatal(err)
		}
		want[fmt.Sprint(bounds[b])] = n
	}
	rows.Close()
	if len(hist) != len(bounds) {
		t.Errorf("%d histogram bars, want %d", len(hist), len(bounds))
	}
	for _, b := range bounds {
		if k := fmt.Sprint(b); hist[k] != fmt.Sprint(want[k]) {
			t.Errorf("waits from %s s: chart %s, tickets %d", k, hist[k], want[k])
		}
	}

	// Weekly trend: arrivals per ISO week are the sums of the API's days; the 90th percentile of each
	// week's wait is computed from the tickets.
	trend := chartOf(t, page, "trend")
	weekBars, weeks := figures(t, trend[:strings.Index(trend, `class="line"`)])
	perWeek := map[string]int{}
	for _, r := range api("day").Rows {
		d, _ := time.Parse(time.DateOnly, r.Key)
		perWeek[d.AddDate(0, 0, 1-ticketing.ISOWeekday(d)).Format(time.DateOnly)] += r.Arrivals
	}
	if len(weeks) != 9 || weeks[0] != "2026-09-28" || weeks[8] != "2026-11-23" {
		t.Errorf("weeks %v; want the 9 Mondays from 2026-09-28", weeks)
	}
	for wk, n := range perWeek {
		if weekBars[wk] != fmt.Sprint(n) {
			t.Errorf("week %s: chart %s arrivals, API days %d", wk, weekBars[wk], n)
		}
	}
	points, _ := figures(t, trend[strings.Index(trend, `class="line"`):])
	rows, err = env.Pool.Query(ctx, `
		SELECT date_trunc('week', (issued_at AT TIME ZONE 'Europe/Rome')::date)::date,
			percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_called_at - issued_at))::float8
		FROM tickets WHERE office_id = $1 AND transferred_from IS NULL AND first_called_at IS NOT NULL
			AND (issued_at AT TIME ZONE 'Europe/Rome')::date BETWEEN $2 AND $3 GROUP BY 1`, env.Office.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var wk time.Time
		var p90 float64
		if err := rows.Scan(&wk, &p90); err != nil {
			t.Fatal(err)
		}
		n++
		got := points[wk.Format(time.DateOnly)]
		if v, err := strconv.ParseFloat(got, 64); err != nil || math.Abs(v-p90) > 0.05+1e-9 {
			t.Errorf("week %s: chart p90 %q, tickets %.3f", wk.Format(time.DateOnly), got, p90)
		}
	}
	rows.Close()
	if n != len(points) || n == 0 {
		t.Errorf("%d p90 points, %d weeks with calls", len(points), n)
	}

	// Forecast against actual: the planning loop's weeks.
	o, err := env.Store.Office(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	d0, _ := time.Parse(time.DateOnly, from)
	d1, _ := time.Parse(time.DateOnly, to)
	loop, err := st.PlanningLoop(ctx, fakePlanning{}, insight.Query{Office: o, From: d0, To: d1}, &d1)
	if err != nil {
		t.Fatal(err)
	}
	fc := chartOf(t, page, "forecast")
	split := strings.Index(fc, `class="line actual-line"`)
	forecast, _ := figures(t, fc[:split])
	actual, _ := figures(t, fc[split:])
	if len(loop.Weeks) == 0 || len(forecast) != len(loop.Weeks) || len(actual) != len(loop.Weeks) {
		t.Fatalf("forecast chart: %d forecast and %d actual points for %d weeks", len(forecast), len(actual), len(loop.Weeks))
	}
	for _, w := range loop.Weeks {
		sameFloat(t, "forecast "+w.Week, forecast[w.Week], w.Forecast)
		sameFloat(t, "actual "+w.Week, actual[w.Week], float64(w.Actual))
	}
}

// The page speaks the manager's language: Italian by default, English on request, numbers and dates in
// each language's style.
func TestStatsPageLanguages(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	handMadeDay(t, env)
	root := pageServer(t, env, st, nil)
	token := env.Login(t, "manager")
	q := "/manage/stats?period=custom&from=2026-11-23&to=2026-11-23"
	_, it := getPage(t, root+q, token)
	_, en := getPage(t, root+q+"&lang=en", token)
	for _, want := range []string{"Statistiche e indicatori", "Arrivi per giorno della settimana e ora", "lun 23 nov 2026",
		"50,0 %", "Obiettivo 80,0 %", "3,5 / 5", "Il confronto con la previsione non è disponibile"} {
		if !strings.Contains(it, want) {
			t.Errorf("Italian page lacks %q", want)
		}
	}
	for _, want := range []string{"Statistics and indicators", "Arrivals by weekday and hour", "Mon 23 Nov 2026", "50.0 %",
		"Goal 80.0 %", "3.5 / 5"} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
	// The CSV links carry the page's period and filters.
	if !strings.Contains(it, `/api/v1/offices/demo/stats.csv?from=2026-11-23&amp;group=service&amp;to=2026-11-23`) {
		t.Error("no CSV link by service for the period")
	}
}

// A bad filter keeps the form, names the field and says why in Italian; the figures are not shown.
func TestStatsPageBadFilters(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	root := pageServer(t, env, st, nil)
	token := env.Login(t, "manager")
	for _, c := range []struct{ query, field, says string }{
		{"period=custom&from=2026-13-01&to=2026-11-23", "from", "deve essere una data"},
		{"period=custom&from=2026-11-23&to=2026-11-01", "to", "la data finale non può precedere quella iniziale"},
		{"period=custom&from=2025-01-01&to=2026-11-23", "to", "le statistiche coprono al massimo 400 giorni"},
		{"period=decade", "period", "il periodo deve essere"},
		{"service=nope", "service", `nessun servizio "nope"`},
		{"agency=nope", "agency", `nessun ente "nope"`},
	} {
		status, page := getPage(t, root+"/manage/stats?"+c.query, token)
		page = html.UnescapeString(page)
		if status != http.StatusOK || !strings.Contains(page, `id="filter-error"`) || !strings.Contains(page, c.says) {
			t.Errorf("%s: %d, no error saying %q", c.query, status, c.says)
		}
		if !regexp.MustCompile(`name="` + c.field + `"[^>]*aria-invalid="true"`).MatchString(page) {
			t.Errorf("%s: field %s not marked invalid", c.query, c.field)
		}
		if strings.Contains(page, `<svg class="chart`) {
			t.Errorf("%s: charts shown for a bad filter", c.query)
		}
	}
	// The presets compute their periods on the office's today.
	env.SetNow(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) // Wednesday
	for preset, want := range map[string][2]string{
		"month":      {"2026-11-01", "2026-11-25"},
		"last_month": {"2026-10-01", "2026-10-31"},
		"weeks12":    {"2026-08-31", "2026-11-22"},
		"year":       {"2026-01-01", "2026-11-25"},
	} {
		_, page := getPage(t, root+"/manage/stats?period="+preset, token)
		if !strings.Contains(page, `name="from" type="date" value="`+want[0]+`"`) || !strings.Contains(page, `name="to" type="date" value="`+want[1]+`"`) {
			t.Errorf("%s: the form does not show %s – %s", preset, want[0], want[1])
		}
	}
}

// Operators do not see the reports page.
func TestStatsPageForManagersOnly(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	root := pageServer(t, env, st, nil)
	if status, _ := getPage(t, root+"/manage/stats", env.Login(t, "op1")); status != http.StatusForbidden {
		t.Errorf("operator: %d, want 403", status)
	}
}
