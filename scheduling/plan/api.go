package plan

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/scheduling"
	"turno/ticketing"
)

// Routes mounts the roster API, the roster PDF, the iCalendar feeds and the planning pages on r, which
// must run auth.Store.Authenticate.
func (pl *Planner) Routes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Get("/ical/staff/{token}", pl.icalFeed)
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin))
		office := r.With(pl.tickets.InOffice(ticketing.Managers))
		office.Method("POST", o+"/rosters", web.Endpoint(pl.apiCreate))
		office.Method("GET", o+"/rosters", web.Endpoint(pl.apiList))
		office.Method("POST", o+"/staff/{id}/feed-token", web.Endpoint(pl.apiStaffFeedToken))
		// A roster names its office itself: managedRoster checks that the caller manages it.
		r.Method("GET", "/api/v1/rosters/{id:[0-9]+}", web.Endpoint(pl.apiGet))
		r.Get("/api/v1/rosters/{id:[0-9]+}.pdf", pl.apiPDF)
		r.Method("POST", "/api/v1/rosters/{id:[0-9]+}/publish", web.Endpoint(pl.apiPublish))
		r.Method("POST", "/api/v1/rosters/{id:[0-9]+}/absences", web.Endpoint(pl.apiAbsence))
		r.Method("GET", "/api/v1/rosters/{id:[0-9]+}/substitutions", web.Endpoint(pl.apiSubstitutions))
		r.Method("POST", "/api/v1/rosters/{id:[0-9]+}/repair", web.Endpoint(pl.apiRepair))
		r.Method("PUT", "/api/v1/rosters/{id:[0-9]+}/assignments", web.Endpoint(pl.apiEdit))
	})
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin))
		r.Method("GET", "/api/v1/me/shifts", web.Endpoint(pl.apiMyShifts))
		r.Method("POST", "/api/v1/me/feed-token", web.Endpoint(pl.apiMyFeedToken))
	})
	pl.pageRoutes(r)
	pl.appointmentRoutes(r)
}

