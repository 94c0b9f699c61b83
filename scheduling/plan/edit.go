package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/scheduling/roster"
	"turno/ticketing"
)

// ShiftEdit is a manager's change of one person's day in a draft roster: the shift they work that day
// (a template, for a skill group), or a day off when TemplateID is zero.
type ShiftEdit struct {
	StaffID    int64  `json:"staff_id"`
	Day        string `json:"day"`
	TemplateID int64  `json:"template_id"`
	// Group is the skill group the shift covers; empty picks the group of the person's current shift that
	// day, else their first primary group, else their first secondary one.
	Group string `json:"skill_group"`
	// DryRun checks the edit and reports its effects without saving it.
	DryRun bool `json:"dry_run"`
}

// EditEffects are the consequences of an edit on the soft goals: coverage, preferences and the person's
// hours, before and after.
type EditEffects struct {
	UncoveredBefore   int `json:"uncovered_before"`
	UncoveredAfter    int `json:"uncovered_after"`
	ShortfallBefore   int `json:"shortfall_before"`
	ShortfallAfter    int `json:"shortfall_after"`
	PreferencesBefore int `json:"preferences_missed_before"`
	PreferencesAfter  int `json:"preferences_missed_after"`
	// Week is the person's ISO week of the edited day: planned minutes before and after, against the
	// contract's.
	Week WeekHours `json:"week"`
}

// EditResult answers an edit: the change stored (nil for a dry run), its effects and the roster.
type EditResult struct {
	Change  *Change     `json:"change,omitempty"`
	Effects EditEffects `json:"effects"`
	Roster  *Roster     `json:"roster"`
}

// WeekHours is one person's planned minutes in one ISO week of a roster against their contract.
type WeekHours struct {
	// Week is the ISO week ("2026-W24"); From and To the days of the roster in it.
	Week string `json:"week"`
	From string `json:"from"`
	To   string `json:"to"`
	// Minutes are planned; MinutesBefore (edits only) were planned before the edit.
	Minutes       int `json:"minutes"`
	MinutesBefore int `json:"minutes_before,omitempty"`
	// Contract is the contract's weekly minutes; Expected what it asks of this week (pro rata for a
	// week the roster covers in part, less holidays, closures and absences), as the solver counts it.
	Contract int `json:"contract_minutes"`
	Expected int `json:"expected_minutes"`
	// Status is "over" or "under" when the minutes stray more than the solver's tolerance from Expected,
	// else "ok".
	Status string `json:"status"`
}

// ruleCodes names the hard rules for programs and translations (plan.rule.<code>): the generic model's
// violation kinds and the office rules the planner checks itself.
var ruleCodes = map[string]string{
	roster.MaxShiftsViolation.String():         "not_qualified",
	roster.MinMinutesViolation.String():        "min_hours",
	roster.MaxMinutesViolation.String():        "max_hours",
	roster.SuccessionViolation.String():        "succession",
	roster.MinRestViolation.String():           "min_rest",
	roster.MaxConsecutiveViolation.String():    "max_consecutive",
	roster.MinConsecutiveViolation.String():    "min_consecutive",
	roster.MinConsecutiveOffViolation.String(): "min_consecutive_off",
	roster.MaxWeekendsViolation.String():       "max_weekends",
	roster.MaxSaturdaysViolation.String():      "max_saturdays",
	roster.UnavailableViolation.String():       "unavailable",
	ruleTemplateNotUsable:                      "template_not_usable",
	ruleAbsence:                                "absence",
	ruleMaxDaysPerWeek:                         "max_days_week",
}

// The office rules' names in HardViolation.Rule.
const (
	ruleTemplateNotUsable = "template not usable"
	ruleAbsence           = "absence"
	ruleMaxDaysPerWeek    = "max days per week"
)

// ruleCode returns the stable code of a hard rule's name.
func ruleCode(rule string) string {
	if c, ok := ruleCodes[rule]; ok {
		return c
	}
	return strings.ReplaceAll(rule, " ", "_")
}

// RuleText names a broken hard rule in lang, for people.
func RuleText(lang, rule string) string { return web.Translate(lang, "plan.rule."+ruleCode(rule)) }

