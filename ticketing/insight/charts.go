package insight

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// WaitBucket is one bar of the wait distribution: the called visits whose wait was at least FromSeconds
// and less than ToSeconds (ToSeconds 0: no upper bound).
type WaitBucket struct {
	FromSeconds int `json:"from_seconds"`
	ToSeconds   int `json:"to_seconds"`
	Visits      int `json:"visits"`
}

// waitBounds are the lower bounds of the wait distribution's buckets after the first, in seconds: five
// minutes apart where most waits fall, wider beyond the usual targets (15 to 30 minutes), and one
// open-ended bucket from an hour and a half.
var waitBounds = []int{300, 600, 900, 1200, 1800, 2700, 3600, 5400}

// WeekTrend is one ISO week of the visits a query selects: the arrivals and the 90th percentile of the
// wait (null when no visit of the week was called). Week is the week's Monday; the first and last weeks
// are clipped to the period, and Partial says a week was.
type WeekTrend struct {
	Week           time.Time `json:"week"`
	Arrivals       int       `json:"arrivals"`
	WaitP90Seconds *float64  `json:"wait_p90_seconds"`
	Partial        bool      `json:"partial"`
}

// chartFilter resolves a query's service and agency codes to ids (0: no filter); an unknown code is a
// 422 naming the field.
func (s *Store) chartFilter(ctx context.Context, q Query) (service, agency int64, err error) {
	if q.Service != "" {
		sv, err := s.tickets.ServiceByCode(ctx, q.Office.ID, q.Service)
		if err != nil {
			return 0, 0, err
		}
		service = sv.ID
	}
	if q.Agency != "" {
		agencies, err := s.tickets.Agencies(ctx, q.Office.ID)
		if err != nil {
			return 0, 0, err
		}
		for _, a := range agencies {
			if a.Code == q.Agency {
				agency = a.ID
			}
		}
		if agency == 0 {
			return 0, 0, web.InvalidField("agency", "no agency %q in this office", q.Agency)
		}
	}
	return service, agency, nil
}

// WaitHistogram counts the called visits q selects by how long they waited (docs/kpis.md: issue to first
// call), in the buckets of waitBounds. Every bucket is returned, empty ones with zero visits.
func (s *Store) WaitHistogram(ctx context.Context, q Query) ([]WaitBucket, error) {
	service, agency, err := s.chartFilter(ctx, q)
	if err != nil {
		return nil, err
	}
	// width_bucket numbers a wait below the first bound 0 and one at or above the last len(waitBounds).
	rows, err := s.reports.Query(ctx, `
		SELECT width_bucket(wait_seconds, $4::float8[]) AS b, count(*)
		FROM visits
		WHERE office_id = $1 AND local_day BETWEEN $2 AND $3 AND wait_seconds IS NOT NULL
			AND ($5 = 0 OR service_id = $5) AND ($6 = 0 OR agency_id = $6)
		GROUP BY b`, q.Office.ID, q.From, q.To, waitBounds, service, agency)
	if err != nil {
		return nil, fmt.Errorf("insight: wait histogram: %w", err)
	}
	defer rows.Close()
	out := make([]WaitBucket, len(waitBounds)+1)
	for i := range out {
		if i > 0 {
			out[i].FromSeconds = waitBounds[i-1]
		}
		if i < len(waitBounds) {
			out[i].ToSeconds = waitBounds[i]
		}
	}
	for rows.Next() {
		var b, n int
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("insight: wait histogram: %w", err)
		}
		out[b].Visits = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: wait histogram: %w", err)
	}
	return out, nil
}

