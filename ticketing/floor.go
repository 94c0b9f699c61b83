package ticketing

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

// Floor is an office's hall right now, as the live floor view (/manage/live) starts from: every desk with
// its session, pause and ticket in progress, and every service's queue against its wait target. It carries
// ticket numbers only, never a citizen's data; the operators' names only where the office shows figures
// about individual operators (Office.StaffFiguresAggregated off).
type Floor struct {
	Office string `json:"office"`
	// ServerTime is the server's clock when the floor was read: the page counts elapsed times and decides
	// when a wait passes its target against it, whatever the clock of the manager's PC says.
	ServerTime time.Time      `json:"server_time"`
	Desks      []FloorDesk    `json:"desks"`
	Services   []FloorService `json:"services"`
}

// FloorDesk is one desk on the floor.
type FloorDesk struct {
	ID          int64      `json:"id"`
	Number      int        `json:"number"`
	Name        string     `json:"name"`
	Audience    string     `json:"audience"`
	Services    []string   `json:"services"`
	Open        bool       `json:"open"`
	OpenedAt    *time.Time `json:"opened_at,omitempty"`
	Paused      bool       `json:"paused"`
	PauseReason string     `json:"pause_reason,omitempty"`
	PausedAt    *time.Time `json:"paused_at,omitempty"`
	// Operator is who is signed in, only when the office shows staff figures individually.
	Operator string       `json:"operator,omitempty"`
	Current  *FloorTicket `json:"current"`
}

// FloorTicket is the ticket a desk has in progress: its number and how long it has been at the desk.
type FloorTicket struct {
	Number       string            `json:"number"`
	Service      string            `json:"service"`
	ServiceNames map[string]string `json:"service_names"`
	Status       Status            `json:"status"`
	Priority     bool              `json:"priority"`
	Recalls      int               `json:"recalls"`
	CalledAt     time.Time         `json:"called_at"`
	StartedAt    *time.Time        `json:"started_at,omitempty"`
}

// FloorService is one active service's queue against its wait target.
type FloorService struct {
	Code     string            `json:"code"`
	Names    map[string]string `json:"names"`
	Audience string            `json:"audience"`
	Waiting  int               `json:"waiting"`
	// OldestIssuedAt is the first issue time of the ticket that has waited longest (kept across transfers,
	// like the wait of docs/kpis.md); the page adds the target to it to know when the alarm starts.
	OldestIssuedAt    *time.Time `json:"oldest_issued_at"`
	OldestWaitSeconds int        `json:"oldest_wait_seconds"`
	WaitTargetSeconds int        `json:"wait_target_seconds"`
	// OpenDesks counts the open, unpaused desks that serve the service.
	OpenDesks int `json:"open_desks"`
	// Overdue is set when the oldest wait has passed the target at ServerTime.
	Overdue bool `json:"overdue"`
}