// dayLabel is a day as the roster pages show it: the weekday and dd/mm, in lang.
func dayLabel(lang string, day time.Time) string {
	return web.Translate(lang, "plan.wd."+weekdayKeys[day.Weekday()]) + " " + day.Format("02/01")
}

// EditShift validates an edit of a draft roster against the rules the solver holds (skills and allowed
// templates, the contract's hours, days and Saturdays, rest between shifts, absences, the templates' days
// and opening hours) and saves it with a change of reason "manual", re-evaluating the roster's result.
// An edit that breaks a hard rule is refused with a 422 whose code names the first rule broken
// (breaks_<rule>) and whose message, in lang, lists them all; nothing is written then.
func (pl *Planner) EditShift(ctx context.Context, ro *Roster, ed ShiftEdit, lang string, uid *int64) (*EditResult, error) {
	if ro.Status != "draft" {
		return nil, web.Conflict("not_draft", "only a draft can be edited; this roster is %s", ro.Status)
	}
	if ed.StaffID == 0 {
		return nil, web.InvalidField("staff_id", "staff_id is required")
	}
	day, err := parseDay("day", ed.Day)
	if err != nil {
		return nil, err
	}
	st, err := pl.load(ctx, ro)
	if err != nil {
		return nil, err
	}
	p := st.P
	d := int(day.Sub(p.In.From).Hours() / 24)
	if d < 0 || d >= p.In.Days {
		return nil, web.InvalidField("day", "the roster covers %s to %s", ro.From, ro.To)
	}
	e, ok := p.staffIndex(ed.StaffID)
	if !ok {
		return nil, web.InvalidField("staff_id", "staff member %d is not planned in this roster (another office, inactive or without a contract)", ed.StaffID)
	}
	old := st.Cells[e][d]
	v := roster.Off
	if ed.TemplateID != 0 {
		t, ok := p.templateIndex(ed.TemplateID)
		if !ok {
			return nil, web.InvalidField("template_id", "no active shift template %d in this office", ed.TemplateID)
		}
		g, err := p.editGroup(e, old, ed.Group)
		if err != nil {
			return nil, err
		}
		v = p.shiftOf(t, g)
	}
	if v == old {
		return nil, &web.Error{Status: http.StatusUnprocessableEntity, Code: "no_change", Field: "template_id",
			Message: web.Translate(lang, "plan.edit.no_change")}
	}
	after := st.Cells.Clone()
	after[e][d] = v
	if err := p.checkEdit(lang, st.Cells, after); err != nil {
		return nil, err
	}
	resBefore, err := p.Explain(st.Cells)
	if err != nil {
		return nil, err
	}
	resAfter, err := p.Explain(after)
	if err != nil {
		return nil, err
	}
	fx := EditEffects{UncoveredBefore: resBefore.Uncovered, UncoveredAfter: resAfter.Uncovered,
		ShortfallBefore: resBefore.Shortfall, ShortfallAfter: resAfter.Shortfall,
		PreferencesBefore: preferencesMissed(resBefore), PreferencesAfter: preferencesMissed(resAfter)}
	w := p.weekOf(d)
	fx.Week = p.weekHours(after, e, w)
	fx.Week.MinutesBefore = p.weekHours(st.Cells, e, w).Minutes
	out := &EditResult{Effects: fx, Roster: ro}
	if ed.DryRun {
		return out, nil
	}
	var old2 Result
	_ = json.Unmarshal(ro.Result, &old2) // solve statistics are kept when readable, as in reexplain
	resAfter.TimeToFeasibleMS, resAfter.ElapsedMS, resAfter.Rounds = old2.TimeToFeasibleMS, old2.ElapsedMS, old2.Rounds
	resAfter.Note = "re-evaluated after a change"
	b, err := json.Marshal(resAfter)
	if err != nil {
		return nil, err
	}
	var before, afterTpl *int64
	var beforeGroup, afterGroup *string
	if old != roster.Off {
		id := p.In.Templates[p.ShiftTemplate[old]].ID
		before, beforeGroup = &id, &p.In.Groups[p.ShiftGroup[old]]
	}
	if v != roster.Off {
		id := p.In.Templates[p.ShiftTemplate[v]].ID
		afterTpl, afterGroup = &id, &p.In.Groups[p.ShiftGroup[v]]
	}
	var changeID int64
	err = pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM rosters WHERE id = $1 FOR UPDATE`, ro.ID).Scan(&status); err != nil {
			return fmt.Errorf("plan: lock roster: %w", err)
		}
		if status != "draft" {
			return web.Conflict("not_draft", "only a draft can be edited; this roster is %s", status)
		}
		// The day must still be what the edit was checked against.
		var curTpl *int64
		var curGroup *string
		err := tx.QueryRow(ctx, `DELETE FROM roster_assignments WHERE roster_id = $1 AND staff_id = $2 AND day = $3
			RETURNING template_id, skill_group`, ro.ID, ed.StaffID, day).Scan(&curTpl, &curGroup)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("plan: edit assignment: %w", err)
		}
		if !sameCell(curTpl, curGroup, before, beforeGroup) {
			return web.Conflict("roster_changed", "the roster changed meanwhile; reload it")
		}
		if afterTpl != nil {
			if _, err := tx.Exec(ctx, `INSERT INTO roster_assignments (roster_id, staff_id, day, template_id, skill_group)
				VALUES ($1, $2, $3, $4, $5)`, ro.ID, ed.StaffID, day, *afterTpl, *afterGroup); err != nil {
				return fmt.Errorf("plan: edit assignment: %w", err)
			}
		}
		if err := tx.QueryRow(ctx, `INSERT INTO roster_changes (roster_id, staff_id, day, before_template, after_template, reason,
				changed_by, before_group, after_group)
			VALUES ($1, $2, $3, $4, $5, 'manual', $6, $7, $8) RETURNING id`,
			ro.ID, ed.StaffID, day, before, afterTpl, uid, beforeGroup, afterGroup).Scan(&changeID); err != nil {
			return fmt.Errorf("plan: record edit: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE rosters SET result = $2 WHERE id = $1`, ro.ID, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	changes, err := pl.changes(ctx, `c.id = $1`, changeID)
	if err != nil {
		return nil, err
	}
	if len(changes) == 1 {
		out.Change = &changes[0]
	}
	out.Roster, err = pl.Roster(ctx, ro.ID)
	return out, err
}

