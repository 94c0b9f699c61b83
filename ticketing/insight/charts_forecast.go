package insight

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"turno/internal/web"
)

// forecastRow is a week's line of the data table of forecast against actual arrivals.
type forecastRow struct {
	Week, Forecast, Actual, WAPE, Bias string
}

// forecastChart is the planning loop's weeks (Store.PlanningLoop): the arrivals the forecast expected and
// those that came, a line each on one axis, with the weekly error in the table.
type forecastChart struct {
	chart
	Grid             []gridLine
	Base             []gridLine
	ForecastLine     string
	ActualLine       string
	ForecastPoints   []shape
	ActualPoints     []shape
	Weeks            []label
	XTitle, YTitle   label
	Table            []forecastRow
	Total            forecastRow
	From, To         string // the period compared, in words
	Clipped          bool   // the page's period was longer than the planning loop compares
	NoForecast       bool   // the office has no forecast yet
	NoPlanning       bool   // staff planning is not wired on this server
	ForecastSwatch   string // the legend's names of the two lines
	ActualSwatch     string
	TotalWAPEPercent string
}

// forecastPeriod is the part of the page's period the planning loop compares: all of it, or its last
// MaxPlanningDays days when it is longer.
func forecastPeriod(from, to time.Time) (time.Time, time.Time, bool) {
	if first := to.AddDate(0, 0, 1-MaxPlanningDays); first.After(from) {
		return first, to, true
	}
	return from, to, false
}

// forecastVsActual runs the planning loop on the page's period (clipped to what it compares) and lays
// out its weeks. Without staff planning wired or a forecast computed, the chart says so.
func (h *Handler) forecastVsActual(ctx context.Context, lang string, q Query) (*forecastChart, error) {
	from, to, clipped := forecastPeriod(q.From, q.To)
	if h.Planning == nil {
		return &forecastChart{chart: chart{Empty: true, Summary: web.Translate(lang, "stats.forecast.no_planning")}, NoPlanning: true}, nil
	}
	q.From, q.To = from, to
	// The slots of one day keep the answer small: the chart reads only the weeks.
	loop, err := h.Store.PlanningLoop(ctx, h.Planning, q, &to)
	if err != nil {
		return nil, err
	}
	c := newForecastChart(lang, loop)
	c.Clipped = clipped
	c.From, c.To = web.FormatDayYear(lang, from), web.FormatDayYear(lang, to)
	return c, nil
}

// newForecastChart lays out the planning loop's weeks.
func newForecastChart(lang string, loop *PlanningLoop) *forecastChart {
	const left, top, right, bottom, height = 64.0, 16.0, 8.0, 52.0, 280.0
	plotW, plotH := chartWidth-left-right, height-top-bottom
	base := top + plotH
	c := &forecastChart{chart: chart{Width: chartWidth, Height: height},
		ForecastSwatch: web.Translate(lang, "stats.forecast.forecast"), ActualSwatch: web.Translate(lang, "stats.forecast.actual")}
	if !loop.Forecast {
		c.NoForecast, c.Empty, c.Summary = true, true, web.Translate(lang, "stats.forecast.no_forecast")
		return c
	}
	if len(loop.Weeks) == 0 {
		c.Empty, c.Summary = true, web.Translate(lang, "stats.forecast.no_weeks")
		return c
	}
	maxV := 0.0
	for _, w := range loop.Weeks {
		maxV = max(maxV, w.Forecast, float64(w.Actual))
	}
	yTop, step := niceScale(maxV)
	c.Grid = yGrid(lang, yTop, max(step, 1), left, plotW, base, plotH, 0)
	c.Base = []gridLine{{X1: left, X2: left + plotW, Y1: base, Y2: base}}
	slot := plotW / float64(len(loop.Weeks))
	every := (len(loop.Weeks) + 11) / 12
	var fLine, aLine []string
	for i, w := range loop.Weeks {
		x := left + slot*(float64(i)+0.5)
		day := w.From
		if d, err := time.Parse(time.DateOnly, w.From); err == nil {
			day = web.FormatDay(lang, d)
		}
		week := tr(lang, "stats.trend.week", day)
		fy, ay := base-plotH*w.Forecast/yTop, base-plotH*float64(w.Actual)/yTop
		c.ForecastPoints = append(c.ForecastPoints, shape{Key: w.Week, Value: strconv.FormatFloat(w.Forecast, 'f', -1, 64), X: x, Y: fy,
			Title: week + ": " + tr(lang, "stats.forecast.point_forecast", formatNumber(lang, w.Forecast, 0))})
		c.ActualPoints = append(c.ActualPoints, shape{Key: w.Week, Value: fmt.Sprint(w.Actual), X: x, Y: ay,
			Title: week + ": " + tr(lang, "stats.forecast.point_actual", formatCount(lang, w.Actual))})
		fLine = append(fLine, fmt.Sprintf("%.1f,%.1f", x, fy))
		aLine = append(aLine, fmt.Sprintf("%.1f,%.1f", x, ay))
		if i%every == 0 {
			c.Weeks = append(c.Weeks, label{X: x, Y: base + 16, Text: day})
		}
		c.Table = append(c.Table, weekRow(lang, w.Week+" ("+day+")", w))
	}
	c.ForecastLine, c.ActualLine = strings.Join(fLine, " "), strings.Join(aLine, " ")
	c.Total = weekRow(lang, web.Translate(lang, "stats.forecast.total"), loop.Totals)
	c.XTitle = label{X: left + plotW/2, Y: height - 10, Text: web.Translate(lang, "stats.trend.axis_x")}
	c.YTitle = label{X: -(top + plotH/2), Y: 14, Text: web.Translate(lang, "stats.trend.arrivals_axis")}
	if loop.Totals.WAPE != nil {
		c.TotalWAPEPercent = formatPct(lang, 100*(*loop.Totals.WAPE))
		c.Summary = tr(lang, "stats.forecast.summary", formatCount(lang, len(loop.Weeks)), formatNumber(lang, loop.Totals.Forecast, 0),
			formatCount(lang, loop.Totals.Actual), c.TotalWAPEPercent)
	} else {
		c.Summary = tr(lang, "stats.forecast.summary_none", formatCount(lang, len(loop.Weeks)), formatNumber(lang, loop.Totals.Forecast, 0))
	}
	return c
}

// weekRow is a week of the planning loop in words; the error ratios are shown as percentages.
func weekRow(lang, head string, w LoopWeek) forecastRow {
	r := forecastRow{Week: head, Forecast: formatNumber(lang, w.Forecast, 1), Actual: formatCount(lang, w.Actual), WAPE: "—", Bias: "—"}
	if w.WAPE != nil {
		r.WAPE = formatPct(lang, 100*(*w.WAPE))
	}
	if w.Bias != nil {
		r.Bias = formatPct(lang, 100*(*w.Bias))
		if *w.Bias > 0 {
			r.Bias = "+" + r.Bias
		}
	}
	return r
}
