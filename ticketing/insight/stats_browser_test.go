package insight_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
)

// chartsMatchAPI runs in the page: it fetches the statistics API for the page's period (as the signed-in
// manager) and lists every way the drawn charts differ from it: a heatmap cell whose arrivals are not
// the weekday_hour row's, a bar whose share is not the service row's within_target_pct, a tile that is
// not the totals', and a chart that is missing, empty or drawn with no size.
const chartsMatchAPI = `(async () => {
	const bad = [];
	const q = new URLSearchParams({from: document.getElementById('f-from').value, to: document.getElementById('f-to').value});
	const get = async (group) => {
		const res = await fetch('/api/v1/offices/demo/stats?' + q + '&group=' + group, {credentials: 'same-origin'});
		if (!res.ok) { bad.push('API ' + group + ': ' + res.status); return {rows: [], totals: {}}; }
		return res.json();
	};
	const byHour = await get('weekday_hour'), byService = await get('service');
	for (const name of ['heat', 'hist', 'targets', 'trend', 'forecast']) {
		const svg = document.querySelector('svg.chart.' + name);
		if (!svg) { bad.push('no chart ' + name); continue; }
		const box = svg.getBoundingClientRect();
		if (box.width < 300 || box.height < 100) bad.push(name + ' drawn ' + box.width + '×' + box.height);
		if (svg.querySelectorAll('[data-value]').length === 0) bad.push(name + ' has no figures');
		if (!svg.getAttribute('aria-labelledby') || !document.getElementById(svg.getAttribute('aria-describedby')).textContent.trim())
			bad.push(name + ' has no text alternative');
	}
	const cells = {};
	for (const r of document.querySelectorAll('svg.heat rect[data-key]')) cells[r.dataset.key] = Number(r.dataset.value);
	if (byHour.rows.length === 0) bad.push('no weekday_hour rows');
	for (const row of byHour.rows) if (cells[row.key] !== row.arrivals) bad.push('cell ' + row.key + ': ' + cells[row.key] + ' ≠ ' + row.arrivals);
	const bars = {};
	for (const r of document.querySelectorAll('svg.targets rect[data-key]')) bars[r.dataset.key] = Number(r.dataset.value);
	for (const row of byService.rows) {
		if (row.within_target_pct === null) continue;
		if (bars[row.key] !== row.within_target_pct) bad.push('bar ' + row.key + ': ' + bars[row.key] + ' ≠ ' + row.within_target_pct);
	}
	for (const k of ['arrivals', 'served', 'within_target_pct', 'wait_p50_seconds', 'wait_p90_seconds']) {
		const tile = document.querySelector('[data-kpi="' + k + '"]');
		if (!tile || Number(tile.dataset.value) !== byService.totals[k]) bad.push('tile ' + k + ': ' + (tile && tile.dataset.value) + ' ≠ ' + byService.totals[k]);
	}
	return bad;
})()`

// TestStatsPageInChromium: the manager signs in and opens the reports page on the demo's history; every
// chart is drawn with a size and figures, and the figures equal the statistics API's answer fetched in
// the same page. The data table of a chart opens from its toggle. Printed, the page drops the bar, the
// navigation, the filters and the toggles, keeps every chart, and never splits one across pages.
func TestStatsPageInChromium(t *testing.T) {
	t.Parallel()
	env, st, _ := historyEnv(t)
	root := pageServer(t, env, st, fakePlanning{})
	ctx := browsertest.New(t, 1440, 1000)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 15*time.Second) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(root+"/manage/stats?period=custom&from=2026-09-28&to=2026-11-23&lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart.heat`)),
		wait(`document.documentElement.dataset.manageReady === '1'`),
	)
	if err != nil {
		t.Fatalf("open the reports page: %v", err)
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](chartsMatchAPI, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("compare with the API: %v", err)
	}
	if len(bad) > 0 {
		t.Errorf("the charts differ from the API:\n%s", strings.Join(bad, "\n"))
	}
	browsertest.Screenshot(t, ctx, "stats-page")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#chart-heatmap details summary`)),
		wait(`document.querySelector('#chart-heatmap details').open && document.querySelector('#chart-heatmap details table').getBoundingClientRect().height > 100`),
	)
	if err != nil {
		t.Errorf("open the heatmap's data table: %v", err)
	}
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	printed, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const bad = [];
		const shown = (el) => el && getComputedStyle(el).display !== 'none' && el.getBoundingClientRect().height > 0;
		for (const sel of ['header.bar', 'nav.manage', 'form.stats-filters', 'details.data', '[data-print]', 'p.csv'])
			for (const el of document.querySelectorAll(sel)) if (shown(el)) bad.push(sel + ' is printed');
		const charts = document.querySelectorAll('svg.chart');
		if (charts.length !== 5) bad.push(charts.length + ' charts');
		for (const svg of charts) if (!shown(svg)) bad.push(svg.getAttribute('class') + ' is not printed');
		for (const b of document.querySelectorAll('.chart-block'))
			if (getComputedStyle(b).breakInside !== 'avoid') bad.push(b.id + ' may split across pages');
		return bad;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(printed) > 0 {
		t.Errorf("printed page:\n%s", strings.Join(printed, "\n"))
	}
	browsertest.Screenshot(t, ctx, "stats-print")
}
