package plan

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"turno/internal/web"
)

// staticFiles are the roster page's script and styles, served under /manage/rosters/static/.
//
//go:embed static
var staticFiles embed.FS

// staticHandler serves staticFiles.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err)
	}
	return http.StripPrefix("/manage/rosters/static/", http.FileServer(http.FS(sub)))
}

// liveView is a solve's progress in the page's words: the place in the queue, then how long it has run,
// whether a roster within every rule is known yet, and how many better rosters were found.
type liveView struct {
	Position     int
	Ahead        int // rosters solved before this one
	Phase        string
	Improvements int
	ElapsedS     int
	LimitS       int
}

// newLive summarises a roster's progress entries.
func newLive(ro *Roster, progress []ProgressEntry) *liveView {
	l := &liveView{Position: ro.QueuePosition, Ahead: max(ro.QueuePosition-1, 0), LimitS: ro.TimeLimitSeconds, Phase: "starting"}
	if ro.Status == "queued" {
		l.Phase = "queued"
	}
	for _, pe := range progress {
		l.Improvements++
		l.ElapsedS = int(pe.ElapsedMS / 1000)
		if pe.Hard == 0 {
			l.Phase = "improving"
		} else if l.Phase != "improving" {
			l.Phase = "searching"
		}
	}
	return l
}

// violationRow is a broken hard rule in the page's words.
type violationRow struct {
	Who  string
	Day  string
	Rule string
}

// summaryRow is one line of "what the roster could not satisfy", counted in the manager's units.
type summaryRow struct {
	Key   string // plan.sum.<key>
	Value string
	Group string
	Bad   bool
}

// hoursCell is a person's hours in one ISO week, as text.
type hoursCell struct {
	WeekHours
	Planned, Expected, Diff string
}

// hoursRow is a person's hours per ISO week of the roster against their contract.
type hoursRow struct {
	StaffID   int64
	Name      string
	Code      string
	Contract  string
	Weeks     []hoursCell
	Total     hoursCell
	Highlight bool // the person just edited
}

// shiftOption is a choice of the edit form: a template worked for a skill group, or a day off ("").
type shiftOption struct {
	Value string
	Label string
}

// effectsView shows the consequences of the last edit, from the redirect's query.
type effectsView struct {
	Uncovered, Shortfall, Preferences [2]int
	Who, Day                          string
}

// hm formats minutes as hours and minutes ("36h00", "−1h30").
func hm(minutes int) string {
	sign := ""
	if minutes < 0 {
		sign, minutes = "−", -minutes
	}
	return fmt.Sprintf("%s%dh%02d", sign, minutes/60, minutes%60)
}

func newHoursCell(h WeekHours) hoursCell {
	c := hoursCell{WeekHours: h, Planned: hm(h.Minutes), Expected: hm(h.Expected)}
	if d := h.Minutes - h.Expected; d > 0 {
		c.Diff = "+" + hm(d)
	} else if d < 0 {
		c.Diff = hm(d)
	}
	return c
}

// hoursRows counts each person's planned hours per ISO week and over the period against their contract.
func hoursRows(st *stored, highlight int64) (weeks []string, rows []hoursRow) {
	p := st.P
	n := p.weekOf(p.In.Days-1) + 1
	for w := range n {
		days := p.weekDays(w)
		_, wk := p.In.Date(days[0]).ISOWeek()
		weeks = append(weeks, strconv.Itoa(wk))
	}
	for e, mb := range p.In.Staff {
		row := hoursRow{StaffID: mb.ID, Name: mb.Name, Code: mb.Code, Contract: hm(mb.Contract.WeeklyMinutes), Highlight: mb.ID == highlight}
		var total WeekHours
		for w := range n {
			h := p.weekHours(st.Cells, e, w)
			total.Minutes += h.Minutes
			row.Weeks = append(row.Weeks, newHoursCell(h))
		}
		total.Expected = p.Expected[e]
		tol := int(float64(total.Expected)*minutesTolerance + 0.5)
		total.Status = "ok"
		if total.Minutes > total.Expected+tol {
			total.Status = "over"
		} else if total.Minutes < total.Expected-tol {
			total.Status = "under"
		}
		row.Total = newHoursCell(total)
		rows = append(rows, row)
	}
	return weeks, rows
}

// shiftOptions lists the edit form's choices: a day off, then each template for each skill group.
func shiftOptions(lang string, p *Problem) []shiftOption {
	out := []shiftOption{{Value: "", Label: web.Translate(lang, "plan.edit.off")}}
	for _, t := range p.In.Templates {
		for _, g := range p.In.Groups {
			out = append(out, shiftOption{Value: fmt.Sprintf("%d/%s", t.ID, g),
				Label: fmt.Sprintf("%s %s–%s · %s", t.Code, t.Start, t.End, g)})
		}
	}
	return out
}

