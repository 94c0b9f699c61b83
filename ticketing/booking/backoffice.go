package booking

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The back office: specialists (staff.back_office) receive citizens by appointment only, in services whose
// rules say back_office. A specialist is available for an appointment in their weekly bookable hours
// (backoffice_hours) or during a shift of the published roster, and when no other appointment of theirs
// overlaps it. The front-desk operator books them for the citizen being served (the hand-off, below); the
// specialist reads the day on /agenda (agenda.go); the slip handed to the citizen is handoff_pdf.go.

// Hours is one weekly span in which a back-office specialist receives appointments.
type Hours struct {
	Weekday int                 `json:"weekday"` // ISO: 1 = Monday … 7 = Sunday
	From    ticketing.TimeOfDay `json:"from"`
	To      ticketing.TimeOfDay `json:"to"`
}

// maxHours bounds a specialist's weekly spans: a few per day is all a week holds.
const maxHours = 50

// maxNoteChars is the longest note the front desk may leave the specialist.
const maxNoteChars = 500

// checkHours names the first bad span of a week of hours, spans of one weekday may not overlap.
func checkHours(hours []Hours) error {
	if len(hours) > maxHours {
		return web.InvalidField("hours", "at most %d spans a week", maxHours)
	}
	for i, h := range hours {
		f := func(name string) string { return fmt.Sprintf("hours[%d].%s", i, name) }
		switch {
		case h.Weekday < 1 || h.Weekday > 7:
			return web.InvalidField(f("weekday"), "weekday must be from 1 (Monday) to 7 (Sunday)")
		case !h.From.Valid():
			return web.InvalidField(f("from"), "from must be a time like 08:30")
		case !h.To.Valid():
			return web.InvalidField(f("to"), "to must be a time like 08:30")
		case h.From >= h.To:
			return web.InvalidField(f("to"), "a span must end after it starts")
		}
		for j, o := range hours[:i] {
			if o.Weekday == h.Weekday && h.From < o.To && o.From < h.To {
				return web.InvalidField(f("from"), "span %d overlaps span %d", i+1, j+1)
			}
		}
	}
	return nil
}

// BackOfficeHours returns the weekly bookable hours of a staff member, by weekday and time.
func (s *Store) BackOfficeHours(ctx context.Context, staffID int64) ([]Hours, error) {
	rows, err := s.pool.Query(ctx, `SELECT weekday, starts, ends FROM backoffice_hours WHERE staff_id = $1
		ORDER BY weekday, starts`, staffID)
	if err != nil {
		return nil, fmt.Errorf("booking: back-office hours: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Hours, error) {
		var h Hours
		var from, to pgtype.Time
		if err := row.Scan(&h.Weekday, &from, &to); err != nil {
			return h, err
		}
		if err := h.From.ScanTime(from); err != nil {
			return h, err
		}
		return h, h.To.ScanTime(to)
	})
	if err != nil {
		return nil, fmt.Errorf("booking: back-office hours: %w", err)
	}
	return out, nil
}

