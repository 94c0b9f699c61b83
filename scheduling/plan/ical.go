package plan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/auth"
	"turno/internal/web"
)

// Shift is one of a staff member's shifts in a published roster.
type Shift struct {
	RosterID int64     `json:"roster_id"`
	Day      string    `json:"day"`
	Template string    `json:"template"`
	Name     string    `json:"name"`
	Starts   time.Time `json:"starts"`
	Ends     time.Time `json:"ends"`
	Group    string    `json:"skill_group"`
	Office   string    `json:"office"`
	Changed  bool      `json:"changed"` // a substitution or repair gave or moved it
}

// staffShifts lists a staff member's shifts in published rosters from day `from` on (local dates).
func (pl *Planner) staffShifts(ctx context.Context, staffID int64, from time.Time) ([]Shift, error) {
	rows, err := pl.Pool.Query(ctx, `SELECT r.id, a.day, t.code, t.name, t.starts, t.ends, a.skill_group, o.name, o.time_zone,
			EXISTS (SELECT 1 FROM roster_changes c WHERE c.roster_id = r.id AND c.staff_id = a.staff_id AND c.day = a.day)
		FROM roster_assignments a JOIN rosters r ON r.id = a.roster_id JOIN shift_templates t ON t.id = a.template_id
		JOIN offices o ON o.id = r.office_id
		WHERE a.staff_id = $1 AND r.status = 'published' AND a.day >= $2 ORDER BY a.day, t.starts LIMIT 500`, staffID, from)
	if err != nil {
		return nil, fmt.Errorf("plan: staff shifts: %w", err)
	}
	defer rows.Close()
	out := []Shift{}
	for rows.Next() {
		var s Shift
		var day pgtype.Date
		var starts, ends pgtype.Time
		var tz string
		if err := rows.Scan(&s.RosterID, &day, &s.Template, &s.Name, &starts, &ends, &s.Group, &s.Office, &tz, &s.Changed); err != nil {
			return nil, fmt.Errorf("plan: staff shifts: %w", err)
		}
		s.place(day, starts, ends, tz)
		out = append(out, s)
	}
	return out, rows.Err()
}

// place sets the shift's date and its start and end in the office's time zone.
func (s *Shift) place(day pgtype.Date, starts, ends pgtype.Time, tz string) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	s.Day = day.Time.Format(time.DateOnly)
	s.Starts, s.Ends = at(loc, day.Time, minutesOf(starts)), at(loc, day.Time, minutesOf(ends))
}

// staffChanges lists the changes to a staff member's published shifts made in the last 30 days.
func (pl *Planner) staffChanges(ctx context.Context, staffID int64) ([]Change, error) {
	return pl.changes(ctx, `c.staff_id = $1 AND c.changed_at > $2
		AND c.roster_id IN (SELECT id FROM rosters WHERE status = 'published')`, staffID, pl.now().AddDate(0, 0, -30))
}

func (pl *Planner) apiMyShifts(w http.ResponseWriter, r *http.Request) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		web.WriteError(w, r, web.Invalid("no_staff", "your account is not a staff member"))
		return
	}
	shifts, changes, err := pl.myShifts(r.Context(), u.StaffID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"shifts": shifts, "changes": changes})
}

func (pl *Planner) myShifts(ctx context.Context, staffID int64) ([]Shift, []Change, error) {
	today := pl.now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -1) // a day early covers every time zone
	shifts, err := pl.staffShifts(ctx, staffID, today)
	if err != nil {
		return nil, nil, err
	}
	changes, err := pl.staffChanges(ctx, staffID)
	return shifts, changes, err
}

// IssueFeedToken creates (or replaces) a staff member's calendar feed token and returns the feed path.
// The token is random and only its hash is kept, so the previous URL stops working.
func (pl *Planner) IssueFeedToken(ctx context.Context, staffID int64) (string, error) {
	token := auth.NewToken()
	_, err := pl.Pool.Exec(ctx, `INSERT INTO staff_feed_tokens (staff_id, token_hash) VALUES ($1, $2)
		ON CONFLICT (staff_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()`, staffID, auth.HashToken(token))
	if err != nil {
		return "", fmt.Errorf("plan: feed token: %w", err)
	}
	return "/ical/staff/" + token + ".ics", nil
}

func feedURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func (pl *Planner) apiMyFeedToken(w http.ResponseWriter, r *http.Request) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		web.WriteError(w, r, web.Invalid("no_staff", "your account is not a staff member"))
		return
	}
	path, err := pl.IssueFeedToken(r.Context(), u.StaffID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]string{"url": feedURL(r, path)})
}

