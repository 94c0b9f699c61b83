package insight

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The managers' side of citizen feedback: the comments page (/manage/feedback) with the score distribution
// of a period, the desk a feedback tablet is paired to, and the purge of old comments.

//go:embed templates/feedback.html
var feedbackTemplates embed.FS

var feedbackPage = web.ManagePage(feedbackTemplates, "templates/feedback.html")

// maxComments is how many comments the page lists, newest first: a month of a busy office fits.
const maxComments = 500

// maxFeedbackDays is the longest period the comments page reads at once.
const maxFeedbackDays = 400

// Comment is one rating with a comment, as managers read it: the day, the service and the score, never the
// ticket's number or code.
type Comment struct {
	Day       time.Time `json:"day"`
	ServiceID int64     `json:"-"`
	Service   string    `json:"service"` // the service's code
	Score     int       `json:"score"`
	Text      string    `json:"comment"`
	Source    string    `json:"source"`
}

// Scores is the distribution of the ratings of a period: Counts[i] is how many gave i+1.
type Scores struct {
	Counts [5]int
	Count  int
	Mean   *float64
}

// feedbackFilter is the period and the service (0: all) a feedback query is about, local dates of o.
func feedbackFilter(o *ticketing.Office, services []*ticketing.Service, from, to time.Time, service string) (int64, error) {
	if to.Before(from) {
		return 0, web.InvalidField("to", "to is before from")
	}
	if to.Sub(from) > maxFeedbackDays*24*time.Hour {
		return 0, web.InvalidField("to", "the period may be at most %d days", maxFeedbackDays)
	}
	if service == "" {
		return 0, nil
	}
	for _, s := range services {
		if s.Code == service {
			return s.ID, nil
		}
	}
	return 0, web.InvalidField("service", "no service %q in this office", service)
}

// Comments returns the comments given on the visits of office o whose local day is from to to (both
// included), optionally of one service (its code), newest first, at most maxComments. Comments cleared by
// the purge are gone; their scores stay.
func (s *Store) Comments(ctx context.Context, o *ticketing.Office, from, to time.Time, service string) ([]Comment, error) {
	services, err := s.tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	sid, err := feedbackFilter(o, services, from, to, service)
	if err != nil {
		return nil, err
	}
	rows, err := s.reports.Query(ctx, `
		SELECT f.local_day, v.service_id, f.score, f.comment, f.source
		FROM feedback f JOIN visits v ON v.last_ticket_id = f.last_ticket_id
		WHERE f.office_id = $1 AND f.local_day BETWEEN $2 AND $3 AND f.comment <> '' AND ($4 = 0 OR v.service_id = $4)
		ORDER BY f.at DESC, f.last_ticket_id DESC LIMIT $5`, o.ID, from, to, sid, maxComments)
	if err != nil {
		return nil, fmt.Errorf("insight: comments: %w", err)
	}
	defer rows.Close()
	codes := make(map[int64]string, len(services))
	for _, sv := range services {
		codes[sv.ID] = sv.Code
	}
	out := []Comment{}
	for rows.Next() {
		var c Comment
		if err := rows.Scan(&c.Day, &c.ServiceID, &c.Score, &c.Text, &c.Source); err != nil {
			return nil, fmt.Errorf("insight: comments: %w", err)
		}
		c.Service = codes[c.ServiceID]
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: comments: %w", err)
	}
	return out, nil
}

// ScoreDistribution counts the ratings (with or without a comment) of the visits of office o whose local
// day is from to to, optionally of one service.
func (s *Store) ScoreDistribution(ctx context.Context, o *ticketing.Office, from, to time.Time, service string) (*Scores, error) {
	services, err := s.tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	sid, err := feedbackFilter(o, services, from, to, service)
	if err != nil {
		return nil, err
	}
	rows, err := s.reports.Query(ctx, `
		SELECT f.score, count(*) FROM feedback f JOIN visits v ON v.last_ticket_id = f.last_ticket_id
		WHERE f.office_id = $1 AND f.local_day BETWEEN $2 AND $3 AND ($4 = 0 OR v.service_id = $4)
		GROUP BY f.score`, o.ID, from, to, sid)
	if err != nil {
		return nil, fmt.Errorf("insight: score distribution: %w", err)
	}
	defer rows.Close()
	sc := &Scores{}
	sum := 0
	for rows.Next() {
		var score, n int
		if err := rows.Scan(&score, &n); err != nil {
			return nil, fmt.Errorf("insight: score distribution: %w", err)
		}
		sc.Counts[score-1] = n
		sc.Count += n
		sum += score * n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: score distribution: %w", err)
	}
	if sc.Count > 0 {
		m := float64(sum) / float64(sc.Count)
		sc.Mean = &m
	}
	return sc, nil
}