// sameCell reports whether a stored day (template and group, nil when free) is the expected one.
func sameCell(tpl *int64, group *string, wantTpl *int64, wantGroup *string) bool {
	if (tpl == nil) != (wantTpl == nil) {
		return false
	}
	return tpl == nil || (*tpl == *wantTpl && group != nil && wantGroup != nil && *group == *wantGroup)
}

// editGroup resolves the skill group of an edited shift of member e whose day holds old.
func (p *Problem) editGroup(e, old int, group string) (int, error) {
	if group != "" {
		g, ok := p.groupIndex[group]
		if !ok {
			return 0, web.InvalidField("skill_group", "%q is not a skill group of this office", group)
		}
		return g, nil
	}
	if old != roster.Off {
		return p.ShiftGroup[old], nil
	}
	levels := p.In.Staff[e].Groups
	for _, want := range []ticketing.SkillLevel{ticketing.Primary, ticketing.Secondary} {
		for g, name := range p.In.Groups {
			if levels[name] == want {
				return g, nil
			}
		}
	}
	return 0, nil // nobody's group: the check refuses the shift as not qualified
}

// checkEdit refuses an edit from before to after that breaks a hard rule it did not break before, with a
// 422 whose message lists the new violations in lang.
func (p *Problem) checkEdit(lang string, before, after roster.Roster) error {
	vb, _, err := p.Violations(before)
	if err != nil {
		return err
	}
	va, _, err := p.Violations(after)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	key := func(v HardViolation) string { return v.Staff + "|" + v.Rule + "|" + v.Day }
	for _, v := range vb {
		seen[key(v)]++
	}
	var fresh []HardViolation
	for _, v := range va {
		if seen[key(v)] > 0 {
			seen[key(v)]--
			continue
		}
		fresh = append(fresh, v)
	}
	if len(fresh) == 0 {
		return nil
	}
	names := map[string]string{}
	for _, mb := range p.In.Staff {
		names[mb.Code] = mb.Name
	}
	var msgs []string
	for _, v := range fresh {
		who := names[v.Staff]
		if v.Day != "" {
			if day, err := time.Parse(time.DateOnly, v.Day); err == nil {
				who += ", " + dayLabel(lang, day)
			}
		}
		msgs = append(msgs, who+": "+RuleText(lang, v.Rule))
	}
	return &web.Error{Status: http.StatusUnprocessableEntity, Code: "breaks_" + ruleCode(fresh[0].Rule), Field: "template_id",
		Message: web.Translate(lang, "plan.edit.refused") + " " + strings.Join(msgs, "; ") + "."}
}