func (pl *Planner) apiStaffFeedToken(w http.ResponseWriter, r *http.Request) {
	o, err := pl.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	staffID, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		web.WriteError(w, r, web.InvalidField("staff", "staff must be a staff id"))
		return
	}
	if _, err := pl.Store.StaffMember(r.Context(), o.ID, staffID); err != nil {
		web.WriteError(w, r, web.InvalidField("staff", "staff member %d is not in office %q", staffID, o.Slug))
		return
	}
	path, err := pl.IssueFeedToken(r.Context(), staffID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]string{"url": feedURL(r, path)})
}

// icalFeed serves a staff member's published shifts as an RFC 5545 calendar. Shifts taken away by a
// change stay in the feed as cancelled events, so calendar clients drop them visibly.
func (pl *Planner) icalFeed(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutSuffix(chi.URLParam(r, "token"), ".ics")
	if !ok || token == "" {
		web.WriteError(w, r, web.NotFound("unknown_feed", "no such calendar"))
		return
	}
	var staffID int64
	var name string
	err := pl.Pool.QueryRow(r.Context(), `SELECT f.staff_id, st.full_name FROM staff_feed_tokens f JOIN staff st ON st.id = f.staff_id
		WHERE f.token_hash = $1`, auth.HashToken(token)).Scan(&staffID, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		web.WriteError(w, r, web.NotFound("unknown_feed", "no such calendar"))
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	from := pl.now().UTC().AddDate(0, 0, -30).Truncate(24 * time.Hour)
	shifts, err := pl.staffShifts(r.Context(), staffID, from)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	cancelled, err := pl.cancelledShifts(r.Context(), staffID, from)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(Calendar(staffID, name, shifts, cancelled, pl.now())))
}

// cancelledShifts lists shifts a change took from the staff member in a published roster, where they
// no longer work that day.
func (pl *Planner) cancelledShifts(ctx context.Context, staffID int64, from time.Time) ([]Shift, error) {
	rows, err := pl.Pool.Query(ctx, `SELECT DISTINCT ON (c.day) r.id, c.day, t.code, t.name, t.starts, t.ends, o.name, o.time_zone
		FROM roster_changes c JOIN rosters r ON r.id = c.roster_id JOIN shift_templates t ON t.id = c.before_template
		JOIN offices o ON o.id = r.office_id
		WHERE c.staff_id = $1 AND r.status = 'published' AND c.day >= $2 AND c.before_template IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM roster_assignments a WHERE a.roster_id = r.id AND a.staff_id = c.staff_id AND a.day = c.day)
		ORDER BY c.day, c.changed_at DESC`, staffID, from)
	if err != nil {
		return nil, fmt.Errorf("plan: cancelled shifts: %w", err)
	}
	defer rows.Close()
	var out []Shift
	for rows.Next() {
		var s Shift
		var day pgtype.Date
		var starts, ends pgtype.Time
		var tz string
		if err := rows.Scan(&s.RosterID, &day, &s.Template, &s.Name, &starts, &ends, &s.Office, &tz); err != nil {
			return nil, fmt.Errorf("plan: cancelled shifts: %w", err)
		}
		s.place(day, starts, ends, tz)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Calendar renders shifts as an RFC 5545 VCALENDAR: one VEVENT per shift, keyed by staff member and
// day so that a changed shift updates the same event; times in UTC; lines folded at 75 octets.
func Calendar(staffID int64, name string, shifts, cancelled []Shift, now time.Time) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(fold(s)) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Turno//Roster//IT")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeText("Turni – "+name))
	stamp := now.UTC().Format("20060102T150405Z")
	event := func(s Shift, status string) {
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:turno-shift-%d-%s@turno", staffID, strings.ReplaceAll(s.Day, "-", "")))
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + s.Starts.UTC().Format("20060102T150405Z"))
		line("DTEND:" + s.Ends.UTC().Format("20060102T150405Z"))
		summary := "Turno " + s.Template
		if s.Group != "" {
			summary += " · " + s.Group
		}
		line("SUMMARY:" + escapeText(summary))
		line("LOCATION:" + escapeText(s.Office))
		seq := 0
		if s.Changed || status == "CANCELLED" {
			seq = 1
		}
		line(fmt.Sprintf("SEQUENCE:%d", seq))
		line("STATUS:" + status)
		line("END:VEVENT")
	}
	for _, s := range shifts {
		event(s, "CONFIRMED")
	}
	for _, s := range cancelled {
		event(s, "CANCELLED")
	}
	line("END:VCALENDAR")
	return b.String()
}

// escapeText escapes an RFC 5545 TEXT value.
func escapeText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)
	return r.Replace(s)
}

// fold ends a content line with CRLF, folding it into lines of at most 75 octets without splitting a
// UTF-8 character (RFC 5545 §3.1).
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}
