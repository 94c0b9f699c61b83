package plan

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// TestAbsenceSubstitutes publishes two weeks of the demo roster, records a sickness on a day someone
// works, and checks every proposed substitute against the contract and rest rules computed here
// independently from the database; then applies the best one (the people affected see it in their
// shifts and calendar feed) and repairs a second absence with the solver.
func TestAbsenceSubstitutes(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := context.Background()
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 14, 5)
	var pub Roster
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID), manager, `{"accept_gaps":true}`, &pub); st != http.StatusOK || pub.Status != "published" || pub.Version != 1 {
		t.Fatalf("publish: status %d, roster %s v%d", st, pub.Status, pub.Version)
	}

	// The notice-board PDF has one A4 landscape page per week.
	res := ticketingtest.Do(t, "GET", fmt.Sprintf("%s/api/v1/rosters/%d.pdf", e.Server.URL, v.ID), manager, "")
	pdf, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("roster pdf: status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if pages := strings.Count(string(pdf), "/Type /Page\n"); pages != 2 {
		t.Errorf("roster pdf has %d pages, want one per week (2)", pages)
	}
	if !strings.Contains(string(pdf), "/MediaBox [0 0 841.89 595.28]") {
		t.Errorf("roster pdf is not A4 landscape")
	}

	// Someone working on the first Tuesday calls in sick at 7:45.
	tuesday := nextMonday.AddDate(0, 0, 1).Format(time.DateOnly)
	var absent Assignment
	for _, a := range v.Assignments {
		if a.Day == tuesday && a.Template != "P" && a.Group == "anagrafe" {
			absent = a
			break
		}
	}
	if absent.StaffID == 0 {
		t.Fatal("nobody works the first Tuesday morning")
	}
	var rec struct {
		Absence struct{ ID int64 }
		Holes   []Hole
	}
	body := fmt.Sprintf(`{"staff_id":%d,"kind":"sickness","starts_at":"%sT07:45","ends_at":"%sT20:00"}`, absent.StaffID, tuesday, tuesday)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/absences", v.ID), manager, body, &rec); st != http.StatusCreated {
		t.Fatalf("record absence: status %d", st)
	}
	if len(rec.Holes) != 1 || rec.Holes[0].Day != tuesday || rec.Holes[0].StaffID != absent.StaffID {
		t.Fatalf("holes %+v, want the Tuesday shift of %s", rec.Holes, absent.StaffName)
	}
	hole := rec.Holes[0]
	if len(hole.Candidates) == 0 {
		t.Fatalf("no substitute proposed for %+v", hole)
	}
	for i, c := range hole.Candidates {
		if c.StaffID == absent.StaffID {
			t.Errorf("the absent person is proposed")
		}
		if i > 0 && c.Score < hole.Candidates[i-1].Score {
			t.Errorf("candidates not ranked by score: %+v", hole.Candidates)
		}
		checkSubstitute(t, e, v.ID, c, hole)
	}

	// Apply the best proposal.
	best := hole.Candidates[0]
	var applied struct {
		Changes []Change
		Roster  Roster
	}
	body = fmt.Sprintf(`{"absence_id":%d,"staff_id":%d,"day":%q,"template_id":%d}`, rec.Absence.ID, best.StaffID, hole.Day, hole.TemplateID)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/repair", v.ID), manager, body, &applied); st != http.StatusOK {
		t.Fatalf("apply proposal: status %d", st)
	}
	if len(applied.Changes) != 2 {
		t.Errorf("changes %+v, want the absence and the substitution", applied.Changes)
	}
	var after RosterView
	e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", v.ID), manager, "", &after)
	if r := resultOf(t, &after); !r.Feasible {
		t.Errorf("roster after the substitution has hard violations: %+v", r.HardViolations)
	}
	gotSub := false
	for _, a := range after.Assignments {
		if a.Day == hole.Day && a.StaffID == absent.StaffID {
			t.Errorf("the absent person still works on %s", hole.Day)
		}
		gotSub = gotSub || (a.Day == hole.Day && a.StaffID == best.StaffID && a.TemplateID == hole.TemplateID && a.Group == hole.Group)
	}
	if !gotSub {
		t.Errorf("the substitute's shift is missing")
	}
	// Applying it again is refused: the shift is no longer open.
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/repair", v.ID), manager, body, nil); st != http.StatusConflict {
		t.Errorf("applying twice: status %d, want 409", st)
	}

	// The substitute's calendar feed has the shift; the absent person's has it cancelled.
	feed := func(staffID int64) string {
		var tok struct{ URL string }
		if st := e.call(t, "POST", fmt.Sprintf("/api/v1/offices/demo/staff/%d/feed-token", staffID), manager, "", &tok); st != http.StatusCreated {
			t.Fatalf("feed token: status %d", st)
		}
		path := tok.URL[strings.Index(tok.URL, "/ical/"):]
		res := ticketingtest.Do(t, "GET", e.Server.URL+path, "", "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
			t.Fatalf("feed: status %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		return string(b)
	}
	start := clock(t, hole.Starts).On(mustDate(hole.Day), e.Office.Location()).UTC().Format("20060102T150405Z")
	subFeed := feed(best.StaffID)
	if !strings.Contains(subFeed, "DTSTART:"+start) || !strings.Contains(subFeed, "SEQUENCE:1") {
		t.Errorf("substitute's feed lacks the new shift at %s:\n%s", start, subFeed)
	}
	if absFeed := feed(absent.StaffID); !strings.Contains(absFeed, "STATUS:CANCELLED") {
		t.Errorf("absent person's feed does not cancel the shift:\n%s", absFeed)
	}
	// RFC 5545: CRLF line ends, lines of at most 75 octets, one VEVENT per shift.
	for _, line := range strings.Split(strings.TrimSuffix(subFeed, "\r\n"), "\r\n") {
		if len(line) > 75 || strings.Contains(line, "\n") {
			t.Errorf("feed line %q breaks RFC 5545 line rules", line)
		}
	}
	if !strings.HasPrefix(subFeed, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || strings.Count(subFeed, "BEGIN:VEVENT") != strings.Count(subFeed, "END:VEVENT") {
		t.Errorf("malformed calendar:\n%s", subFeed)
	}
	if ticketingtest.Do(t, "GET", e.Server.URL+"/ical/staff/guess.ics", "", "").StatusCode != http.StatusNotFound {
		t.Errorf("a guessed feed token is served")
	}
	// A signed-in operator sees their changed shifts.
	var user string
	if err := e.Pool.QueryRow(ctx, `SELECT coalesce((SELECT username FROM users WHERE staff_id = $1), '')`, best.StaffID).Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != "" {
		var mine struct {
			Shifts  []Shift
			Changes []Change
		}
		if st := e.call(t, "GET", "/api/v1/me/shifts", e.Login(t, user), "", &mine); st != http.StatusOK {
			t.Fatalf("me/shifts: status %d", st)
		}
		found := false
		for _, s := range mine.Shifts {
			found = found || (s.Day == hole.Day && s.Changed)
		}
		if !found || len(mine.Changes) == 0 {
			t.Errorf("%s does not see the substitution: %+v", user, mine)
		}
	}

	// A second absence, repaired by the solver with the fewest changes.
	wednesday := nextMonday.AddDate(0, 0, 2).Format(time.DateOnly)
	var second Assignment
	for _, a := range after.Assignments {
		if a.Day == wednesday {
			second = a
			break
		}
	}
	body = fmt.Sprintf(`{"staff_id":%d,"kind":"permit_104","starts_at":"%sT00:00","ends_at":"%sT23:59"}`, second.StaffID, wednesday, wednesday)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/absences", v.ID), manager, body, &rec); st != http.StatusCreated {
		t.Fatalf("second absence: status %d", st)
	}
	var repaired struct{ Changes []Change }
	body = fmt.Sprintf(`{"absence_id":%d,"mode":"minimal","time_limit_seconds":3}`, rec.Absence.ID)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/repair", v.ID), manager, body, &repaired); st != http.StatusOK {
		t.Fatalf("minimal repair: status %d", st)
	}
	removed := false
	for _, c := range repaired.Changes {
		removed = removed || (c.StaffID == second.StaffID && c.Day == wednesday && c.After == "")
	}
	if !removed {
		t.Errorf("minimal repair kept the absent person's shift: %+v", repaired.Changes)
	}
	e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", v.ID), manager, "", &after)
	result := resultOf(t, &after)
	if !result.Feasible {
		t.Errorf("repaired roster has hard violations: %+v", result.HardViolations)
	}
	t.Logf("minimal repair: %d changes, shortfall %d", len(repaired.Changes), result.Shortfall)
}