// summaryRows says what the roster could not satisfy, in the manager's units.
func summaryRows(st *stored, res *Result) []summaryRow {
	p := st.P
	rows := []summaryRow{
		{Key: "uncovered", Value: strconv.Itoa(res.Uncovered), Bad: res.Uncovered > 0},
		{Key: "shortfall", Value: strconv.Itoa(res.Shortfall), Bad: res.Shortfall > 0},
	}
	over, prefs, rules, changes := 0, 0, 0, -1
	for _, c := range res.Costs {
		switch c.Term {
		case "over_coverage":
			over += c.Count
		case "preferences":
			prefs = c.Count
		case "office_rules":
			rules = c.Count
		case "changes":
			changes = c.Count
		}
	}
	rows = append(rows, summaryRow{Key: "over", Value: strconv.Itoa(over)},
		summaryRow{Key: "preferences", Value: strconv.Itoa(prefs), Bad: prefs > 0})
	overH, underH := 0, 0
	for _, s := range res.Staff {
		if d := s.Minutes - s.Expected; d > 0 {
			overH += d
		} else {
			underH -= d
		}
	}
	rows = append(rows, summaryRow{Key: "over_contract", Value: hm(overH)}, summaryRow{Key: "under_contract", Value: hm(underH)})
	for _, b := range p.Model.Balance {
		lo, hi := -1, 0
		for _, row := range st.Cells {
			n := balanceCount(b, row)
			hi = max(hi, n)
			if lo < 0 || n < lo {
				lo = n
			}
		}
		rows = append(rows, summaryRow{Key: "spread", Group: b.Name, Value: fmt.Sprintf("%d–%d", max(lo, 0), hi)})
	}
	if rules > 0 {
		rows = append(rows, summaryRow{Key: "office_rules", Value: strconv.Itoa(rules), Bad: true})
	}
	if changes >= 0 {
		rows = append(rows, summaryRow{Key: "changes", Value: strconv.Itoa(changes)})
	}
	return rows
}

// violationRows names the broken hard rules of a result in lang.
func violationRows(lang string, p *Problem, res *Result) []violationRow {
	names := map[string]string{}
	for _, mb := range p.In.Staff {
		names[mb.Code] = mb.Name
	}
	var out []violationRow
	for _, v := range res.HardViolations {
		r := violationRow{Who: cmpOr(names[v.Staff], v.Staff), Rule: RuleText(lang, v.Rule)}
		if day, err := time.Parse(time.DateOnly, v.Day); err == nil {
			r.Day = dayLabel(lang, day)
		}
		out = append(out, r)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// editDays lists the shown week's days in the period for the edit form.
func (v *rosterView) editDays() []shiftOption {
	var out []shiftOption
	for _, c := range v.Days {
		if c.InSpan {
			out = append(out, shiftOption{Value: c.Date, Label: c.Label})
		}
	}
	return out
}

// effectsOf reads the last edit's effects from the redirect's query (fx=ub.ua.sb.sa.pb.pa, who, day).
func effectsOf(q url.Values, p *Problem, lang string) *effectsView {
	parts := strings.Split(q.Get("fx"), ".")
	if len(parts) != 6 {
		return nil
	}
	var n [6]int
	for i, s := range parts {
		x, err := strconv.Atoi(s)
		if err != nil {
			return nil
		}
		n[i] = x
	}
	fx := &effectsView{Uncovered: [2]int{n[0], n[1]}, Shortfall: [2]int{n[2], n[3]}, Preferences: [2]int{n[4], n[5]}}
	if id, err := strconv.ParseInt(q.Get("who"), 10, 64); err == nil {
		if e, ok := p.staffIndex(id); ok {
			fx.Who = p.In.Staff[e].Name
		}
	}
	if day, err := time.Parse(time.DateOnly, q.Get("day")); err == nil {
		fx.Day = dayLabel(lang, day)
	}
	return fx
}

// effectsQuery encodes an edit's effects for the redirect back to the roster.
func effectsQuery(fx EditEffects) string {
	return fmt.Sprintf("%d.%d.%d.%d.%d.%d", fx.UncoveredBefore, fx.UncoveredAfter, fx.ShortfallBefore, fx.ShortfallAfter,
		fx.PreferencesBefore, fx.PreferencesAfter)
}

// parseShiftOption splits an edit form's shift value ("templateID/group", "" for a day off).
func parseShiftOption(s string) (tplID int64, group string, err error) {
	if s == "" {
		return 0, "", nil
	}
	id, g, ok := strings.Cut(s, "/")
	if tplID, err = strconv.ParseInt(id, 10, 64); !ok || err != nil {
		return 0, "", web.InvalidField("template_id", "choose a shift or a day off")
	}
	return tplID, g, nil
}

// maxGapsShown bounds the uncovered slots the publication's confirmation lists.
const maxGapsShown = 40
