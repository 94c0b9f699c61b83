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

// Routes mounts the roster API, the roster PDF, the iCalendar feeds and the planning pages.
func (pl *Planner) Routes(r chi.Router) {
	r.Get("/ical/staff/{token}", pl.icalFeed)
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin))
		r.Post("/api/v1/offices/{office}/rosters", pl.apiCreate)
		r.Get("/api/v1/offices/{office}/rosters", pl.apiList)
		r.Post("/api/v1/offices/{office}/staff/{id}/feed-token", pl.apiStaffFeedToken)
		r.Get("/api/v1/rosters/{id:[0-9]+}", pl.apiGet)
		r.Get("/api/v1/rosters/{id:[0-9]+}.pdf", pl.apiPDF)
		r.Post("/api/v1/rosters/{id:[0-9]+}/publish", pl.apiPublish)
		r.Post("/api/v1/rosters/{id:[0-9]+}/absences", pl.apiAbsence)
		r.Get("/api/v1/rosters/{id:[0-9]+}/substitutions", pl.apiSubstitutions)
		r.Post("/api/v1/rosters/{id:[0-9]+}/repair", pl.apiRepair)
	})
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin))
		r.Get("/api/v1/me/shifts", pl.apiMyShifts)
		r.Post("/api/v1/me/feed-token", pl.apiMyFeedToken)
	})
	pl.pageRoutes(r)
}

// managedOffice resolves {office} and checks the caller may manage it.
func (pl *Planner) managedOffice(r *http.Request) (*ticketing.Office, error) {
	o, err := pl.Store.Office(r.Context(), chi.URLParam(r, "office"))
	if err != nil {
		return nil, err
	}
	if !auth.CanManage(auth.FromContext(r.Context()).User, o.ID) {
		return nil, web.Forbidden("other_office", "you do not manage office %q", o.Slug)
	}
	return o, nil
}

// managedRoster resolves {id} and checks the caller manages its office.
func (pl *Planner) managedRoster(r *http.Request) (*Roster, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return nil, web.NotFound("unknown_roster", "no roster %q", chi.URLParam(r, "id"))
	}
	return pl.rosterFor(r.Context(), auth.FromContext(r.Context()).User, id)
}

func (pl *Planner) rosterFor(ctx context.Context, u *auth.User, id int64) (*Roster, error) {
	ro, err := pl.Roster(ctx, id)
	if err != nil {
		return nil, err
	}
	if !auth.CanManage(u, ro.OfficeID) {
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

func (pl *Planner) apiCreate(w http.ResponseWriter, r *http.Request) {
	o, err := pl.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var req createRequest
	if err := web.Decode(r, &req, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	per, err := req.period()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	id, err := pl.StartSolve(r.Context(), o, per, userID(r))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "solving", "url": "/api/v1/rosters/" + strconv.FormatInt(id, 10)})
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

func (pl *Planner) apiList(w http.ResponseWriter, r *http.Request) {
	o, err := pl.managedOffice(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	list, err := pl.Rosters(r.Context(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"rosters": list})
}

// RosterView is a roster with its assignments and changes.
type RosterView struct {
	*Roster
	Assignments []Assignment `json:"assignments"`
	Changes     []Change     `json:"changes"`
}

func (pl *Planner) view(ctx context.Context, ro *Roster) (*RosterView, error) {
	as, err := pl.Assignments(ctx, ro.ID)
	if err != nil {
		return nil, err
	}
	cs, err := pl.Changes(ctx, ro.ID)
	if err != nil {
		return nil, err
	}
	return &RosterView{Roster: ro, Assignments: as, Changes: cs}, nil
}

func (pl *Planner) apiGet(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v, err := pl.view(r.Context(), ro)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, v)
}

func (pl *Planner) apiPublish(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ro, err = pl.Publish(r.Context(), ro.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, ro)
}

// apiAbsence records an absence of a staff member of the roster's office (through the scheduling
// package, which validates it) and answers with the substitution proposals for the shifts it leaves open.
func (pl *Planner) apiAbsence(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var req scheduling.AbsenceInput
	if err := web.Decode(r, &req, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a, holes, err := pl.recordAbsence(r.Context(), ro, req, r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, map[string]any{"absence": a, "holes": holes})
}

func (pl *Planner) recordAbsence(ctx context.Context, ro *Roster, req scheduling.AbsenceInput, r *http.Request) (*scheduling.Absence, []Hole, error) {
	o, err := pl.Store.OfficeByID(ctx, ro.OfficeID)
	if err != nil {
		return nil, nil, err
	}
	var by int64
	if id := userID(r); id != nil {
		by = *id
	}
	a, err := scheduling.RecordAbsence(ctx, pl.Store, o, req, by)
	if err != nil {
		return nil, nil, err
	}
	holes, err := pl.Proposals(ctx, ro, a.ID)
	return a, holes, err
}

func (pl *Planner) apiSubstitutions(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	absenceID, err := strconv.ParseInt(r.URL.Query().Get("absence"), 10, 64)
	if err != nil {
		web.WriteError(w, r, web.InvalidField("absence", "absence must be an absence id"))
		return
	}
	props, err := pl.Proposals(r.Context(), ro, absenceID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"holes": props})
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

func (pl *Planner) apiRepair(w http.ResponseWriter, r *http.Request) {
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var req repairRequest
	if err := web.Decode(r, &req, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	changes, err := pl.repair(r.Context(), ro, req, userID(r))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ro, err = pl.Roster(r.Context(), ro.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, map[string]any{"changes": changes, "roster": ro})
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