// PurgeComments clears the comments given before cutoff (now minus the office's retention): a step of the
// office's nightly purge. The scores stay for the reports; a comment may hold personal data.
func (s *Store) PurgeComments(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
	// A rating is given after its visit's day, so its local day is at most the cutoff's (the index's column).
	lastDay := time.Date(cutoff.Year(), cutoff.Month(), cutoff.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	tag, err := s.pool.Exec(ctx, `UPDATE feedback SET comment = ''
		WHERE office_id = $1 AND local_day <= $3 AND at < $2 AND comment <> ''`, officeID, cutoff.UTC(), lastDay)
	if err != nil {
		return 0, fmt.Errorf("insight: purge comments: %w", err)
	}
	return tag.RowsAffected(), nil
}

// PurgeStep is the nightly purge's step that clears old comments (ticketing.PurgeJob runs it).
func (s *Store) PurgeStep() ticketing.PurgeStep {
	return ticketing.PurgeStep{What: "feedback comments cleared", Run: s.PurgeComments}
}

// feedbackManageRoutes mounts the managers' feedback routes: the comments page and a tablet's desk.
func (h *Handler) feedbackManageRoutes(r chi.Router) {
	r.With(h.Tickets.InOffice(ticketing.Managers)).
		Method(http.MethodPut, "/api/v1/offices/{office}/devices/{device}/desk", web.Endpoint(h.setTabletDesk))
	r.With(auth.RequirePage).Get("/manage/feedback", h.Tickets.ManageHandler(feedbackPage, "feedback", h.feedbackPage))
}

// setTabletDesk serves PUT /api/v1/offices/{office}/devices/{device}/desk {"desk": number}: the desk whose
// citizens the feedback tablet asks (0 or null: none, the tablet waits). Another kind of device is a 404.
func (h *Handler) setTabletDesk(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	id, err := web.PathID(r, "device", "unknown_device")
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		Desk *int `json:"desk"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	settings := map[string]any{}
	if body.Desk != nil && *body.Desk != 0 {
		if _, err := h.Tickets.DeskByNumber(r.Context(), o.ID, *body.Desk); err != nil {
			var we *web.Error
			if errors.As(err, &we) && we.Status == http.StatusNotFound {
				return 0, nil, web.InvalidField("desk", "no desk %d in this office", *body.Desk)
			}
			return 0, nil, err
		}
		settings["desk"] = *body.Desk
	}
	return web.OK(h.Auth.SaveDeviceSettings(r.Context(), o.ID, id, auth.Feedback, settings))
}

// feedbackView is the comments page's data.
type feedbackView struct {
	From, To  string // YYYY-MM-DD
	Service   string
	Services  []*ticketing.Service
	Scores    *Scores
	Comments  []Comment
	Truncated bool // more comments than the page lists
	Retention int  // days comments are kept
	lang      string
	names     map[string]string
}

// Faces are the scores from 1 to 5, for the distribution's rows.
func (v *feedbackView) Faces() []int { return []int{5, 4, 3, 2, 1} }

// Count is how many ratings gave score.
func (v *feedbackView) Count(score int) int { return v.Scores.Counts[score-1] }

// Pct is the share of the ratings that gave score, in whole percent.
func (v *feedbackView) Pct(score int) int {
	if v.Scores.Count == 0 {
		return 0
	}
	return (v.Scores.Counts[score-1]*100 + v.Scores.Count/2) / v.Scores.Count
}

// Mean is the mean score with one decimal in the page's language, or "—".
func (v *feedbackView) Mean() string {
	if v.Scores.Mean == nil {
		return "—"
	}
	s := fmt.Sprintf("%.1f", *v.Scores.Mean)
	if v.lang == "it" {
		s = s[:len(s)-2] + "," + s[len(s)-1:]
	}
	return s
}

// ServiceName names a service (by code) in the page's language.
func (v *feedbackView) ServiceName(code string) string {
	if n, ok := v.names[code]; ok {
		return n
	}
	return code
}

// Day formats a comment's day in the page's language.
func (v *feedbackView) Day(d time.Time) string { return web.FormatDayYear(v.lang, d) }

// feedbackPage fills /manage/feedback: ?from=&to= (the last 30 days by default) and ?service=.
func (h *Handler) feedbackPage(r *http.Request, o *ticketing.Office) (any, error) {
	ctx := r.Context()
	today := o.LocalDay(h.Tickets.Now())
	from, to, err := ticketing.DateRange(r, today.AddDate(0, 0, -29), today)
	if err != nil {
		return nil, err
	}
	v := &feedbackView{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Service: r.URL.Query().Get("service"),
		Retention: o.RetentionDays, lang: web.RequestLang(r, web.StaffLangs), names: map[string]string{}}
	if v.Services, err = h.Tickets.Services(ctx, o.ID); err != nil {
		return nil, err
	}
	for _, s := range v.Services {
		v.names[s.Code] = s.Name(v.lang)
	}
	if v.Scores, err = h.Store.ScoreDistribution(ctx, o, from, to, v.Service); err != nil {
		return nil, err
	}
	if v.Comments, err = h.Store.Comments(ctx, o, from, to, v.Service); err != nil {
		return nil, err
	}
	v.Truncated = len(v.Comments) == maxComments
	return v, nil
}