// Floor reads an office's floor: three queries whatever the number of desks.
func (s *Store) Floor(ctx context.Context, o *Office) (*Floor, error) {
	now := s.now()
	f := &Floor{Office: o.Slug, ServerTime: now, Desks: []FloorDesk{}, Services: []FloorService{}}
	desks, err := s.Desks(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*FloorDesk{}
	ids := make([]int64, 0, len(desks))
	for _, d := range desks {
		f.Desks = append(f.Desks, FloorDesk{ID: d.ID, Number: d.Number, Name: d.Name, Audience: d.Audience, Services: d.Services})
		ids = append(ids, d.ID)
	}
	for i := range f.Desks {
		byID[f.Desks[i].ID] = &f.Desks[i]
	}
	rows, err := s.pool.Query(ctx, `
		SELECT ds.desk_id, ds.opened_at, ds.paused_at, coalesce(ds.pause_reason, ''), coalesce(st.full_name, '')
		FROM desk_sessions ds LEFT JOIN staff st ON st.id = ds.staff_id
		WHERE ds.desk_id = ANY($1) AND ds.closed_at IS NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor sessions: %w", err)
	}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var id int64
		var opened time.Time
		var paused *time.Time
		var reason, operator string
		if err := row.Scan(&id, &opened, &paused, &reason, &operator); err != nil {
			return struct{}{}, err
		}
		if d := byID[id]; d != nil {
			d.Open, d.OpenedAt, d.Paused, d.PausedAt, d.PauseReason = true, &opened, paused != nil, paused, reason
			if !o.StaffFiguresAggregated {
				d.Operator = operator
			}
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor sessions: %w", err)
	}
	rows, err = s.pool.Query(ctx, `
		SELECT t.desk_id, t.label, s.code, s.names, t.status, t.priority_id IS NOT NULL, t.recalls, t.called_at, t.started_at
		FROM tickets t JOIN services s ON s.id = t.service_id
		WHERE t.desk_id = ANY($1) AND t.status IN ('called', 'serving')`, ids)
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor tickets: %w", err)
	}
	_, err = collect(rows, func(row pgx.Row) (struct{}, error) {
		var id int64
		var called *time.Time
		t := &FloorTicket{}
		if err := row.Scan(&id, &t.Number, &t.Service, &t.ServiceNames, &t.Status, &t.Priority, &t.Recalls, &called, &t.StartedAt); err != nil {
			return struct{}{}, err
		}
		if called != nil {
			t.CalledAt = *called
		}
		if d := byID[id]; d != nil {
			d.Current = t
		}
		return struct{}{}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor tickets: %w", err)
	}
	// Desks out of service are left out unless someone is still signed in to one.
	active := map[int64]bool{}
	for _, d := range desks {
		active[d.ID] = d.Active
	}
	f.Desks = slices.DeleteFunc(f.Desks, func(d FloorDesk) bool { return !active[d.ID] && !d.Open })

	rows, err = s.pool.Query(ctx, `
		SELECT s.code, s.names, s.audience, s.wait_target_seconds, count(t.id), min(t.issued_at)
		FROM services s
		LEFT JOIN tickets t ON t.office_id = s.office_id AND t.service_id = s.id AND t.status = 'waiting'
		WHERE s.office_id = $1 AND s.active
		GROUP BY s.id ORDER BY s.audience <> 'citizen', s.sort_order, s.code`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor queue: %w", err)
	}
	f.Services, err = collect(rows, func(row pgx.Row) (FloorService, error) {
		var l FloorService
		err := row.Scan(&l.Code, &l.Names, &l.Audience, &l.WaitTargetSeconds, &l.Waiting, &l.OldestIssuedAt)
		if err != nil || l.OldestIssuedAt == nil {
			return l, err
		}
		l.OldestWaitSeconds = max(0, int(now.Sub(*l.OldestIssuedAt)/time.Second))
		l.Overdue = now.Sub(*l.OldestIssuedAt) > time.Duration(l.WaitTargetSeconds)*time.Second
		return l, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ticketing: floor queue: %w", err)
	}
	if f.Services == nil {
		f.Services = []FloorService{}
	}
	for i := range f.Services {
		l := &f.Services[i]
		for _, d := range f.Desks {
			if d.Open && !d.Paused && slices.Contains(d.Services, l.Code) {
				l.OpenDesks++
			}
		}
	}
	return f, nil
}

// OperatorDay is a staff member's own day at the desks: the "serviti oggi" of the desk page.
type OperatorDay struct {
	// Day is the office's local date the figures are about.
	Day string `json:"day"`
	// Served counts the tickets the operator served (started) and ended today: finished, or transferred to
	// another service after serving, like the operator work of docs/kpis.md.
	Served int `json:"served"`
	// ServiceMeanSeconds is their mean time from start to end, rounded to the second; null with none.
	ServiceMeanSeconds *int `json:"service_mean_seconds"`
}

// OperatorDay returns a staff member's figures for today in their office's time zone. It is meant for the
// staff member themselves only: figures about individual operators are personal data.
func (s *Store) OperatorDay(ctx context.Context, staffID int64) (*OperatorDay, error) {
	var officeID int64
	err := s.pool.QueryRow(ctx, `SELECT office_id FROM staff WHERE id = $1`, staffID).Scan(&officeID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.Invalid("no_staff", "your account is not a staff member")
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: operator day: %w", err)
	}
	o, err := s.OfficeByID(ctx, officeID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	today := o.LocalDay(now)
	day := &OperatorDay{Day: today.Format(time.DateOnly)}
	var mean *float64
	// local_day is the day of issue: a ticket served today was issued today or, past midnight, the day
	// before; the index on (office_id, local_day) keeps this to two days of the office's tickets.
	err = s.pool.QueryRow(ctx, `
		SELECT count(*), avg(extract(epoch FROM finished_at - started_at))::float8
		FROM tickets
		WHERE office_id = $1 AND local_day BETWEEN $2 AND $3 AND staff_id = $4
			AND status IN ('done', 'transferred') AND started_at IS NOT NULL AND finished_at >= $5`,
		o.ID, today.AddDate(0, 0, -1), today, staffID, o.Midnight(today)).Scan(&day.Served, &mean)
	if err != nil {
		return nil, fmt.Errorf("ticketing: operator day: %w", err)
	}
	if mean != nil {
		m := int(math.Round(max(*mean, 0)))
		day.ServiceMeanSeconds = &m
	}
	return day, nil
}

// meRoutes mounts the signed-in operator's own figures: GET /api/v1/me/today.
func (a *API) meRoutes(r chi.Router) {
	r.With(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin)).Method(http.MethodGet, "/api/v1/me/today",
		web.Endpoint(func(r *http.Request) (int, any, error) {
			u := auth.FromContext(r.Context()).User
			if u.StaffID == 0 {
				return 0, nil, web.Invalid("no_staff", "your account is not a staff member")
			}
			return web.OK(a.Store.OperatorDay(r.Context(), u.StaffID))
		}))
}