// WeeklyTrend returns the arrivals and the 90th percentile of the wait of each ISO week of q's period
// (docs/kpis.md: continuous percentile over the called visits, rounded to 0.1 s as the statistics API
// does). Weeks without visits are returned with zero arrivals, so a chart shows the gap.
func (s *Store) WeeklyTrend(ctx context.Context, q Query) ([]WeekTrend, error) {
	service, agency, err := s.chartFilter(ctx, q)
	if err != nil {
		return nil, err
	}
	byWeek := map[time.Time]WeekTrend{}
	err = s.report(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
		SELECT date_trunc('week', local_day)::date AS week, count(*),
			round((percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_seconds))::numeric, 1)::float8
		FROM visits
		WHERE office_id = $1 AND local_day BETWEEN $2 AND $3 AND ($4 = 0 OR service_id = $4) AND ($5 = 0 OR agency_id = $5)
		GROUP BY week`, q.Office.ID, q.From, q.To, service, agency)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var w WeekTrend
			if err := rows.Scan(&w.Week, &w.Arrivals, &w.WaitP90Seconds); err != nil {
				return err
			}
			w.Week = ticketing.Date(w.Week)
			byWeek[w.Week] = w
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("insight: weekly trend: %w", err)
	}
	var out []WeekTrend
	for wk := mondayOf(q.From); !wk.After(q.To); wk = wk.AddDate(0, 0, 7) {
		w, ok := byWeek[wk]
		if !ok {
			w = WeekTrend{Week: wk}
		}
		w.Partial = wk.Before(q.From) || wk.AddDate(0, 0, 6).After(q.To)
		out = append(out, w)
	}
	return out, nil
}

// mondayOf returns the Monday of day's ISO week.
func mondayOf(day time.Time) time.Time {
	return day.AddDate(0, 0, 1-ticketing.ISOWeekday(day))
}

// The charts below are laid out in Go and drawn by templates/stats_charts.html, which only places what
// is computed here: every shape carries its figure (data-key, data-value) and a <title>, and every chart
// a summary sentence (its text alternative) and a table of its data. Coordinates are in the SVG's
// viewBox; the stylesheet scales it to the page.

const chartWidth = 720

// label is a text placed on a chart.
type label struct {
	X, Y float64
	Text string
}

// gridLine is a line across a chart with its label (an axis tick, the goal).
type gridLine struct {
	X1, Y1, X2, Y2 float64
	Label          label
}

// shape is a rectangle (or, in a line chart, a point) standing for one figure, and its value drawn
// beside it when Text.Text is not empty.
type shape struct {
	Key   string // the group's key in the statistics API (or the week, the bucket)
	Value string // the raw figure
	Title string // the tooltip, in words
	Class string
	X, Y  float64
	W, H  float64
	Text  label
}

// tableRow is a row of a chart's data table.
type tableRow struct {
	Head  string
	Cells []string
}

// chart is what every chart has: its size, its summary sentence and its data table.
type chart struct {
	Width, Height float64
	Summary       string
	Empty         bool // no data: the page shows the summary only
	TableRows     []tableRow
}

// niceScale returns the top of an axis that holds maxValue and its step, 1, 2 or 5 times a power of ten,
// so that the axis has at most five steps.
func niceScale(maxValue float64) (top, step float64) {
	if maxValue <= 0 {
		return 1, 1
	}
	raw := maxValue / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * pow
		if step >= raw {
			break
		}
	}
	top = math.Ceil(maxValue/step) * step
	return top, step
}

// yGrid returns the horizontal grid lines of a vertical axis from 0 to top by step over a plot from x to
// x+w whose bottom is at y0 and top at y0-h, labelled on the left.
func yGrid(lang string, top, step, x, w, y0, h float64, decimals int) []gridLine {
	var out []gridLine
	for v := 0.0; v <= top+step/2; v += step {
		y := y0 - h*v/top
		out = append(out, gridLine{X1: x, X2: x + w, Y1: y, Y2: y, Label: label{X: x - 6, Y: y, Text: formatNumber(lang, v, decimals)}})
	}
	return out
}

// formatNumber writes v with decimals digits in lang's style: "1.234,5" in Italian, "1,234.5" in English.
func formatNumber(lang string, v float64, decimals int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	thousands, point := ".", ","
	if lang == "en" || lang == "zh" {
		thousands, point = ",", "."
	}
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point + frac)
	}
	return b.String()
}

// formatCount writes a whole number in lang's style.
func formatCount(lang string, n int) string { return formatNumber(lang, float64(n), 0) }

// formatPct writes a percentage with one decimal: "87,5 %".
func formatPct(lang string, pct float64) string { return formatNumber(lang, pct, 1) + " %" }

// formatWait writes a duration for people: seconds under a minute ("45 s"), else minutes with one
// decimal ("4,5 min").
func formatWait(lang string, seconds float64) string {
	if seconds < 60 {
		return formatNumber(lang, seconds, 0) + " s"
	}
	return formatNumber(lang, seconds/60, 1) + " min"
}

// tr translates key into lang and fills it like fmt.Sprintf.
func tr(lang, key string, args ...any) string {
	return fmt.Sprintf(web.Translate(lang, key), args...)
}

// trN translates a count: key ".one" for 1, key ".other" otherwise, filled with the number.
func trN(lang, key string, n int) string {
	if n == 1 {
		return tr(lang, key+".one", formatCount(lang, n))
	}
	return tr(lang, key+".other", formatCount(lang, n))
}

// hourSpan names an hour of the day: "9–10".
func hourSpan(h int) string { return fmt.Sprintf("%d–%d", h, h+1) }

// heatmap is the arrivals of a period by weekday and hour of the day: a cell per weekday and hour, its
// colour one of five steps up to the busiest hour.
type heatmap struct {
	chart
	Days        []label // weekday names left of the rows
	Cells       []shape
	Hours       []label // hours under the columns
	XTitle      label
	YTitle      label // drawn rotated by 90°
	LegendTitle label
	Legend      []shape
	TableHours  []string
}

// newHeatmap lays out the weekday_hour rows of the statistics API. Monday to Friday are always shown,
// Saturday and Sunday when someone came; the hours span from the first to the last with arrivals (8 to
// 18 when there are none).
func newHeatmap(lang string, rows []Row) *heatmap {
	counts := map[[2]int]int{}
	firstHour, lastHour, total := 24, -1, 0
	busyWeekend := [8]bool{}
	for _, r := range rows {
		var wd, hour int
		if _, err := fmt.Sscanf(r.Key, "%d-%d", &wd, &hour); err != nil || wd < 1 || wd > 7 || hour < 0 || hour > 23 {
			continue
		}
		counts[[2]int{wd, hour}] += r.Arrivals
		total += r.Arrivals
		if r.Arrivals > 0 {
			firstHour, lastHour = min(firstHour, hour), max(lastHour, hour)
			busyWeekend[wd] = true
		}
	}
	maxCount := 0
	for _, c := range counts {
		maxCount = max(maxCount, c)
	}
	if lastHour < 0 {
		firstHour, lastHour = 8, 18
	}
	days := []int{1, 2, 3, 4, 5}
	for _, wd := range []int{6, 7} {
		if busyWeekend[wd] {
			days = append(days, wd)
		}
	}
	const left, top, right, rowH = 64.0, 8.0, 8.0, 30.0
	cols := lastHour - firstHour + 1
	plotW, plotH := chartWidth-left-right, rowH*float64(len(days))
	cellW := plotW / float64(cols)
	h := &heatmap{chart: chart{Width: chartWidth, Height: top + plotH + 78, Empty: total == 0}}
	bottom := top + plotH
	for hr := firstHour; hr <= lastHour; hr++ {
		h.Hours = append(h.Hours, label{X: left + cellW*(float64(hr-firstHour)+0.5), Y: bottom + 16, Text: fmt.Sprint(hr)})
		h.TableHours = append(h.TableHours, hourSpan(hr))
	}
	h.XTitle = label{X: left + plotW/2, Y: bottom + 34, Text: web.Translate(lang, "stats.heat.axis_x")}
	h.YTitle = label{X: -(top + plotH/2), Y: 14, Text: web.Translate(lang, "stats.weekday")}
	peak, peakDay, peakHour := -1, 0, 0
	for i, wd := range days {
		y := top + rowH*float64(i)
		h.Days = append(h.Days, label{X: left - 8, Y: y + rowH/2, Text: web.WeekdayShort(lang, wd)})
		row := tableRow{Head: web.WeekdayName(lang, wd)}
		for hr := firstHour; hr <= lastHour; hr++ {
			v := counts[[2]int{wd, hr}]
			level := 0
			if v > 0 {
				level = int(math.Ceil(5 * float64(v) / float64(maxCount)))
			}
			c := shape{Key: fmt.Sprintf("%d-%02d", wd, hr), Value: fmt.Sprint(v), Class: fmt.Sprintf("h%d", level),
				X: left + cellW*float64(hr-firstHour), Y: y, W: cellW, H: rowH,
				Title: fmt.Sprintf("%s %s: %s", web.WeekdayName(lang, wd), hourSpan(hr), trN(lang, "stats.arrivals_n", v))}
			if cellW >= 24 {
				c.Text = label{X: c.X + cellW/2, Y: y + rowH/2, Text: formatCount(lang, v)}
			}
			h.Cells = append(h.Cells, c)
			row.Cells = append(row.Cells, formatCount(lang, v))
			if v > peak {
				peak, peakDay, peakHour = v, wd, hr
			}
		}
		h.TableRows = append(h.TableRows, row)
	}
	legendY := bottom + 48
	h.LegendTitle = label{X: left, Y: legendY + 7, Text: web.Translate(lang, "stats.kpi.arrivals") + ":"}
	x := left + 80
	for lv := 1; lv <= 5; lv++ {
		// The counts whose level is lv: above (lv-1)/5 of the busiest hour, up to lv/5 of it.
		lo := int(math.Floor(float64(maxCount)*float64(lv-1)/5)) + 1
		hi := int(math.Floor(float64(maxCount) * float64(lv) / 5))
		if lo > hi {
			continue
		}
		text := formatCount(lang, lo)
		if hi > lo {
			text += "–" + formatCount(lang, hi)
		}
		h.Legend = append(h.Legend, shape{Class: fmt.Sprintf("h%d", lv), X: x, Y: legendY, W: 16, H: 14,
			Text: label{X: x + 20, Y: legendY + 7, Text: text}})
		x += 110
	}
	if h.Empty {
		h.Summary = web.Translate(lang, "stats.no_data")
	} else {
		h.Summary = tr(lang, "stats.heat.summary", formatCount(lang, total), web.WeekdayName(lang, peakDay), hourSpan(peakHour),
			formatCount(lang, peak))
	}
	return h
}

// histogram is the wait distribution: a bar per bucket of waitBounds.
type histogram struct {
	chart
	Grid    []gridLine
	Bars    []shape
	Base    []gridLine // the axis line
	Buckets []label
	XTitle  label
	YTitle  label
}

// newHistogram lays out the wait distribution.
func newHistogram(lang string, buckets []WaitBucket) *histogram {
	const left, top, right, bottom, height = 64.0, 16.0, 8.0, 52.0, 270.0
	plotW, plotH := chartWidth-left-right, height-top-bottom
	base := top + plotH
	h := &histogram{chart: chart{Width: chartWidth, Height: height}}
	maxN, total, mode := 0, 0, 0
	for i, b := range buckets {
		total += b.Visits
		if b.Visits > maxN {
			maxN, mode = b.Visits, i
		}
	}
	h.Empty = total == 0
	yTop, step := niceScale(float64(maxN))
	h.Grid = yGrid(lang, yTop, max(step, 1), left, plotW, base, plotH, 0)
	slot := plotW / float64(len(buckets))
	for i, b := range buckets {
		name := bucketLabel(b)
		bh := plotH * float64(b.Visits) / yTop
		x := left + slot*float64(i)
		share := 0.0
		if total > 0 {
			share = 100 * float64(b.Visits) / float64(total)
		}
		h.Bars = append(h.Bars, shape{Key: fmt.Sprint(b.FromSeconds), Value: fmt.Sprint(b.Visits), Class: "bar",
			X: x + slot*0.12, W: slot * 0.76, Y: base - bh, H: bh,
			Title: fmt.Sprintf("%s min: %s (%s)", name, trN(lang, "stats.visits_n", b.Visits), formatPct(lang, share)),
			Text:  label{X: x + slot/2, Y: base - bh - 5, Text: formatCount(lang, b.Visits)}})
		h.Buckets = append(h.Buckets, label{X: x + slot/2, Y: base + 16, Text: name})
		h.TableRows = append(h.TableRows, tableRow{Head: name + " min", Cells: []string{formatCount(lang, b.Visits), formatPct(lang, share)}})
	}
	h.Base = []gridLine{{X1: left, X2: left + plotW, Y1: base, Y2: base}}
	h.XTitle = label{X: left + plotW/2, Y: height - 10, Text: web.Translate(lang, "stats.waits.axis_x")}
	h.YTitle = label{X: -(top + plotH/2), Y: 14, Text: web.Translate(lang, "stats.waits.axis_y")}
	if h.Empty {
		h.Summary = web.Translate(lang, "stats.no_data")
	} else {
		h.Summary = tr(lang, "stats.waits.summary", formatCount(lang, total), bucketLabel(buckets[mode]),
			formatCount(lang, buckets[mode].Visits))
	}
	return h
}

// bucketLabel names a bucket in minutes: "0–5", "90+".
func bucketLabel(b WaitBucket) string {
	if b.ToSeconds == 0 {
		return fmt.Sprintf("%d+", b.FromSeconds/60)
	}
	return fmt.Sprintf("%d–%d", b.FromSeconds/60, b.ToSeconds/60)
}

// targetRow is a service's line of the data table of the share within target.
type targetRow struct {
	Name, Arrivals, Target, Share string
}

// hbars is the share of visits called within the wait target per service: a horizontal bar per service,
// against a line at the office's service-level goal.
type hbars struct {
	chart
	Names  []label // service names left of the bars
	Bars   []shape // class "bar", or "bar below" under the goal
	Grid   []gridLine
	Goal   []gridLine // the goal's line and its label
	XTitle label
	Table  []targetRow
}

// newTargetBars lays out the service rows of the statistics API that have a share within target; names
// maps service codes to their names and targets to their wait targets in seconds. goal is the office's
// service level (0.8: 80 % of citizens called within the target).
func newTargetBars(lang string, rows []Row, names map[string]string, targets map[string]int, goal float64) *hbars {
	const left, top, right, rowH, barH = 236.0, 28.0, 64.0, 30.0, 18.0
	plotW := chartWidth - left - right
	h := &hbars{chart: chart{Width: chartWidth}}
	below, lowest, lowestName := 0, 101.0, ""
	for _, r := range rows {
		if r.WithinTargetPct == nil {
			continue
		}
		pct := *r.WithinTargetPct
		name := cmp.Or(names[r.Key], r.Label, r.Key)
		target := ""
		if t, ok := targets[r.Key]; ok {
			target = formatWait(lang, float64(t))
		}
		y := top + rowH*float64(len(h.Bars)) + (rowH-barH)/2
		w := plotW * pct / 100
		b := shape{Key: r.Key, Value: strconv.FormatFloat(pct, 'f', -1, 64), Class: "bar", X: left, Y: y, W: w, H: barH,
			Title: tr(lang, "stats.targets.bar", name, formatPct(lang, pct), target),
			Text:  label{X: left + w + 6, Y: y + barH/2, Text: formatPct(lang, pct)}}
		if pct < goal*100 {
			b.Class += " below"
			below++
		}
		if pct < lowest {
			lowest, lowestName = pct, name
		}
		h.Names = append(h.Names, label{X: left - 8, Y: y + barH/2, Text: shorten(name, 34)})
		h.Bars = append(h.Bars, b)
		h.Table = append(h.Table, targetRow{Name: name, Arrivals: formatCount(lang, r.Arrivals), Target: target, Share: formatPct(lang, pct)})
	}
	h.Empty = len(h.Bars) == 0
	plotH := rowH * float64(max(len(h.Bars), 1))
	h.Height = top + plotH + 46
	for v := 0; v <= 100; v += 20 {
		x := left + plotW*float64(v)/100
		h.Grid = append(h.Grid, gridLine{X1: x, X2: x, Y1: top, Y2: top + plotH, Label: label{X: x, Y: top + plotH + 16, Text: fmt.Sprintf("%d %%", v)}})
	}
	gx := left + plotW*goal
	h.Goal = []gridLine{{X1: gx, X2: gx, Y1: top - 6, Y2: top + plotH,
		Label: label{X: gx, Y: top - 12, Text: tr(lang, "stats.targets.goal", formatPct(lang, goal*100))}}}
	h.XTitle = label{X: left + plotW/2, Y: h.Height - 8, Text: web.Translate(lang, "stats.targets.axis_x")}
	switch {
	case h.Empty:
		h.Summary = web.Translate(lang, "stats.no_data")
	case below == 0:
		key := "stats.targets.summary_all"
		if len(h.Bars) == 1 {
			key += "_one"
		}
		h.Summary = tr(lang, key, formatCount(lang, len(h.Bars)), formatPct(lang, goal*100))
	default:
		key := "stats.targets.summary"
		if below == 1 {
			key += "_one"
		}
		h.Summary = tr(lang, key, formatCount(lang, below), formatCount(lang, len(h.Bars)),
			formatPct(lang, goal*100), lowestName, formatPct(lang, lowest))
	}
	return h
}

// shorten cuts s to at most n characters, ending it with an ellipsis when cut.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// trend is the weekly trends on one time axis: each week's arrivals as bars in the upper panel, the 90th
// percentile of its wait as a line in the lower one (two panels, not two scales on one, so that neither
// figure is read against the other's axis).
type trend struct {
	chart
	Titles           []label // the panels' titles
	TopGrid, LowGrid []gridLine
	Bars             []shape
	Line             string // the polyline's points
	Points           []shape
	Base             []gridLine
	Weeks            []label // every few weeks, so that labels do not overlap
	XTitle           label
}

// newTrend lays out the weekly trends.
func newTrend(lang string, weeks []WeekTrend) *trend {
	const left, right, top, panelH, gap, bottom = 64.0, 8.0, 24.0, 120.0, 48.0, 44.0
	plotW := chartWidth - left - right
	topBase, lowTop := top+panelH, top+panelH+gap
	lowBase := lowTop + panelH
	t := &trend{chart: chart{Width: chartWidth, Height: lowBase + bottom}}
	maxA, maxWait, total := 0, 0.0, 0
	for _, w := range weeks {
		maxA = max(maxA, w.Arrivals)
		total += w.Arrivals
		if w.WaitP90Seconds != nil {
			maxWait = max(maxWait, *w.WaitP90Seconds)
		}
	}
	t.Empty = total == 0
	aTop, aStep := niceScale(float64(maxA))
	t.TopGrid = yGrid(lang, aTop, max(aStep, 1), left, plotW, topBase, panelH, 0)
	wTop, wStep := niceScale(maxWait / 60)
	decimals := 0
	if wStep < 1 {
		decimals = 1
	}
	t.LowGrid = yGrid(lang, wTop, wStep, left, plotW, lowBase, panelH, decimals)
	t.Titles = []label{{X: left, Y: top - 10, Text: web.Translate(lang, "stats.trend.arrivals_axis")},
		{X: left, Y: lowTop - 10, Text: web.Translate(lang, "stats.trend.wait_axis")}}
	slot := plotW / float64(max(len(weeks), 1))
	every := int(math.Ceil(float64(len(weeks)) / 12)) // at most a dozen week labels
	var line []string
	minA, busiest, whole := -1, "", 0
	for _, w := range weeks {
		if !w.Partial {
			whole++
		}
	}
	for i, w := range weeks {
		key, day := w.Week.Format(time.DateOnly), web.FormatDay(lang, w.Week)
		x := left + slot*float64(i)
		bh := panelH * float64(w.Arrivals) / aTop
		b := shape{Key: key, Value: fmt.Sprint(w.Arrivals), Class: "bar", X: x + slot*0.15, W: slot * 0.7,
			Y: topBase - bh, H: bh, Title: tr(lang, "stats.trend.week", day) + ": " + trN(lang, "stats.arrivals_n", w.Arrivals)}
		if w.Partial {
			// A week cut by the period's ends is drawn paler: its few arrivals are not a quiet week.
			b.Class += " partial"
			b.Title += " " + web.Translate(lang, "stats.trend.partial")
		}
		t.Bars = append(t.Bars, b)
		if i%every == 0 {
			t.Weeks = append(t.Weeks, label{X: x + slot/2, Y: lowBase + 16, Text: day})
		}
		wait := "—"
		if w.WaitP90Seconds != nil {
			wait = formatWait(lang, *w.WaitP90Seconds)
			p := shape{Key: key, Value: strconv.FormatFloat(*w.WaitP90Seconds, 'f', -1, 64), Class: "point",
				X: x + slot/2, Y: lowBase - panelH*(*w.WaitP90Seconds)/60/wTop,
				Title: tr(lang, "stats.trend.week", day) + ": " + tr(lang, "stats.trend.p90", wait)}
			t.Points = append(t.Points, p)
			line = append(line, fmt.Sprintf("%.1f,%.1f", p.X, p.Y))
		}
		t.TableRows = append(t.TableRows, tableRow{Head: web.FormatDayYear(lang, w.Week), Cells: []string{formatCount(lang, w.Arrivals), wait}})
		if w.Arrivals == maxA && busiest == "" {
			busiest = day
		}
		if (minA < 0 || w.Arrivals < minA) && (!w.Partial || whole == 0) {
			minA = w.Arrivals
		}
	}
	t.Line = strings.Join(line, " ")
	t.Base = []gridLine{{X1: left, X2: left + plotW, Y1: lowBase, Y2: lowBase}}
	t.XTitle = label{X: left + plotW/2, Y: t.Height - 8, Text: web.Translate(lang, "stats.trend.axis_x")}
	if t.Empty {
		t.Summary = web.Translate(lang, "stats.no_data")
	} else {
		t.Summary = tr(lang, "stats.trend.summary", formatCount(lang, len(weeks)), formatCount(lang, max(minA, 0)),
			formatCount(lang, maxA), busiest, formatWait(lang, maxWait))
	}
	return t
}
