package plan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/auth"
	"turno/internal/ical"
	"turno/internal/web"
	"turno/ticketing"
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
	rows, err := pl.pool.Query(ctx, `SELECT r.id, r.office_id, a.day, a.template_id, a.skill_group,
			EXISTS (SELECT 1 FROM roster_changes c WHERE c.roster_id = r.id AND c.staff_id = a.staff_id AND c.day = a.day)
		FROM roster_assignments a JOIN rosters r ON r.id = a.roster_id
		WHERE a.staff_id = $1 AND r.status = 'published' AND a.day >= $2 ORDER BY a.day, r.id LIMIT 500`, staffID, from)
	if err != nil {
		return nil, fmt.Errorf("plan: staff shifts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (placed, error) {
		var p placed
		err := row.Scan(&p.RosterID, &p.officeID, &p.day, &p.templateID, &p.Group, &p.Changed)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("plan: staff shifts: %w", err)
	}
	out, err := pl.place(ctx, list)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Shift) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), a.Starts.Compare(b.Starts))
	})
	return out, nil
}

// placed is a shift as the roster tables hold it: a template on a day of a roster.
type placed struct {
	Shift
	officeID   int64
	day        pgtype.Date
	templateID int64
}

// place names each shift's template and office and sets its start and end in the office's time zone.
func (pl *Planner) place(ctx context.Context, list []placed) ([]Shift, error) {
	offices := map[int64]*officeNames{}
	out := make([]Shift, 0, len(list))
	for _, p := range list {
		names := offices[p.officeID]
		if names == nil {
			var err error
			if names, err = pl.namesOf(ctx, p.officeID); err != nil {
				return nil, err
			}
			offices[p.officeID] = names
		}
		t, loc := names.templates[p.templateID], names.office.Location()
		s := p.Shift
		s.Day, s.Template, s.Name, s.Office = p.day.Time.Format(time.DateOnly), t.Code, t.Name, names.office.Name
		s.Starts, s.Ends = t.Starts.On(p.day.Time, loc), t.Ends.On(p.day.Time, loc)
		out = append(out, s)
	}
	return out, nil
}

// staffChanges lists the changes to a staff member's published shifts made in the last 30 days.
func (pl *Planner) staffChanges(ctx context.Context, staffID int64) ([]Change, error) {
	return pl.changes(ctx, `c.staff_id = $1 AND c.changed_at > $2
		AND c.roster_id IN (SELECT id FROM rosters WHERE status = 'published')`, staffID, pl.now().AddDate(0, 0, -30))
}

// apiMyShifts answers with the signed-in staff member's upcoming shifts and recent changes.
func (pl *Planner) apiMyShifts(r *http.Request) (int, any, error) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		return 0, nil, web.Invalid("no_staff", "your account is not a staff member")
	}
	shifts, changes, err := pl.myShifts(r.Context(), u.StaffID)
	return web.OK(map[string]any{"shifts": shifts, "changes": changes}, err)
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
	_, err := pl.pool.Exec(ctx, `INSERT INTO staff_feed_tokens (staff_id, token_hash) VALUES ($1, $2)
		ON CONFLICT (staff_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_at = now()`, staffID, auth.HashToken(token))
	if err != nil {
		return "", fmt.Errorf("plan: feed token: %w", err)
	}
	return "/ical/staff/" + token + ".ics", nil
}

// feedURL is the address of a calendar feed: the installation's base URL (TURNO_BASE_URL, through the
// router's web.Site), never the Host the client sent, which would hand out links to wherever the client
// said.
func feedURL(r *http.Request, path string) string { return web.BaseURL(r) + path }

// apiMyFeedToken issues the signed-in staff member a new calendar feed URL.
func (pl *Planner) apiMyFeedToken(r *http.Request) (int, any, error) {
	u := auth.FromContext(r.Context()).User
	if u.StaffID == 0 {
		return 0, nil, web.Invalid("no_staff", "your account is not a staff member")
	}
	return pl.feedToken(r, u.StaffID)
}

// apiStaffFeedToken issues a staff member of the office a new calendar feed URL.
func (pl *Planner) apiStaffFeedToken(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	staffID, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return 0, nil, web.InvalidField("staff", "staff must be a staff id")
	}
	if _, err := pl.tickets.StaffMember(r.Context(), o.ID, staffID); err != nil {
		return 0, nil, web.InvalidField("staff", "staff member %d is not in office %q", staffID, o.Slug)
	}
	return pl.feedToken(r, staffID)
}

func (pl *Planner) feedToken(r *http.Request, staffID int64) (int, any, error) {
	path, err := pl.IssueFeedToken(r.Context(), staffID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]string{"url": feedURL(r, path)}, nil
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
	err := pl.pool.QueryRow(r.Context(), `SELECT staff_id FROM staff_feed_tokens WHERE token_hash = $1`, auth.HashToken(token)).Scan(&staffID)
	if errors.Is(err, pgx.ErrNoRows) {
		web.WriteError(w, r, web.NotFound("unknown_feed", "no such calendar"))
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	st, err := pl.tickets.StaffByID(r.Context(), staffID)
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
	_, _ = w.Write([]byte(Calendar(staffID, st.FullName, shifts, cancelled, pl.now())))
}

// cancelledShifts lists shifts a change took from the staff member in a published roster, where they
// no longer work that day.
func (pl *Planner) cancelledShifts(ctx context.Context, staffID int64, from time.Time) ([]Shift, error) {
	rows, err := pl.pool.Query(ctx, `SELECT DISTINCT ON (c.day) r.id, r.office_id, c.day, c.before_template
		FROM roster_changes c JOIN rosters r ON r.id = c.roster_id
		WHERE c.staff_id = $1 AND r.status = 'published' AND c.day >= $2 AND c.before_template IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM roster_assignments a WHERE a.roster_id = r.id AND a.staff_id = c.staff_id AND a.day = c.day)
		ORDER BY c.day, c.changed_at DESC`, staffID, from)
	if err != nil {
		return nil, fmt.Errorf("plan: cancelled shifts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (placed, error) {
		var p placed
		err := row.Scan(&p.RosterID, &p.officeID, &p.day, &p.templateID)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("plan: cancelled shifts: %w", err)
	}
	return pl.place(ctx, list)
}

// Calendar renders shifts as an RFC 5545 VCALENDAR (internal/ical): one VEVENT per shift, keyed by staff
// member and day so that a changed shift updates the same event; times in UTC.
func Calendar(staffID int64, name string, shifts, cancelled []Shift, now time.Time) string {
	c := &ical.Calendar{ProdID: "-//Turno//Roster//IT", Method: "PUBLISH", Name: "Turni – " + name}
	event := func(s Shift, status string) {
		summary := "Turno " + s.Template
		if s.Group != "" {
			summary += " · " + s.Group
		}
		seq := 0
		if s.Changed || status == "CANCELLED" {
			seq = 1
		}
		c.Events = append(c.Events, ical.Event{
			UID:   fmt.Sprintf("turno-shift-%d-%s@turno", staffID, strings.ReplaceAll(s.Day, "-", "")),
			Stamp: now, Start: s.Starts, End: s.Ends, Summary: summary, Location: s.Office, Sequence: seq, Status: status,
		})
	}
	for _, s := range shifts {
		event(s, "CONFIRMED")
	}
	for _, s := range cancelled {
		event(s, "CANCELLED")
	}
	return string(c.Encode())
}
