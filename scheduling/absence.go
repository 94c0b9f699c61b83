package scheduling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Absence kinds: leave (ferie), sickness (malattia), training (formazione), a Law 104 permit, other.
var AbsenceKinds = []string{"leave", "sickness", "training", "permit_104", "other"}

// Absence is a period a staff member cannot work.
type Absence struct {
	ID        int64     `json:"id"`
	StaffID   int64     `json:"staff_id"`
	StaffCode string    `json:"staff_code"`
	StaffName string    `json:"staff_name"`
	Kind      string    `json:"kind"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"` // exclusive
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// AbsenceInput records an absence. StartsAt and EndsAt are RFC 3339 times, local "2006-01-02T15:04" times
// in the office's time zone, or dates: a start date means from that day's local midnight, an end date
// means until the end of that day (so leave from "2026-03-02" to "2026-03-06" is five days).
type AbsenceInput struct {
	StaffID  int64  `json:"staff_id"`
	Kind     string `json:"kind"`
	StartsAt string `json:"starts_at"`
	EndsAt   string `json:"ends_at"`
	Note     string `json:"note"`
}

// maxAbsence bounds one absence record; longer ones are recorded in several.
const maxAbsence = 366 * 24 * time.Hour

// parseMoment parses a time in one of AbsenceInput's forms; end turns a date into the next midnight.
func parseMoment(field, s string, loc *time.Location, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, loc); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
		}
		return d, nil
	}
	return time.Time{}, web.InvalidField(field, "%s must be a date (2026-03-02), a local time (2026-03-02T07:45) or an RFC 3339 time, not %q", field, s)
}

// RecordAbsence validates in and stores the absence of a staff member of office o, recorded by the user by
// (0 when unknown). A staff member of another office is a 422 on staff_id; an absence that ends before it
// starts is a 422 on ends_at; one overlapping another absence of the same person is a 409. Nothing is
// written on error.
func RecordAbsence(ctx context.Context, store *ticketing.Store, o *ticketing.Office, in AbsenceInput, by int64) (*Absence, error) {
	if in.StaffID <= 0 {
		return nil, web.InvalidField("staff_id", "staff_id is required")
	}
	st, err := store.StaffMember(ctx, o.ID, in.StaffID)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		return nil, web.InvalidField("staff_id", "no staff member %d in this office", in.StaffID)
	}
	if err != nil {
		return nil, err
	}
	if !validKind(in.Kind) {
		return nil, web.InvalidField("kind", "kind must be one of leave, sickness, training, permit_104, other")
	}
	starts, err := parseMoment("starts_at", in.StartsAt, o.Location(), false)
	if err != nil {
		return nil, err
	}
	ends, err := parseMoment("ends_at", in.EndsAt, o.Location(), true)
	if err != nil {
		return nil, err
	}
	if !ends.After(starts) {
		return nil, web.InvalidField("ends_at", "the absence ends (%s) before it starts (%s)", in.EndsAt, in.StartsAt)
	}
	if ends.Sub(starts) > maxAbsence {
		return nil, web.InvalidField("ends_at", "an absence may last at most 366 days; record longer ones in parts")
	}
	if len(in.Note) > 500 {
		return nil, web.InvalidField("note", "note is longer than 500 characters")
	}
	a := &Absence{StaffID: st.ID, StaffCode: st.Code, StaffName: st.FullName, Kind: in.Kind, StartsAt: starts.UTC(), EndsAt: ends.UTC(), Note: in.Note}
	err = pgx.BeginFunc(ctx, store.Pool(), func(tx pgx.Tx) error {
		// The staff row lock serialises absences of one person, so two overlapping requests cannot both pass.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM staff WHERE id = $1 FOR UPDATE`, st.ID); err != nil {
			return fmt.Errorf("scheduling: lock staff %d: %w", st.ID, err)
		}
		var other Absence
		err := tx.QueryRow(ctx, `SELECT id, kind, starts_at, ends_at FROM absences
			WHERE staff_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at LIMIT 1`, st.ID, a.StartsAt, a.EndsAt).
			Scan(&other.ID, &other.Kind, &other.StartsAt, &other.EndsAt)
		if err == nil {
			return &web.Error{Status: http.StatusConflict, Code: "overlapping_absence", Field: "starts_at",
				Message: fmt.Sprintf("%s already has an absence (%s) from %s to %s", st.FullName, other.Kind,
					other.StartsAt.In(o.Location()).Format("2006-01-02 15:04"), other.EndsAt.In(o.Location()).Format("2006-01-02 15:04"))}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("scheduling: overlapping absences: %w", err)
		}
		var createdBy any
		if by > 0 {
			createdBy = by
		}
		return tx.QueryRow(ctx, `INSERT INTO absences (office_id, staff_id, kind, starts_at, ends_at, note, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at`, o.ID, st.ID, a.Kind, a.StartsAt, a.EndsAt, a.Note, createdBy).
			Scan(&a.ID, &a.CreatedAt)
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func validKind(k string) bool {
	for _, x := range AbsenceKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Absences lists an office's absences overlapping [from, to), of one staff member when staffID is not 0.
func Absences(ctx context.Context, pool *pgxpool.Pool, officeID int64, from, to time.Time, staffID int64) ([]Absence, error) {
	rows, err := pool.Query(ctx, `
		SELECT a.id, a.staff_id, s.code, s.full_name, a.kind, a.starts_at, a.ends_at, a.note, a.created_at
		FROM absences a JOIN staff s ON s.id = a.staff_id
		WHERE a.office_id = $1 AND a.starts_at < $3 AND a.ends_at > $2 AND ($4 = 0 OR a.staff_id = $4)
		ORDER BY a.starts_at, s.full_name`, officeID, from, to, staffID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list absences: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Absence, error) {
		var a Absence
		err := row.Scan(&a.ID, &a.StaffID, &a.StaffCode, &a.StaffName, &a.Kind, &a.StartsAt, &a.EndsAt, &a.Note, &a.CreatedAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("scheduling: list absences: %w", err)
	}
	return append([]Absence{}, list...), nil
}

func (a *API) listAbsences(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	today := o.LocalDay(a.now())
	from, to, err := dateRange(r, today.AddDate(0, 0, -7), today.AddDate(0, 3, 0))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var staffID int64
	if s := r.URL.Query().Get("staff"); s != "" {
		if staffID, err = strconv.ParseInt(s, 10, 64); err != nil {
			web.WriteError(w, r, web.InvalidField("staff", "staff must be a staff id"))
			return
		}
	}
	loc := o.Location()
	list, err := Absences(r.Context(), a.pool(), o.ID,
		time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc),
		time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, loc), staffID)
	reply(w, r, http.StatusOK, list, err)
}

func (a *API) createAbsence(w http.ResponseWriter, r *http.Request) {
	var in AbsenceInput
	if err := web.Decode(r, &in, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	var by int64
	if u := auth.FromContext(r.Context()).User; u != nil {
		by = u.ID
	}
	ab, err := RecordAbsence(r.Context(), a.Store, officeOf(r), in, by)
	reply(w, r, http.StatusCreated, ab, err)
}

func (a *API) deleteAbsence(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	tag, err := a.pool().Exec(r.Context(), `DELETE FROM absences WHERE id = $1 AND office_id = $2`, id, officeOf(r).ID)
	if err != nil {
		web.WriteError(w, r, fmt.Errorf("scheduling: delete absence: %w", err))
		return
	}
	if tag.RowsAffected() == 0 {
		web.WriteError(w, r, web.NotFound("unknown_absence", "no absence %q in this office", chi.URLParam(r, "id")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
