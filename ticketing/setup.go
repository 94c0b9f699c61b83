package ticketing

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

// setupRoutes mounts the manager's office-setup API under prefix (/api/v1/offices/{office}) on r, whose
// middleware has resolved the office and checked that the caller manages it: the office's settings,
// agencies, services, desks, priority categories, staff and skills, opening hours, exceptions and holidays,
// and its devices (kept by auth).
func (a *API) setupRoutes(r chi.Router, prefix string) {
	e := func(method, path string, fn web.Endpoint) { r.Method(method, prefix+path, fn) }
	e("GET", "/settings", func(r *http.Request) (int, any, error) { return web.OK(OfficeOf(r), nil) })
	e("PUT", "/settings", a.putSettings)

	e("GET", "/agencies", func(r *http.Request) (int, any, error) { return web.OK(a.Store.Agencies(r.Context(), OfficeOf(r).ID)) })
	e("POST", "/agencies", a.createAgency)
	e("PUT", "/agencies/{code}", a.updateAgency)
	e("POST", "/services", a.createService)
	e("PUT", "/services/{code}", a.updateService)
	e("POST", "/desks", a.createDesk)
	e("PUT", "/desks/{number}", a.updateDesk)
	e("POST", "/priorities", a.createPriority)
	e("PUT", "/priorities/{code}", a.updatePriority)

	e("GET", "/staff", func(r *http.Request) (int, any, error) { return web.OK(a.Store.StaffList(r.Context(), OfficeOf(r).ID)) })
	e("POST", "/staff", a.createStaff)
	e("GET", "/staff/{id}", a.getStaff)
	e("PUT", "/staff/{id}", a.updateStaff)

	e("GET", "/opening-hours", func(r *http.Request) (int, any, error) { return web.OK(a.Store.WeeklyHours(r.Context(), OfficeOf(r))) })
	e("PUT", "/opening-hours", a.putOpeningHours)
	e("GET", "/exceptions", a.listExceptions)
	e("POST", "/exceptions", a.saveException)
	e("DELETE", "/exceptions/{day}", a.deleteException)
	e("GET", "/holidays", a.holidays)

	e("GET", "/devices", func(r *http.Request) (int, any, error) { return web.OK(a.Auth.Devices(r.Context(), OfficeOf(r).ID)) })
	e("POST", "/devices", a.createDevice)
	e("DELETE", "/devices/{device}", a.revokeDevice)
	e("POST", "/devices/{device}/rename", a.renameDevice)
	a.userRoutes(r, prefix)
}

// putSettings changes the office's settings; fields left out keep their values, and the slug stays.
func (a *API) putSettings(r *http.Request) (int, any, error) {
	o := *OfficeOf(r)
	slug := o.Slug
	if err := web.Decode(r, &o, false); err != nil {
		return 0, nil, err
	}
	if o.Slug != slug {
		return 0, nil, web.InvalidField("slug", "an office's slug cannot change")
	}
	o.ID = OfficeOf(r).ID
	if err := a.Store.UpdateOffice(r.Context(), &o); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.OfficeByID(r.Context(), o.ID))
}

func (a *API) createAgency(r *http.Request) (int, any, error) {
	ag := &Agency{OfficeID: OfficeOf(r).ID}
	if err := web.Decode(r, ag, false); err != nil {
		return 0, nil, err
	}
	if existing, err := a.Store.Agencies(r.Context(), ag.OfficeID); err != nil {
		return 0, nil, err
	} else if agencyIndex(existing, ag.Code) >= 0 {
		return 0, nil, web.Conflict("duplicate", "an agency %q already exists", ag.Code).On("code")
	}
	ag.OfficeID = OfficeOf(r).ID
	return web.Created(ag, a.Store.SaveAgency(r.Context(), ag))
}