// SetBackOfficeHours replaces the weekly bookable hours of a staff member. Appointments already booked stay:
// changing the hours never cancels anyone.
func (s *Store) SetBackOfficeHours(ctx context.Context, staffID int64, hours []Hours) error {
	if err := checkHours(hours); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM backoffice_hours WHERE staff_id = $1`, staffID); err != nil {
			return fmt.Errorf("booking: set back-office hours: %w", err)
		}
		for _, h := range hours {
			if _, err := tx.Exec(ctx, `INSERT INTO backoffice_hours (staff_id, weekday, starts, ends) VALUES ($1, $2, $3, $4)`,
				staffID, h.Weekday, h.From, h.To); err != nil {
				return fmt.Errorf("booking: set back-office hours: %w", err)
			}
		}
		return nil
	})
}

// BackOfficeService is a service the front desk books for a specialist.
type BackOfficeService struct {
	Code  string            `json:"code"`
	Names map[string]string `json:"names"`
}

// Specialist is a back-office staff member and the back-office services they handle.
type Specialist struct {
	ID       int64    `json:"id"`
	FullName string   `json:"full_name"`
	Services []string `json:"services"`
}

// BackOffice is what the front desk chooses from: the office's back-office services and specialists.
type BackOffice struct {
	Services    []BackOfficeService `json:"services"`
	Specialists []Specialist        `json:"specialists"`
}

// backOffice returns the office's bookable back-office services and the active specialists with a skill for
// one of them, with the services themselves (by id) for the caller.
func (s *Store) backOffice(ctx context.Context, o *ticketing.Office) (*BackOffice, map[string]*ticketing.Service, error) {
	rules, err := s.OfficeRules(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	services, err := s.tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	out := &BackOffice{Services: []BackOfficeService{}, Specialists: []Specialist{}}
	byCode := map[string]*ticketing.Service{}
	for _, svc := range services {
		if r, ok := rules[svc.ID]; ok && r.BackOffice && r.Bookable && svc.Active {
			out.Services = append(out.Services, BackOfficeService{Code: svc.Code, Names: svc.Names})
			byCode[svc.Code] = svc
		}
	}
	staff, err := s.tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range staff {
		if !st.Active || !st.BackOffice {
			continue
		}
		sp := Specialist{ID: st.ID, FullName: st.FullName, Services: []string{}}
		for code := range st.Skills {
			if byCode[code] != nil {
				sp.Services = append(sp.Services, code)
			}
		}
		sort.Strings(sp.Services)
		if len(sp.Services) > 0 {
			out.Specialists = append(out.Specialists, sp)
		}
	}
	return out, byCode, nil
}

// specialistsFor returns the specialists of bo who handle service code.
func (bo *BackOffice) specialistsFor(code string) []Specialist {
	var out []Specialist
	for _, sp := range bo.Specialists {
		if slices.Contains(sp.Services, code) {
			out = append(out, sp)
		}
	}
	return out
}

// StaffSlot is a slot of a back-office service and the specialists free in it.
type StaffSlot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Staff are the ids of the specialists free in the slot (with the staff filter: that one).
	Staff []int64 `json:"staff"`
}

// backOfficeSlots returns the slots of a back-office service on a local day that have a free specialist
// (staffID, when not 0), with the specialists free in each.
func (s *Store) backOfficeSlots(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, day time.Time, staffID int64) ([]StaffSlot, error) {
	slots, err := s.Slots(ctx, o, svc, o.Midnight(day), o.Midnight(day.AddDate(0, 0, 1)))
	if err != nil {
		return nil, err
	}
	out := []StaffSlot{}
	for _, sl := range slots {
		ss := StaffSlot{Start: sl.Start, End: sl.End, Staff: []int64{}}
		for _, id := range sl.Staff {
			if staffID == 0 || id == staffID {
				ss.Staff = append(ss.Staff, id)
			}
		}
		if sl.Free > 0 && len(ss.Staff) > 0 {
			out = append(out, ss)
		}
	}
	return out, nil
}

// HandOffRequest is the body of POST /api/v1/desks/{desk}/handoff. Email, phone and lang are the citizen's,
// for the confirmation and reminders, optional.
type HandOffRequest struct {
	Service string    `json:"service"`
	Start   time.Time `json:"start"`
	Staff   int64     `json:"staff"`
	Note    string    `json:"note"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	Phone   string    `json:"phone"`
	Lang    string    `json:"lang"`
}

// HandOffResult is the answer of a hand-off: the booking made and where its slip is printed from.
type HandOffResult struct {
	Booking *Booking `json:"booking"`
	// Staff is the specialist the appointment is with.
	Staff   *Specialist `json:"staff"`
	SlipURL string      `json:"slip_url"`
}