// preferencesMissed is the number of preferences a result does not grant.
func preferencesMissed(res *Result) int {
	for _, c := range res.Costs {
		if c.Term == "preferences" {
			return c.Count
		}
	}
	return 0
}

// weekDays returns the period's days in ISO week w of the period.
func (p *Problem) weekDays(w int) []int {
	var out []int
	for d := range p.In.Days {
		if p.weekOf(d) == w {
			out = append(out, d)
		}
	}
	return out
}

// weekHours counts member e's planned minutes in ISO week w of the period against what their contract
// asks of that week. Expected follows addStaff: the weekly minutes pro rata for the days of the week in
// the period, less a day's share (weekly minutes over the days worked a week) for each normally open day
// the member cannot work (holiday, closure, absence).
func (p *Problem) weekHours(r roster.Roster, e, w int) WeekHours {
	in := p.In
	c := in.Staff[e].Contract
	days := p.weekDays(w)
	normally := p.normallyOpen()
	openDays := 0
	for wd := 1; wd <= 7; wd++ {
		if normally[wd] {
			openDays++
		}
	}
	perDay := 0.0
	if div := min(c.MaxDaysPerWeek, openDays); div > 0 {
		perDay = float64(c.WeeklyMinutes) / float64(div)
	}
	h := WeekHours{Contract: c.WeeklyMinutes}
	if len(days) == 0 {
		return h
	}
	y, wk := in.Date(days[0]).ISOWeek()
	h.Week = fmt.Sprintf("%d-W%02d", y, wk)
	h.From, h.To = in.Date(days[0]).Format(time.DateOnly), in.Date(days[len(days)-1]).Format(time.DateOnly)
	lost := 0
	for _, d := range days {
		if s := r[e][d]; s != roster.Off {
			h.Minutes += p.Model.Shifts[s].Duration
		}
		if !p.workable(e, d) && normally[ticketing.ISOWeekday(in.Date(d))] {
			lost++
		}
	}
	expected := float64(c.WeeklyMinutes)*float64(len(days))/7 - perDay*float64(lost)
	h.Expected = max(0, int(expected+0.5))
	tol := int(float64(h.Expected)*minutesTolerance + 0.5)
	switch {
	case h.Minutes > h.Expected+tol:
		h.Status = "over"
	case h.Minutes < h.Expected-tol:
		h.Status = "under"
	default:
		h.Status = "ok"
	}
	return h
}

// gap is a run of consecutive slots of one day and group with demand and nobody planned.
type gap struct {
	Day   string
	Label string // weekday and dd/mm in the page's language
	From  string
	To    string
	Group string
}

// gapsOf lists the uncovered slots of a result as runs per day and group, in order of day, group and time.
func gapsOf(lang string, res *Result, slotMinutes int) []gap {
	type key struct{ day, group string }
	runs := map[key][]string{}
	var keys []key
	for _, c := range res.Coverage {
		if c.Needed == 0 || c.Planned > 0 {
			continue
		}
		k := key{c.Day, c.Group}
		if _, ok := runs[k]; !ok {
			keys = append(keys, k)
		}
		runs[k] = append(runs[k], c.Slot)
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(a.day+a.group, b.day+b.group) })
	step := ticketing.TimeOfDay(max(slotMinutes, 1))
	var out []gap
	for _, k := range keys {
		slots := runs[k]
		slices.Sort(slots)
		label := k.day
		if day, err := time.Parse(time.DateOnly, k.day); err == nil {
			label = dayLabel(lang, day)
		}
		var cur *gap
		var end ticketing.TimeOfDay
		for _, s := range slots {
			t, err := ticketing.ParseTimeOfDay(s)
			if err != nil {
				continue
			}
			if cur != nil && t == end {
				end = t + step
				cur.To = end.String()
				continue
			}
			out = append(out, gap{Day: k.day, Label: label, From: t.String(), To: (t + step).String(), Group: k.group})
			cur, end = &out[len(out)-1], t+step
		}
	}
	return out
}
