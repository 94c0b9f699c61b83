package scheduling

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/go-chi/chi/v5"

	"turno/internal/web"
	"turno/ticketing"
)

var (
	serviceCode  = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)
	categoryCode = regexp.MustCompile(`^[a-z0-9_-]{0,40}$`)
	prefixCode   = regexp.MustCompile(`^[A-Z]{1,3}$`)
	priorityCode = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

func validAudience(a string) bool { return a == ticketing.Citizen || a == ticketing.Business }

// checkService names the first bad field of a service.
func checkService(s *ticketing.Service) error {
	switch {
	case !serviceCode.MatchString(s.Code):
		return web.InvalidField("code", "code must be 1–40 lowercase letters, digits, _ or -")
	case s.Agency == "":
		return web.InvalidField("agency", "agency is required")
	case !validAudience(s.Audience):
		return web.InvalidField("audience", "audience must be citizen or business")
	case !categoryCode.MatchString(s.Category):
		return web.InvalidField("category", "category (the skill group) must be lowercase letters, digits, _ or -")
	case !prefixCode.MatchString(s.Prefix):
		return web.InvalidField("prefix", "prefix must be 1–3 capital letters")
	case s.Names["it"] == "":
		return web.InvalidField("names", "an Italian name is required")
	case s.ExpectedHandlingSeconds < 1 || s.ExpectedHandlingSeconds > 86400:
		return web.InvalidField("expected_handling_seconds", "expected_handling_seconds must be between 1 and 86400")
	case s.WaitTargetSeconds < 1 || s.WaitTargetSeconds > 86400:
		return web.InvalidField("wait_target_seconds", "wait_target_seconds must be between 1 and 86400")
	}
	return nil
}

func (a *API) createService(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	s := &ticketing.Service{Active: true, ExpectedHandlingSeconds: 600, WaitTargetSeconds: 1200}
	if err := web.Decode(r, s, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := checkService(s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if _, err := a.Store.ServiceByCode(r.Context(), o.ID, s.Code); err == nil {
		web.WriteError(w, r, &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "code", Message: fmt.Sprintf("a service %q already exists", s.Code)})
		return
	}
	s.OfficeID = o.ID
	if err := a.Store.SaveService(r.Context(), s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a.writeService(w, r, http.StatusCreated, s.Code)
}

func (a *API) updateService(w http.ResponseWriter, r *http.Request) {
	o, code := officeOf(r), chi.URLParam(r, "code")
	s, err := a.Store.ServiceByCode(r.Context(), o.ID, code)
	if err != nil {
		web.WriteError(w, r, web.NotFound("unknown_service", "no service %q in this office", code))
		return
	}
	if err := web.Decode(r, s, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if s.Code != code {
		web.WriteError(w, r, web.InvalidField("code", "a service's code cannot change; create a new service instead"))
		return
	}
	if err := checkService(s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	s.OfficeID = o.ID
	if err := a.Store.SaveService(r.Context(), s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a.writeService(w, r, http.StatusOK, s.Code)
}

func (a *API) writeService(w http.ResponseWriter, r *http.Request, status int, code string) {
	s, err := a.Store.ServiceByCode(r.Context(), officeOf(r).ID, code)
	reply(w, r, status, s, err)
}

// checkDesk names the first bad field of a desk; SaveDesk checks its services in its transaction.
func checkDesk(d *ticketing.Desk) error {
	switch {
	case d.Number < 1 || d.Number > 9999:
		return web.InvalidField("number", "number must be between 1 and 9999")
	case d.Name == "" || len(d.Name) > 100:
		return web.InvalidField("name", "name is required (at most 100 characters)")
	case !validAudience(d.Audience):
		return web.InvalidField("audience", "audience must be citizen or business")
	}
	return nil
}

func (a *API) desks(r *http.Request) (map[int]*ticketing.Desk, error) {
	list, err := a.Store.Desks(r.Context(), officeOf(r).ID)
	if err != nil {
		return nil, err
	}
	out := map[int]*ticketing.Desk{}
	for _, d := range list {
		out[d.Number] = d
	}
	return out, nil
}

func (a *API) createDesk(w http.ResponseWriter, r *http.Request) {
	d := &ticketing.Desk{Active: true, Audience: ticketing.Citizen, Services: []string{}}
	if err := web.Decode(r, d, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := checkDesk(d); err != nil {
		web.WriteError(w, r, err)
		return
	}
	existing, err := a.desks(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if existing[d.Number] != nil {
		web.WriteError(w, r, &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "number", Message: fmt.Sprintf("desk %d already exists", d.Number)})
		return
	}
	a.saveDesk(w, r, http.StatusCreated, d)
}

func (a *API) updateDesk(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(chi.URLParam(r, "number"))
	existing, err := a.desks(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	d := existing[n]
	if d == nil {
		web.WriteError(w, r, web.NotFound("unknown_desk", "no desk %q in this office", chi.URLParam(r, "number")))
		return
	}
	if err := web.Decode(r, d, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if d.Number != n {
		web.WriteError(w, r, web.InvalidField("number", "a desk's number cannot change"))
		return
	}
	if err := checkDesk(d); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a.saveDesk(w, r, http.StatusOK, d)
}

func (a *API) saveDesk(w http.ResponseWriter, r *http.Request, status int, d *ticketing.Desk) {
	if d.Services == nil {
		d.Services = []string{}
	}
	d.OfficeID = officeOf(r).ID
	if err := a.Store.SaveDesk(r.Context(), d); err != nil {
		web.WriteError(w, r, err)
		return
	}
	saved, err := a.desks(r)
	reply(w, r, status, saved[d.Number], err)
}

func checkPriority(p *ticketing.PriorityCategory) error {
	switch {
	case !priorityCode.MatchString(p.Code):
		return web.InvalidField("code", "code must be 1–32 lowercase letters, digits, _ or -")
	case p.Labels["it"] == "":
		return web.InvalidField("labels", "an Italian label is required")
	case p.BonusSeconds < 0 || p.BonusSeconds > 86400:
		return web.InvalidField("bonus_seconds", "bonus_seconds must be between 0 and 86400")
	}
	return nil
}

func (a *API) priority(r *http.Request, code string) (*ticketing.PriorityCategory, error) {
	list, err := a.Store.PriorityCategories(r.Context(), officeOf(r).ID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.Code == code {
			return p, nil
		}
	}
	return nil, web.NotFound("unknown_priority", "no priority category %q in this office", code)
}

func (a *API) createPriority(w http.ResponseWriter, r *http.Request) {
	p := &ticketing.PriorityCategory{Active: true}
	if err := web.Decode(r, p, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := checkPriority(p); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if _, err := a.priority(r, p.Code); err == nil {
		web.WriteError(w, r, &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "code", Message: fmt.Sprintf("a priority category %q already exists", p.Code)})
		return
	}
	reply(w, r, http.StatusCreated, p, a.Store.SavePriorityCategory(r.Context(), officeOf(r).ID, p))
}

func (a *API) updatePriority(w http.ResponseWriter, r *http.Request) {
	code := chi.URLParam(r, "code")
	p, err := a.priority(r, code)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := web.Decode(r, p, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if p.Code != code {
		web.WriteError(w, r, web.InvalidField("code", "a priority category's code cannot change"))
		return
	}
	if err := checkPriority(p); err != nil {
		web.WriteError(w, r, err)
		return
	}
	reply(w, r, http.StatusOK, p, a.Store.SavePriorityCategory(r.Context(), officeOf(r).ID, p))
}