// managedRoster resolves {id} and checks the caller manages its office.
func (pl *Planner) managedRoster(r *http.Request) (*Roster, error) {
	id, err := web.PathID(r, "id", "unknown_roster")
	if err != nil {
		return nil, err
	}
	ro, err := pl.Roster(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !auth.CanManage(auth.FromContext(r.Context()).User, ro.OfficeID) {
		return nil, web.Forbidden("other_office", "you do not manage the office of roster %d", id)
	}
	return ro, nil
}

func userID(r *http.Request) *int64 {
	if u := auth.FromContext(r.Context()).User; u != nil {
		return &u.ID
	}
	return nil
}

type createRequest struct {
	From             string `json:"from"`
	To               string `json:"to"`
	TimeLimitSeconds int    `json:"time_limit_seconds"`
	Seed             uint64 `json:"seed"`
}

// MaxTimeLimit bounds the solve time a request may ask for.
const MaxTimeLimit = 600

// apiCreate validates a roster request and queues its solve: 202 with the roster's URL, its status
// (queued or solving) and, while queued, its place in the queue.
func (pl *Planner) apiCreate(r *http.Request) (int, any, error) {
	var req createRequest
	if err := web.Decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	per, err := req.period()
	if err != nil {
		return 0, nil, err
	}
	id, err := pl.StartSolve(r.Context(), ticketing.OfficeOf(r), per, userID(r))
	if err != nil {
		return 0, nil, err
	}
	status, position, err := pl.queueState(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	body := map[string]any{"id": id, "status": status, "url": "/api/v1/rosters/" + strconv.FormatInt(id, 10)}
	if position > 0 {
		body["queue_position"] = position
	}
	return http.StatusAccepted, body, nil
}

func (req createRequest) period() (Period, error) {
	from, err := parseDay("from", req.From)
	if err != nil {
		return Period{}, err
	}
	to, err := parseDay("to", req.To)
	if err != nil {
		return Period{}, err
	}
	if err := validatePeriod(from, to); err != nil {
		return Period{}, err
	}
	limit := req.TimeLimitSeconds
	if limit == 0 {
		limit = 30
	}
	if limit < 1 || limit > MaxTimeLimit {
		return Period{}, web.InvalidField("time_limit_seconds", "time_limit_seconds must be between 1 and %d", MaxTimeLimit)
	}
	return Period{From: from, To: to, TimeLimit: time.Duration(limit) * time.Second, Seed: req.Seed}, nil
}

func (pl *Planner) apiList(r *http.Request) (int, any, error) {
	list, err := pl.Rosters(r.Context(), ticketing.OfficeOf(r).ID)
	return web.OK(map[string]any{"rosters": list}, err)
}

// RosterView is a roster with its assignments and changes.
type RosterView struct {
	*Roster
	Assignments []Assignment `json:"assignments"`
	Changes     []Change     `json:"changes"`
}

func (pl *Planner) view(ctx context.Context, ro *Roster) (*RosterView, error) {
	as, err := pl.Assignments(ctx, ro)
	if err != nil {
		return nil, err
	}
	cs, err := pl.Changes(ctx, ro.ID)
	if err != nil {
		return nil, err
	}
	return &RosterView{Roster: ro, Assignments: as, Changes: cs}, nil
}

func (pl *Planner) apiGet(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(pl.view(r.Context(), ro))
}

// publishRequest is the optional body of a publication.
type publishRequest struct {
	// AcceptGaps confirms the publication of a roster that leaves slots uncovered.
	AcceptGaps bool `json:"accept_gaps"`
}

func (pl *Planner) apiPublish(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	var req publishRequest
	if err := web.Decode(r, &req, true); err != nil {
		return 0, nil, err
	}
	return web.OK(pl.Publish(r.Context(), ro.ID, req.AcceptGaps))
}

// apiEdit changes one person's day in a draft roster (see EditShift); a refusal's message is in the
// request's language.
func (pl *Planner) apiEdit(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	var req ShiftEdit
	if err := web.Decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	return web.OK(pl.EditShift(r.Context(), ro, req, web.RequestLang(r, web.StaffLangs), userID(r)))
}

// apiAbsence records an absence of a staff member of the roster's office (through the scheduling store,
// which validates it) and answers with the substitution proposals for the shifts it leaves open.
func (pl *Planner) apiAbsence(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	var req scheduling.AbsenceInput
	if err := web.Decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	a, holes, err := pl.recordAbsence(r.Context(), ro, req, userID(r))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"absence": a, "holes": holes}, nil
}

func (pl *Planner) recordAbsence(ctx context.Context, ro *Roster, req scheduling.AbsenceInput, uid *int64) (*scheduling.Absence, []Hole, error) {
	o, err := pl.tickets.OfficeByID(ctx, ro.OfficeID)
	if err != nil {
		return nil, nil, err
	}
	var by int64
	if uid != nil {
		by = *uid
	}
	a, err := pl.plans.RecordAbsence(ctx, o, req, by)
	if err != nil {
		return nil, nil, err
	}
	holes, err := pl.Proposals(ctx, ro, a.ID)
	return a, holes, err
}

func (pl *Planner) apiSubstitutions(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	absenceID, err := strconv.ParseInt(r.URL.Query().Get("absence"), 10, 64)
	if err != nil {
		return 0, nil, web.InvalidField("absence", "absence must be an absence id")
	}
	props, err := pl.Proposals(r.Context(), ro, absenceID)
	return web.OK(map[string]any{"holes": props}, err)
}

type repairRequest struct {
	AbsenceID int64 `json:"absence_id"`
	// Either one proposal (staff_id, day, template_id) or mode "minimal" for the solver's repair.
	StaffID          int64  `json:"staff_id"`
	Day              string `json:"day"`
	TemplateID       int64  `json:"template_id"`
	Mode             string `json:"mode"`
	TimeLimitSeconds int    `json:"time_limit_seconds"`
}

func (pl *Planner) apiRepair(r *http.Request) (int, any, error) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		return 0, nil, err
	}
	var req repairRequest
	if err := web.Decode(r, &req, false); err != nil {
		return 0, nil, err
	}
	changes, err := pl.repair(r.Context(), ro, req, userID(r))
	if err != nil {
		return 0, nil, err
	}
	ro, err = pl.Roster(r.Context(), ro.ID)
	return web.OK(map[string]any{"changes": changes, "roster": ro}, err)
}

func (pl *Planner) repair(ctx context.Context, ro *Roster, req repairRequest, uid *int64) ([]Change, error) {
	if req.AbsenceID == 0 {
		return nil, web.InvalidField("absence_id", "absence_id is required")
	}
	switch req.Mode {
	case "minimal":
		limit := req.TimeLimitSeconds
		if limit == 0 {
			limit = 5
		}
		if limit < 1 || limit > 60 {
			return nil, web.InvalidField("time_limit_seconds", "time_limit_seconds must be between 1 and 60")
		}
		return pl.RepairMinimal(ctx, ro, req.AbsenceID, time.Duration(limit)*time.Second, uid)
	case "", "proposal":
		if req.StaffID == 0 {
			return nil, web.InvalidField("staff_id", "staff_id is required")
		}
		day, err := parseDay("day", req.Day)
		if err != nil {
			return nil, err
		}
		if req.TemplateID == 0 {
			return nil, web.InvalidField("template_id", "template_id is required")
		}
		return pl.ApplyProposal(ctx, ro, req.AbsenceID, req.StaffID, day, req.TemplateID, uid)
	}
	return nil, web.InvalidField("mode", "mode must be \"proposal\" or \"minimal\"")
}