// checkNote trims the front desk's note and refuses one too long or with control characters.
func checkNote(note string) (string, error) {
	note, n, controls := web.FreeText(note)
	if n > maxNoteChars {
		return "", web.InvalidField("note", "the note may be at most %d characters, not %d", maxNoteChars, n)
	}
	if controls {
		return "", web.InvalidField("note", "the note may not contain control characters")
	}
	return note, nil
}

// HandOff books a back-office appointment for the citizen of the ticket that the operator userID is
// serving (called or serving) at desk deskID, and records the hand-off on the ticket's journey. With no
// specialist asked for, Book gives it to one free at that time. A request repeated with its
// Idempotency-Key returns the same booking and records nothing again.
func (s *Store) HandOff(ctx context.Context, deskID, userID int64, in HandOffRequest, idempotencyKey string) (*HandOffResult, error) {
	cur, err := s.tickets.DeskTicket(ctx, deskID, userID)
	if err != nil {
		return nil, err
	}
	o, err := s.tickets.OfficeByID(ctx, cur.OfficeID)
	if err != nil {
		return nil, err
	}
	if in.Service == "" {
		return nil, web.InvalidField("service", "service is required")
	}
	bo, services, err := s.backOffice(ctx, o)
	if err != nil {
		return nil, err
	}
	svc := services[in.Service]
	if svc == nil {
		return nil, web.InvalidField("service", "%q is not a back-office service of this office", in.Service)
	}
	if in.Start.IsZero() {
		return nil, web.InvalidField("start", "start is required, like 2026-03-02T09:30:00+01:00")
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return nil, err
	}
	specialists := bo.specialistsFor(svc.Code)
	var who *Specialist
	if in.Staff != 0 {
		for i := range specialists {
			if specialists[i].ID == in.Staff {
				who = &specialists[i]
			}
		}
		if who == nil {
			return nil, web.InvalidField("staff", "staff member %d is not a specialist of %q", in.Staff, svc.Code)
		}
	}
	req := BookRequest{Service: svc.Code, Start: in.Start, Name: in.Name, Email: in.Email, Phone: in.Phone, Lang: in.Lang,
		IdempotencyKey: idempotencyKey, Note: note, HandedOffFrom: cur.ID, UserID: userID}
	if who != nil {
		req.StaffID = who.ID
	}
	b, created, err := s.Book(ctx, o, req)
	if err != nil {
		return nil, err
	}
	if created {
		if err := s.tickets.RecordHandOff(ctx, deskID, userID, cur.ID, ticketing.HandOff{Service: svc.Code, Start: b.Start}); err != nil {
			return nil, err
		}
	}
	return s.handOffResult(b, specialists), nil
}

// handOffResult is the answer about booking b, with its specialist out of specialists.
func (s *Store) handOffResult(b *Booking, specialists []Specialist) *HandOffResult {
	res := &HandOffResult{Booking: b, SlipURL: "/api/v1/bookings/" + b.Code + "/slip.pdf"}
	for i := range specialists {
		if specialists[i].ID == b.StaffID {
			res.Staff = &specialists[i]
		}
	}
	return res
}

// backOfficeRoutes mounts the hand-off, the specialists' hours, the slip and the agenda.
func (h *Handler) backOfficeRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	staffOnly := auth.RequireRole(auth.Operator, auth.Manager, auth.Admin)
	r.With(staffOnly, h.Tickets.InOffice(ticketing.Members)).Method("GET", o+"/backoffice", web.Endpoint(func(r *http.Request) (int, any, error) {
		bo, _, err := h.Store.backOffice(r.Context(), ticketing.OfficeOf(r))
		return web.OK(bo, err)
	}))
	r.With(staffOnly, h.Tickets.InOffice(ticketing.Members)).Method("GET", o+"/backoffice/slots", web.Endpoint(h.slots))
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), h.Tickets.InOffice(ticketing.Managers))
		r.Method("GET", o+"/staff/{id}/backoffice-hours", web.Endpoint(func(r *http.Request) (int, any, error) {
			st, err := h.staffParam(r)
			if err != nil {
				return 0, nil, err
			}
			return web.OK(h.Store.BackOfficeHours(r.Context(), st.ID))
		}))
		r.Method("PUT", o+"/staff/{id}/backoffice-hours", web.Endpoint(func(r *http.Request) (int, any, error) {
			st, err := h.staffParam(r)
			if err != nil {
				return 0, nil, err
			}
			var hours []Hours
			if err := web.Decode(r, &hours, false); err != nil {
				return 0, nil, err
			}
			if err := h.Store.SetBackOfficeHours(r.Context(), st.ID, hours); err != nil {
				return 0, nil, err
			}
			return web.OK(h.Store.BackOfficeHours(r.Context(), st.ID))
		}))
	})
	r.With(staffOnly).Method("POST", "/api/v1/desks/{desk}/handoff", web.Endpoint(h.handOff))
	r.With(staffOnly).Method("GET", "/api/v1/bookings/{code}/slip.pdf", http.HandlerFunc(h.slip))
	h.agendaRoutes(r)
}

