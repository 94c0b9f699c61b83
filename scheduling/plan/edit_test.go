package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"turno/scheduling/roster"
	"turno/ticketing/ticketingtest"
)

// editOutcome is the answer to PUT /api/v1/rosters/{id}/assignments.
type editOutcome struct {
	Change  *Change
	Effects EditEffects
	Roster  *Roster
	Error   struct{ Code, Message, Field string }
}

// rosterCounts counts a roster's assignments and changes and reads its result's uncovered slots.
func rosterCounts(t *testing.T, e *planEnv, id int64) (assignments, changes int, result string) {
	t.Helper()
	if err := e.Pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM roster_assignments WHERE roster_id = $1),
		(SELECT count(*) FROM roster_changes WHERE roster_id = $1), (SELECT result::text FROM rosters WHERE id = $1)`, id).
		Scan(&assignments, &changes, &result); err != nil {
		t.Fatal(err)
	}
	return assignments, changes, result
}

// TestShiftEdit: a manager changes a person's day in a draft roster. An edit within every rule is saved
// (assignment, change "manual", re-evaluated result, its effects reported); an edit for a group the person
// lacks or onto their absence is a 422 naming the rule, in Italian by default, and writes nothing; another
// office's manager, an operator and another office's staff member are refused; a published roster is a 409.
func TestShiftEdit(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := context.Background()
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 7, 3)
	st, err := e.Planner.load(ctx, v.Roster)
	if err != nil {
		t.Fatal(err)
	}
	p := st.P
	path := fmt.Sprintf("/api/v1/rosters/%d/assignments", v.ID)
	edit := func(token, body, lang string) (int, editOutcome) {
		t.Helper()
		req, err := http.NewRequest("PUT", e.Server.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out editOutcome
		b, _ := io.ReadAll(res.Body)
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("PUT %s: %s: %v", path, b, err)
		}
		return res.StatusCode, out
	}
	body := func(staff int64, day time.Time, tpl int64, group string, dry bool) string {
		return fmt.Sprintf(`{"staff_id":%d,"day":%q,"template_id":%d,"skill_group":%q,"dry_run":%t}`,
			staff, day.Format(time.DateOnly), tpl, group, dry)
	}

	// A valid edit: the first (person, day, shift) the dry run accepts among people free that day.
	var staffID, tplID int64
	var group string
	var day time.Time
	tries := 0
search:
	for d := range p.In.Days {
		for ei, mb := range p.In.Staff {
			if st.Cells[ei][d] != roster.Off {
				continue
			}
			for _, tp := range p.In.Templates {
				for g, lvl := range mb.Groups {
					if lvl == "" || tries > 60 {
						continue
					}
					tries++
					if status, _ := edit(manager, body(mb.ID, p.In.Date(d), tp.ID, g, true), ""); status == http.StatusOK {
						staffID, tplID, group, day = mb.ID, tp.ID, g, p.In.Date(d)
						break search
					}
				}
			}
		}
	}
	if staffID == 0 {
		t.Fatalf("no valid edit found in %d dry runs", tries)
	}
	a0, c0, r0 := rosterCounts(t, e, v.ID)
	status, out := edit(manager, body(staffID, day, tplID, group, false), "")
	if status != http.StatusOK || out.Change == nil {
		t.Fatalf("valid edit: status %d %+v", status, out.Error)
	}
	if out.Change.Reason != "manual" || out.Change.Before != "" || out.Change.After == "" || out.Change.AfterGroup != group {
		t.Errorf("change %+v, want manual from a free day to a shift of %s", out.Change, group)
	}
	a1, c1, r1 := rosterCounts(t, e, v.ID)
	if a1 != a0+1 || c1 != c0+1 || r1 == r0 {
		t.Errorf("after the edit: %d assignments (was %d), %d changes (was %d), result changed %v", a1, a0, c1, c0, r1 != r0)
	}
	var n int
	if err := e.Pool.QueryRow(ctx, `SELECT count(*) FROM roster_assignments WHERE roster_id = $1 AND staff_id = $2 AND day = $3
		AND template_id = $4 AND skill_group = $5`, v.ID, staffID, day, tplID, group).Scan(&n); err != nil || n != 1 {
		t.Errorf("the edited assignment is stored %d times (%v)", n, err)
	}
	res := resultOf(t, &RosterView{Roster: out.Roster})
	if res.Uncovered != out.Effects.UncoveredAfter || res.Shortfall != out.Effects.ShortfallAfter {
		t.Errorf("stored result %d uncovered, %d short; the edit reported %+v", res.Uncovered, res.Shortfall, out.Effects)
	}
	if w := out.Effects.Week; w.Minutes <= w.MinutesBefore || w.Contract == 0 || w.Status == "" {
		t.Errorf("week hours after adding a shift: %+v", w)
	}
	t.Logf("edit %d %s %d/%s: uncovered %d → %d, shortfall %d → %d, week %d → %d min of %d expected",
		staffID, day.Format(time.DateOnly), tplID, group, out.Effects.UncoveredBefore, out.Effects.UncoveredAfter,
		out.Effects.ShortfallBefore, out.Effects.ShortfallAfter, out.Effects.Week.MinutesBefore, out.Effects.Week.Minutes, out.Effects.Week.Expected)

	// Hard rules: a group the person lacks; a shift on their absence. Nothing is written.
	a0, c0, r0 = rosterCounts(t, e, v.ID)
	refused := 0
	for ei, mb := range p.In.Staff {
		for _, g := range p.In.Groups {
			if _, ok := mb.Groups[g]; ok || refused > 0 {
				continue
			}
			d := 0
			for d < p.In.Days && (len(p.In.Open[d]) == 0 || st.Cells[ei][d] != roster.Off) {
				d++
			}
			if d == p.In.Days {
				continue
			}
			status, out := edit(manager, body(mb.ID, p.In.Date(d), p.In.Templates[0].ID, g, false), "")
			if status != http.StatusUnprocessableEntity || out.Error.Code != "breaks_not_qualified" ||
				!strings.Contains(out.Error.Message, "competenza") || !strings.Contains(out.Error.Message, mb.Name) {
				t.Errorf("%s in %s: status %d %+v, want 422 breaks_not_qualified in Italian", mb.Code, g, status, out.Error)
			}
			status, out = edit(manager, body(mb.ID, p.In.Date(d), p.In.Templates[0].ID, g, false), "en")
			if status != http.StatusUnprocessableEntity || !strings.Contains(out.Error.Message, "skill") {
				t.Errorf("in English: %d %+v", status, out.Error)
			}
			refused++
		}
	}
	for _, a := range p.In.Absences {
		ei, ok := p.staffIndex(a.StaffID)
		if !ok {
			continue
		}
		for d := range p.In.Days {
			for ti, tp := range p.In.Templates {
				g := -1
				for gi, name := range p.In.Groups {
					if _, ok := p.In.Staff[ei].Groups[name]; ok && g < 0 {
						g = gi
					}
				}
				if g < 0 || !p.Blocked[ei][d][ti] || !p.Usable[d][ti] || st.Cells[ei][d] == p.shiftOf(ti, g) {
					continue
				}
				status, out := edit(manager, body(a.StaffID, p.In.Date(d), tp.ID, p.In.Groups[g], false), "it")
				if status != http.StatusUnprocessableEntity || !strings.HasPrefix(out.Error.Code, "breaks_") ||
					!strings.Contains(out.Error.Message, "Modifica non consentita") {
					t.Errorf("shift on an absence: status %d %+v", status, out.Error)
				}
				refused++
				goto absenceDone
			}
		}
	}
absenceDone:
	if refused < 2 {
		t.Fatalf("only %d hard-rule edits tried; the demo should offer a missing skill and an absence", refused)
	}
	if a, c, r := rosterCounts(t, e, v.ID); a != a0 || c != c0 || r != r0 {
		t.Errorf("refused edits wrote: %d assignments (was %d), %d changes (was %d), result changed %v", a, a0, c, c0, r != r0)
	}

	// Bad input and other callers.
	var otherOffice, otherStaff int64
	if err := e.Pool.QueryRow(ctx, `INSERT INTO offices (slug, name) VALUES ('altra', 'Altra sede') RETURNING id`).Scan(&otherOffice); err != nil {
		t.Fatal(err)
	}
	if err := e.Pool.QueryRow(ctx, `INSERT INTO staff (office_id, code, full_name) VALUES ($1, 'X1', 'Altro Operatore') RETURNING id`, otherOffice).Scan(&otherStaff); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Auth.CreateUser(ctx, authUser("altra-manager", otherOffice), true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, token, body, code string
		status                  int
	}{
		{"another office's manager", e.Login(t, "altra-manager"), body(staffID, day, 0, "", false), "other_office", http.StatusForbidden},
		{"an operator", e.Login(t, "op1"), body(staffID, day, 0, "", false), "forbidden", http.StatusForbidden},
		{"another office's staff member", manager, body(otherStaff, day, tplID, group, false), "invalid_staff_id", 422},
		{"a day outside the roster", manager, body(staffID, day.AddDate(0, 0, 30), 0, "", false), "invalid_day", 422},
		{"an unknown template", manager, body(staffID, day, 999999, group, false), "invalid_template_id", 422},
		{"an unknown group", manager, body(staffID, day, tplID, "nessuno", false), "invalid_skill_group", 422},
		{"no change", manager, body(staffID, day, tplID, group, false), "no_change", 422},
	} {
		if status, out := edit(c.token, c.body, ""); status != c.status || (c.code != "forbidden" && out.Error.Code != c.code) {
			t.Errorf("%s: status %d %+v, want %d %s", c.name, status, out.Error, c.status, c.code)
		}
	}
	if a, c, _ := rosterCounts(t, e, v.ID); a != a0 || c != c0 {
		t.Errorf("refused requests wrote: %d assignments (was %d), %d changes (was %d)", a, a0, c, c0)
	}

	// A published roster is not edited.
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID), manager, `{"accept_gaps":true}`, nil); st != http.StatusOK {
		t.Fatalf("publish: %d", st)
	}
	if status, out := edit(manager, body(staffID, day, 0, "", false), ""); status != http.StatusConflict || out.Error.Code != "not_draft" {
		t.Errorf("editing a published roster: status %d %+v, want 409 not_draft", status, out.Error)
	}
}

// TestPublishWithGaps: a draft that leaves slots uncovered is published only with accept_gaps; the page
// lists the slots and asks for the confirmation.
func TestPublishWithGaps(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := context.Background()
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 7, 3)
	if res := resultOf(t, v); res.Uncovered == 0 {
		// Without gaps an empty body publishes, as before; then plan the week again to make gaps in.
		var r Roster
		if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID), manager, "", &r); st != http.StatusOK || r.Status != "published" {
			t.Fatalf("publish without gaps and without a body: %d %s", st, r.Status)
		}
		v = e.solveRoster(t, manager, nextMonday, 7, 3)
	}
	// Tuesday loses everyone: its slots with demand are uncovered.
	tuesday := nextMonday.AddDate(0, 0, 1)
	if _, err := e.Pool.Exec(ctx, `DELETE FROM roster_assignments WHERE roster_id = $1 AND day = $2`, v.ID, tuesday); err != nil {
		t.Fatal(err)
	}
	if err := e.Planner.reexplain(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	ro, err := e.Planner.Roster(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	res := resultOf(t, &RosterView{Roster: ro})
	if res.Uncovered == 0 {
		t.Fatal("no uncovered slot with nobody at work on Tuesday")
	}
	publish := fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID)
	for _, b := range []string{"", `{}`, `{"accept_gaps":false}`} {
		var got apiError
		if st := e.call(t, "POST", publish, manager, b, &got); st != http.StatusConflict || got.Error.Code != "uncovered_slots" {
			t.Errorf("publish with gaps, body %q: status %d %+v, want 409 uncovered_slots", b, st, got.Error)
		}
	}
	var got apiError
	if st := e.call(t, "POST", publish, manager, `{"accept_gaps":"yes"}`, &got); st != 422 || got.Error.Field != "accept_gaps" {
		t.Errorf("accept_gaps as a string: status %d %+v, want 422 on accept_gaps", st, got.Error)
	}

	// The page lists the gaps and asks; its form without the confirmation does not publish.
	page := func() string {
		res := ticketingtest.Do(t, "GET", fmt.Sprintf("%s/manage/rosters/%d?lang=it", e.Server.URL, v.ID), manager, "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("roster page: status %d", res.StatusCode)
		}
		return string(b)
	}
	html := page()
	for _, want := range []string{fmt.Sprintf(`id="gap-count">%d<`, res.Uncovered), `id="accept-gaps"`, `id="gaps"`, "Pubblica comunque"} {
		if !strings.Contains(html, want) {
			t.Errorf("the roster page does not show %s", want)
		}
	}
	form := func(values url.Values) *http.Response {
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/manage/rosters/%d/publish?lang=it", e.Server.URL, v.ID), strings.NewReader(values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+manager)
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := form(url.Values{}); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "error=") {
		t.Errorf("page publish without confirmation: %d to %s, want a redirect with the error", res.StatusCode, res.Header.Get("Location"))
	}
	if ro, _ := e.Planner.Roster(ctx, v.ID); ro.Status != "draft" {
		t.Fatalf("published without confirmation: %s", ro.Status)
	}
	if res := form(url.Values{"accept_gaps": {"yes"}}); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=published") {
		t.Errorf("page publish with confirmation: %d to %s", res.StatusCode, res.Header.Get("Location"))
	}
	if ro, _ := e.Planner.Roster(ctx, v.ID); ro.Status != "published" {
		t.Errorf("after the confirmed publication the roster is %s", ro.Status)
	}
}