func (a *API) updateAgency(r *http.Request) (int, any, error) {
	code := chi.URLParam(r, "code")
	list, err := a.Store.Agencies(r.Context(), OfficeOf(r).ID)
	if err != nil {
		return 0, nil, err
	}
	i := agencyIndex(list, code)
	if i < 0 {
		return 0, nil, web.NotFound("unknown_agency", "no agency %q in this office", code)
	}
	ag := list[i]
	if err := web.Decode(r, ag, false); err != nil {
		return 0, nil, err
	}
	if ag.Code != code {
		return 0, nil, web.InvalidField("code", "an agency's code cannot change")
	}
	ag.OfficeID = OfficeOf(r).ID
	return web.OK(ag, a.Store.SaveAgency(r.Context(), ag))
}

func agencyIndex(list []*Agency, code string) int {
	for i, ag := range list {
		if ag.Code == code {
			return i
		}
	}
	return -1
}

func (a *API) createService(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	sv := &Service{Active: true, ExpectedHandlingSeconds: 600, WaitTargetSeconds: 1200}
	if err := web.Decode(r, sv, false); err != nil {
		return 0, nil, err
	}
	if err := sv.check(); err != nil {
		return 0, nil, err
	}
	if _, err := a.Store.ServiceByCode(r.Context(), o.ID, sv.Code); err == nil {
		return 0, nil, web.Conflict("duplicate", "a service %q already exists", sv.Code).On("code")
	}
	sv.OfficeID = o.ID
	if err := a.Store.SaveService(r.Context(), sv); err != nil {
		return 0, nil, err
	}
	return web.Created(a.Store.ServiceByCode(r.Context(), o.ID, sv.Code))
}

func (a *API) updateService(r *http.Request) (int, any, error) {
	o, code := OfficeOf(r), chi.URLParam(r, "code")
	sv, err := a.Store.ServiceByCode(r.Context(), o.ID, code)
	if err != nil {
		return 0, nil, web.NotFound("unknown_service", "no service %q in this office", code)
	}
	if err := web.Decode(r, sv, false); err != nil {
		return 0, nil, err
	}
	if sv.Code != code {
		return 0, nil, web.InvalidField("code", "a service's code cannot change; create a new service instead")
	}
	sv.OfficeID = o.ID
	if err := a.Store.SaveService(r.Context(), sv); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.ServiceByCode(r.Context(), o.ID, code))
}

func (a *API) createDesk(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	d := &Desk{Active: true, Audience: Citizen, Services: []string{}}
	if err := web.Decode(r, d, false); err != nil {
		return 0, nil, err
	}
	if err := d.check(); err != nil {
		return 0, nil, err
	}
	if _, err := a.Store.DeskByNumber(r.Context(), o.ID, d.Number); err == nil {
		return 0, nil, web.Conflict("duplicate", "desk %d already exists", d.Number).On("number")
	}
	d.OfficeID = o.ID
	if err := a.Store.SaveDesk(r.Context(), d); err != nil {
		return 0, nil, err
	}
	return web.Created(a.Store.DeskByNumber(r.Context(), o.ID, d.Number))
}

func (a *API) updateDesk(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	n, err := strconv.Atoi(chi.URLParam(r, "number"))
	if err != nil {
		return 0, nil, web.NotFound("unknown_desk", "no desk %q in this office", chi.URLParam(r, "number"))
	}
	d, err := a.Store.DeskByNumber(r.Context(), o.ID, n)
	if err != nil {
		return 0, nil, err
	}
	if err := web.Decode(r, d, false); err != nil {
		return 0, nil, err
	}
	if d.Number != n {
		return 0, nil, web.InvalidField("number", "a desk's number cannot change")
	}
	d.OfficeID = o.ID
	if err := a.Store.SaveDesk(r.Context(), d); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.DeskByNumber(r.Context(), o.ID, n))
}

func (a *API) createPriority(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	p := &PriorityCategory{Active: true}
	if err := web.Decode(r, p, false); err != nil {
		return 0, nil, err
	}
	if err := p.check(); err != nil {
		return 0, nil, err
	}
	if _, err := a.Store.PriorityCategory(r.Context(), o.ID, p.Code); err == nil {
		return 0, nil, web.Conflict("duplicate", "a priority category %q already exists", p.Code).On("code")
	}
	return web.Created(p, a.Store.SavePriorityCategory(r.Context(), o.ID, p))
}