func mustDate(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func clock(t *testing.T, s string) ticketing.TimeOfDay {
	t.Helper()
	c, err := ticketing.ParseTimeOfDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkSubstitute verifies, from the database and not through the planner, that giving the hole to
// candidate c keeps them within their contract and rest limits: the group is one of their skills, the
// template is allowed and within the daily maximum, they are not absent during the shift (and leave
// their own shift that day, if any, for this one), at least
// min_rest_minutes separate the shift from their shifts the day before and after, their days in that ISO
// week stay within max_days_per_week, their Saturdays within the period's share of
// max_saturdays_per_4_weeks, and their minutes within 110 % of the contract's share.
func checkSubstitute(t *testing.T, e *planEnv, rosterID int64, c Candidate, h Hole) {
	t.Helper()
	ctx := context.Background()
	var weekly, maxDaily, maxDays, minRest, maxSat int
	var allowed []int64
	if err := e.Pool.QueryRow(ctx, `SELECT weekly_minutes, max_daily_minutes, max_days_per_week, min_rest_minutes,
		max_saturdays_per_4_weeks, allowed_templates FROM contracts WHERE staff_id = $1`, c.StaffID).
		Scan(&weekly, &maxDaily, &maxDays, &minRest, &maxSat, &allowed); err != nil {
		t.Fatal(err)
	}
	var skilled bool
	if err := e.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff_skills k JOIN services s ON s.id = k.service_id
		WHERE k.staff_id = $1 AND s.category = $2 AND k.level IN ('primary', 'secondary'))`, c.StaffID, h.Group).Scan(&skilled); err != nil {
		t.Fatal(err)
	}
	if !skilled {
		t.Errorf("%s has no primary or secondary skill in %s", c.Name, h.Group)
	}
	if allowed != nil && !slices.Contains(allowed, h.TemplateID) {
		t.Errorf("%s may not work template %s", c.Name, h.Template)
	}
	loc := e.Office.Location()
	day := mustDate(h.Day)
	start, end := clock(t, h.Starts).On(day, loc), clock(t, h.Ends).On(day, loc)
	if m := int(end.Sub(start).Minutes()); m > maxDaily {
		t.Errorf("%s: %d minutes, daily maximum %d", c.Name, m, maxDaily)
	}
	var absent bool
	if err := e.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM absences WHERE staff_id = $1 AND starts_at < $3 AND ends_at > $2)`,
		c.StaffID, start, end).Scan(&absent); err != nil || absent {
		t.Errorf("%s is absent during the shift (%v)", c.Name, err)
	}
	type shift struct {
		day        time.Time
		start, end time.Time
	}
	rows, err := e.Pool.Query(ctx, `SELECT a.day, t.starts, t.ends FROM roster_assignments a JOIN shift_templates t ON t.id = a.template_id
		WHERE a.roster_id = $1 AND a.staff_id = $2 ORDER BY a.day`, rosterID, c.StaffID)
	if err != nil {
		t.Fatal(err)
	}
	shifts := []shift{{day, start, end}}
	for rows.Next() {
		var d pgtype.Date
		var s, en ticketing.TimeOfDay
		if err := rows.Scan(&d, &s, &en); err != nil {
			t.Fatal(err)
		}
		if d.Time.Equal(day) {
			if c.MovedFrom == "" {
				t.Errorf("%s already works on %s and is not said to move", c.Name, h.Day)
			}
			continue // the shift they leave for the hole
		}
		shifts = append(shifts, shift{d.Time, s.On(d.Time, loc), en.On(d.Time, loc)})
	}
	rows.Close()
	slices.SortFunc(shifts, func(a, b shift) int { return a.start.Compare(b.start) })
	minutes, saturdays := 0, 0
	perWeek := map[string]int{}
	var from, to time.Time
	if err := e.Pool.QueryRow(ctx, `SELECT starts_on, ends_on FROM rosters WHERE id = $1`, rosterID).Scan(&from, &to); err != nil {
		t.Fatal(err)
	}
	for i, s := range shifts {
		minutes += int(s.end.Sub(s.start).Minutes())
		if s.day.Weekday() == time.Saturday {
			saturdays++
		}
		y, w := s.day.ISOWeek()
		perWeek[fmt.Sprint(y, w)]++
		if i > 0 && shifts[i-1].day.AddDate(0, 0, 1).Equal(s.day) {
			if rest := s.start.Sub(shifts[i-1].end).Minutes(); int(rest) < minRest {
				t.Errorf("%s: %v minutes of rest before %s, contract %d", c.Name, rest, s.day.Format(time.DateOnly), minRest)
			}
		}
	}
	for wk, n := range perWeek {
		if n > maxDays {
			t.Errorf("%s: %d days in ISO week %s, contract %d", c.Name, n, wk, maxDays)
		}
	}
	days := int(to.Sub(from).Hours()/24) + 1
	if limit := int(math.Ceil(float64(maxSat) * float64(days) / 28)); saturdays > limit {
		t.Errorf("%s: %d Saturdays, at most %d", c.Name, saturdays, limit)
	}
	if limit := float64(weekly) * float64(days) / 7 * 1.1; float64(minutes) > limit+float64(maxDaily) {
		t.Errorf("%s: %d minutes in the period, contract share %.0f", c.Name, minutes, limit/1.1)
	}
	if minutes != c.MinutesAfter {
		t.Errorf("%s: planner says %d minutes after the substitution, database %d", c.Name, c.MinutesAfter, minutes)
	}
}
