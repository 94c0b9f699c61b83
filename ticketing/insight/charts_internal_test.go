package insight

import (
	"testing"
	"time"
)

// Numbers are written the way each staff language writes them.
func TestFormatNumber(t *testing.T) {
	for _, c := range []struct {
		lang     string
		v        float64
		decimals int
		want     string
	}{
		{"it", 1234.56, 1, "1.234,6"}, {"en", 1234.56, 1, "1,234.6"}, {"it", 1234567, 0, "1.234.567"},
		{"it", 999, 0, "999"}, {"it", 0, 1, "0,0"}, {"en", -1234, 0, "-1,234"}, {"it", -0.01, 1, "0,0"},
	} {
		if got := formatNumber(c.lang, c.v, c.decimals); got != c.want {
			t.Errorf("formatNumber(%s, %v, %d) = %q, want %q", c.lang, c.v, c.decimals, got, c.want)
		}
	}
	if got := formatWait("it", 45); got != "45 s" {
		t.Errorf("45 s = %q", got)
	}
	if got := formatWait("it", 272); got != "4,5 min" {
		t.Errorf("272 s = %q", got)
	}
}

// An axis holds its largest value in at most five steps of 1, 2 or 5 times a power of ten.
func TestNiceScale(t *testing.T) {
	for _, c := range []struct{ max, top, step float64 }{
		{0, 1, 1}, {7, 8, 2}, {186, 200, 50}, {841, 1000, 200}, {1016, 1500, 500}, {18.9, 20, 5}, {0.4, 0.4, 0.1},
	} {
		top, step := niceScale(c.max)
		if top != c.top || step != c.step {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", c.max, top, step, c.top, c.step)
		}
	}
}

// The presets' periods on a Wednesday, on the first of a month and on the first of a year.
func TestPeriodOf(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	for _, c := range []struct{ preset, today, from, to string }{
		{presetMonth, "2026-11-25", "2026-11-01", "2026-11-25"},
		{presetLastMonth, "2026-11-25", "2026-10-01", "2026-10-31"},
		{presetWeeks, "2026-11-25", "2026-08-31", "2026-11-22"},
		{presetYear, "2026-11-25", "2026-01-01", "2026-11-25"},
		{presetLastMonth, "2027-01-01", "2026-12-01", "2026-12-31"},
		{presetMonth, "2027-01-01", "2027-01-01", "2027-01-01"},
		{presetWeeks, "2026-11-23", "2026-08-31", "2026-11-22"}, // on a Monday the current week is not yet whole
	} {
		from, to := periodOf(c.preset, d(c.today))
		if !from.Equal(d(c.from)) || !to.Equal(d(c.to)) {
			t.Errorf("%s on %s: %s – %s, want %s – %s", c.preset, c.today, from.Format(time.DateOnly), to.Format(time.DateOnly), c.from, c.to)
		}
	}
}

// The heatmap colours a cell in one of five steps of the busiest hour, and its legend covers every
// count from 1 to that hour's without overlap.
func TestHeatmapLevels(t *testing.T) {
	h := newHeatmap("it", []Row{{Key: "1-09", Arrivals: 10}, {Key: "1-10", Arrivals: 2}, {Key: "3-11", Arrivals: 5}, {Key: "6-09", Arrivals: 1}})
	want := map[string]string{"1-09": "h5", "1-10": "h1", "3-11": "h3", "6-09": "h1", "2-09": "h0"}
	got := map[string]string{}
	for _, c := range h.Cells {
		got[c.Key] = c.Class
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("cell %s: %s, want %s", k, got[k], v)
		}
	}
	if _, sunday := got["7-09"]; sunday {
		t.Error("Sunday shown without arrivals")
	}
	var labels []string
	for _, l := range h.Legend {
		labels = append(labels, l.Text.Text)
	}
	if len(labels) != 5 || labels[0] != "1–2" || labels[4] != "9–10" {
		t.Errorf("legend %v", labels)
	}
}

// The share-within-target summary counts services in the right number: one service alone, one below
// the goal, several below it.
func TestTargetSummary(t *testing.T) {
	pct := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		rows []Row
		want string
	}{
		{[]Row{{Key: "a", WithinTargetPct: pct(95)}}, "Il servizio raggiunge l'obiettivo (80,0 %)."},
		{[]Row{{Key: "a", WithinTargetPct: pct(95)}, {Key: "b", WithinTargetPct: pct(70)}}, "1 servizio su 2 resta sotto l'obiettivo (80,0 %): B con 70,0 %."},
		{[]Row{{Key: "a", WithinTargetPct: pct(50)}, {Key: "b", WithinTargetPct: pct(70)}, {Key: "c"}}, "2 servizi su 2 restano sotto l'obiettivo (80,0 %); il più lontano è A con 50,0 %."},
	} {
		h := newTargetBars("it", c.rows, map[string]string{"a": "A", "b": "B"}, nil, 0.8)
		if h.Summary != c.want {
			t.Errorf("summary %q, want %q", h.Summary, c.want)
		}
	}
}