func (a *API) updatePriority(r *http.Request) (int, any, error) {
	o, code := OfficeOf(r), chi.URLParam(r, "code")
	p, err := a.Store.PriorityCategory(r.Context(), o.ID, code)
	if err != nil {
		return 0, nil, err
	}
	if err := web.Decode(r, p, false); err != nil {
		return 0, nil, err
	}
	if p.Code != code {
		return 0, nil, web.InvalidField("code", "a priority category's code cannot change")
	}
	return web.OK(p, a.Store.SavePriorityCategory(r.Context(), o.ID, p))
}

// staffInput is the staff member's own part of a staff request; the rest belongs to Planning.
type staffInput struct {
	Code     string                `json:"code"`
	FullName string                `json:"full_name"`
	Email    string                `json:"email"`
	Active   bool                  `json:"active"`
	Skills   map[string]SkillLevel `json:"skills"`
	// BackOffice marks a back-office specialist (see Staff.BackOffice).
	BackOffice bool `json:"back_office"`
}

// staffRequest decodes a staff create or update request over in: the member's own fields, then, checked
// before anything is written, the planning fields (an unknown field without Planning is a 400).
func (a *API) staffRequest(r *http.Request, in *staffInput, staffID int64) (StaffStep, error) {
	fields, err := web.DecodeFields(r)
	if err != nil {
		return nil, err
	}
	if err := web.TakeFields(fields, in); err != nil {
		return nil, err
	}
	st := &Staff{Code: in.Code, FullName: in.FullName, Email: in.Email, Skills: in.Skills}
	if err := st.check(); err != nil {
		return nil, err
	}
	if a.Planning == nil {
		for name := range fields {
			return nil, web.Invalid("malformed_json", "the request body is not valid JSON: unknown field %q", name)
		}
		return nil, nil
	}
	return a.Planning.PrepareStaff(r.Context(), OfficeOf(r).ID, staffID, fields)
}

// createStaff adds a staff member with skills and, through Planning, a contract.
func (a *API) createStaff(r *http.Request) (int, any, error) {
	in := staffInput{Active: true}
	step, err := a.staffRequest(r, &in, 0)
	if err != nil {
		return 0, nil, err
	}
	st := &Staff{OfficeID: OfficeOf(r).ID, Code: in.Code, FullName: in.FullName, Email: in.Email, Active: in.Active, Skills: in.Skills,
		BackOffice: in.BackOffice}
	if err := a.Store.CreateStaff(r.Context(), st, step); err != nil {
		return 0, nil, err
	}
	return a.staffDetail(r, http.StatusCreated, st.ID)
}

// updateStaff changes a staff member; fields left out keep their values, and skills, when given, replace
// the old ones.
func (a *API) updateStaff(r *http.Request) (int, any, error) {
	old, err := a.staffParam(r)
	if err != nil {
		return 0, nil, err
	}
	in := staffInput{Code: old.Code, FullName: old.FullName, Email: old.Email, Active: old.Active, Skills: old.Skills, BackOffice: old.BackOffice}
	step, err := a.staffRequest(r, &in, old.ID)
	if err != nil {
		return 0, nil, err
	}
	st := &Staff{ID: old.ID, OfficeID: old.OfficeID, Code: in.Code, FullName: in.FullName, Email: in.Email, Active: in.Active, Skills: in.Skills,
		BackOffice: in.BackOffice}
	if err := a.Store.UpdateStaff(r.Context(), st, step); err != nil {
		return 0, nil, err
	}
	return a.staffDetail(r, http.StatusOK, st.ID)
}

func (a *API) getStaff(r *http.Request) (int, any, error) {
	st, err := a.staffParam(r)
	if err != nil {
		return 0, nil, err
	}
	return a.staffDetail(r, http.StatusOK, st.ID)
}