// staffParam resolves {id} to a staff member of the request's office (404 otherwise).
func (h *Handler) staffParam(r *http.Request) (*ticketing.Staff, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return nil, web.NotFound("unknown_staff", "no staff member %v in this office", chi.URLParam(r, "id")).On("staff")
	}
	return h.Tickets.StaffMember(r.Context(), ticketing.OfficeOf(r).ID, id)
}

// slots answers GET /api/v1/offices/{office}/backoffice/slots?service=&day=&staff=: the day's slots of a
// back-office service with a free specialist (the one asked for, with staff).
func (h *Handler) slots(r *http.Request) (int, any, error) {
	ctx := r.Context()
	o := ticketing.OfficeOf(r)
	q := r.URL.Query()
	bo, services, err := h.Store.backOffice(ctx, o)
	if err != nil {
		return 0, nil, err
	}
	svc := services[q.Get("service")]
	if svc == nil {
		return 0, nil, web.InvalidField("service", "%q is not a back-office service of this office", q.Get("service"))
	}
	day := o.LocalDay(h.Store.now())
	if s := q.Get("day"); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return 0, nil, web.InvalidField("day", "day must be a date like 2026-03-02")
		}
		day = d
	}
	var staffID int64
	if s := q.Get("staff"); s != "" {
		if staffID, err = strconv.ParseInt(s, 10, 64); err != nil || staffID <= 0 {
			return 0, nil, web.InvalidField("staff", "staff must be a staff member's id")
		}
		if !slices.ContainsFunc(bo.specialistsFor(svc.Code), func(sp Specialist) bool { return sp.ID == staffID }) {
			return 0, nil, web.InvalidField("staff", "staff member %d is not a specialist of %q", staffID, svc.Code)
		}
	}
	return web.OK(h.Store.backOfficeSlots(ctx, o, svc, day, staffID))
}

// handOff answers POST /api/v1/desks/{desk}/handoff (the operator signed in at the desk).
func (h *Handler) handOff(r *http.Request) (int, any, error) {
	id, err := web.PathID(r, "desk", "unknown_desk")
	if err != nil {
		return 0, nil, err
	}
	u := auth.FromContext(r.Context()).User
	// The desk comes first: whoever is not signed in to it is refused before their body is read.
	if _, err := h.Tickets.DeskTicket(r.Context(), id, u.ID); err != nil {
		return 0, nil, err
	}
	var in HandOffRequest
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	res, err := h.Store.HandOff(r.Context(), id, u.ID, in, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, res, nil
}

// bookingOfStaff returns the booking with a code if user u works in its office; one of another office is a
// 404 like an unknown code.
func (h *Handler) bookingOfStaff(ctx context.Context, code string, u *auth.User) (*Booking, error) {
	b, err := h.Store.ByCode(ctx, NormalizeCode(code))
	if err != nil {
		return nil, err
	}
	if !auth.WorksIn(u, b.OfficeID) {
		return nil, notFound(code)
	}
	return b, nil
}
