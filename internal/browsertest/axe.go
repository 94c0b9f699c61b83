package browsertest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core (testdata/README.md), the accessibility rules engine Axe runs in the page.
//
//go:embed testdata/axe.min.js
var axeSource string

// WCAG21AA are the axe rule tags of WCAG 2.0 and 2.1, levels A and AA: what Axe checks when given no tags.
var WCAG21AA = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxeViolation is one axe rule that a page breaks, with the elements that break it.
type AxeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	HelpURL string   `json:"helpUrl"`
	Targets []string `json:"targets"` // CSS selectors of the offending elements
}

func (v AxeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s — %s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, ", "))
}

// AxeCheck runs axe-core on the page the tab shows, limited to the rule tags given (WCAG21AA when none),
// and returns the violations. axe-core is injected through DevTools' Runtime.evaluate, which the page's
// Content-Security-Policy does not govern, so pages keep their strict policy under test.
func AxeCheck(ctx context.Context, tags ...string) ([]AxeViolation, error) {
	if len(tags) == 0 {
		tags = WCAG21AA
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		return nil, fmt.Errorf("axe: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource+"\n;void 0")); err != nil {
			return nil, fmt.Errorf("axe: inject axe-core: %w", err)
		}
	}
	tagsJSON, _ := json.Marshal(tags)
	script := fmt.Sprintf(`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
			targets: v.nodes.map(n => n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : t).join(" "))}))))`, tagsJSON)
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: run: %w", err)
	}
	var vs []AxeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		return nil, fmt.Errorf("axe: read results: %w", err)
	}
	return vs, nil
}

// Axe checks the page the tab shows against axe-core's rules with the given tags (WCAG 2.1 A and AA when
// none) and fails the test with one line per violation: rule, impact, what it asks, offending elements.
// It returns the violations, for a caller that gathers a report across pages.
func Axe(t *testing.T, ctx context.Context, tags ...string) []AxeViolation {
	t.Helper()
	vs, err := AxeCheck(ctx, tags...)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) > 0 {
		url, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)) // the query may carry a device token
		lines := make([]string, len(vs))
		for i, v := range vs {
			lines[i] = "  " + v.String()
		}
		t.Errorf("%s: %d accessibility violations:\n%s", url, len(vs), strings.Join(lines, "\n"))
	}
	return vs
}