// staffParam resolves {id} to a staff member of the request's office.
func (a *API) staffParam(r *http.Request) (*Staff, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return nil, staffNotFound(chi.URLParam(r, "id"))
	}
	return a.Store.StaffMember(r.Context(), OfficeOf(r).ID, id)
}

// staffDetail answers with a staff member and, through Planning, their contract and preferences.
func (a *API) staffDetail(r *http.Request, status int, id int64) (int, any, error) {
	st, err := a.Store.StaffMember(r.Context(), OfficeOf(r).ID, id)
	if err != nil {
		return 0, nil, err
	}
	if a.Planning == nil {
		return status, st, nil
	}
	extra, err := a.Planning.StaffDetail(r.Context(), st)
	if err != nil {
		return 0, nil, err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(b, &out); err != nil {
		return 0, nil, err
	}
	for k, v := range extra {
		out[k] = v
	}
	return status, out, nil
}

func (a *API) putOpeningHours(r *http.Request) (int, any, error) {
	var in WeeklyHours
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	o := OfficeOf(r)
	if err := a.Store.SetWeeklyHours(r.Context(), o.ID, in.Hours); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.WeeklyHours(r.Context(), o))
}

func (a *API) listExceptions(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	today := o.LocalDay(a.Store.Now())
	from, to, err := DateRange(r, today.AddDate(0, 0, -31), today.AddDate(1, 0, 0))
	if err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.Exceptions(r.Context(), o.ID, from, to))
}

func (a *API) saveException(r *http.Request) (int, any, error) {
	var e Exception
	if err := web.Decode(r, &e, false); err != nil {
		return 0, nil, err
	}
	return web.Created(e, a.Store.SaveException(r.Context(), OfficeOf(r).ID, &e))
}

func (a *API) deleteException(r *http.Request) (int, any, error) {
	day, err := ParseDate("day", chi.URLParam(r, "day"))
	if err != nil {
		return 0, nil, err
	}
	return web.NoContent(a.Store.DeleteException(r.Context(), OfficeOf(r).ID, day))
}

func (a *API) holidays(r *http.Request) (int, any, error) {
	o := OfficeOf(r)
	year, err := web.QueryInt(r, "year", o.LocalDay(a.Store.Now()).Year())
	if err != nil || year < 1900 || year > 2200 {
		return 0, nil, web.InvalidField("year", "year must be a number between 1900 and 2200")
	}
	return web.OK(o.Holidays(year), nil)
}

// DateRange reads ?from= and ?to= (dates), defaulting to the given span; to may not be before from.
func DateRange(r *http.Request, from, to time.Time) (time.Time, time.Time, error) {
	var err error
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = ParseDate("from", s); err != nil {
			return from, to, err
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = ParseDate("to", s); err != nil {
			return from, to, err
		}
	}
	if to.Before(from) {
		return from, to, web.InvalidField("to", "to is before from")
	}
	return from, to, nil
}

func (a *API) createDevice(r *http.Request) (int, any, error) {
	var body struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	o := OfficeOf(r)
	d, token, err := a.Auth.CreateDevice(r.Context(), o.ID, auth.DeviceKind(body.Kind), body.Name)
	if err != nil {
		return 0, nil, err
	}
	link := PairingLink(web.BaseURL(r), o.Slug, d.Kind, token)
	qr, err := QRRows(link)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"device": d, "token": token, "link": link, "qr": qr}, nil
}

// renameDevice changes a device's name: POST /devices/{device}/rename {"name": …}.
func (a *API) renameDevice(r *http.Request) (int, any, error) {
	id, err := web.PathID(r, "device", "unknown_device")
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		Name string `json:"name"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Auth.RenameDevice(r.Context(), OfficeOf(r).ID, id, strings.TrimSpace(body.Name)))
}

func (a *API) revokeDevice(r *http.Request) (int, any, error) {
	id, err := web.PathID(r, "device", "unknown_device")
	if err != nil {
		return 0, nil, err
	}
	return web.NoContent(a.Auth.RevokeDevice(r.Context(), OfficeOf(r).ID, id))
}
