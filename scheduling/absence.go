package scheduling

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// AbsenceKinds are the kinds of absence: leave (ferie), sickness (malattia), training (formazione), a
// Law 104 permit, other.
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

// parseMoment parses a time in one of AbsenceInput's forms in office o; end turns a date into the next
// local midnight.
func parseMoment(field, s string, o *ticketing.Office, end bool) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, o.Location()); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return o.Midnight(d), nil
	}
	return time.Time{}, web.InvalidField(field, "%s must be a date (2026-03-02), a local time (2026-03-02T07:45) or an RFC 3339 time, not %q", web.Term(field), s)
}

// RecordAbsence validates in and stores the absence of a staff member of office o, recorded by the user by
// (0 when unknown). A staff member of another office is a 422 on staff_id; an absence that ends before it
// starts is a 422 on ends_at; one overlapping another absence of the same person is a 409. Nothing is
// written on error.
func (s *Store) RecordAbsence(ctx context.Context, o *ticketing.Office, in AbsenceInput, by int64) (*Absence, error) {
	if in.StaffID <= 0 {
		return nil, web.InvalidField("staff_id", "staff_id is required")
	}
	st, err := s.tickets.StaffMember(ctx, o.ID, in.StaffID)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		return nil, web.InvalidField("staff_id", "no staff member %d in this office", in.StaffID)
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(AbsenceKinds, in.Kind) {
		return nil, web.InvalidField("kind", "kind must be one of leave, sickness, training, permit_104, other")
	}
	starts, err := parseMoment("starts_at", in.StartsAt, o, false)
	if err != nil {
		return nil, err
	}
	ends, err := parseMoment("ends_at", in.EndsAt, o, true)
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
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// A lock per person serialises their absences, so two overlapping requests cannot both pass.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('turno.absences:' || $1::bigint, 0))`, st.ID); err != nil {
			return fmt.Errorf("scheduling: lock absences of staff %d: %w", st.ID, err)
		}
		var other Absence
		err := tx.QueryRow(ctx, `SELECT id, kind, starts_at, ends_at FROM absences
			WHERE staff_id = $1 AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at LIMIT 1`, st.ID, a.StartsAt, a.EndsAt).
			Scan(&other.ID, &other.Kind, &other.StartsAt, &other.EndsAt)
		if err == nil {
			return web.Conflict("overlapping_absence", "%s already has an absence (%s) from %s to %s", st.FullName, web.Term(other.Kind),
				web.Moment(other.StartsAt.In(o.Location())), web.Moment(other.EndsAt.In(o.Location()))).On("starts_at")
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

const absenceColumns = `id, staff_id, kind, starts_at, ends_at, note, created_at`

func scanAbsence(row pgx.CollectableRow) (Absence, error) {
	var a Absence
	err := row.Scan(&a.ID, &a.StaffID, &a.Kind, &a.StartsAt, &a.EndsAt, &a.Note, &a.CreatedAt)
	return a, err
}

// Absences lists an office's absences overlapping [from, to), of one staff member when staffID is not 0,
// by start and name.
func (s *Store) Absences(ctx context.Context, officeID int64, from, to time.Time, staffID int64) ([]Absence, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+absenceColumns+` FROM absences
		WHERE office_id = $1 AND starts_at < $3 AND ends_at > $2 AND ($4 = 0 OR staff_id = $4)
		ORDER BY starts_at, id`, officeID, from, to, staffID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list absences: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanAbsence)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list absences: %w", err)
	}
	staff, err := s.tickets.StaffList(ctx, officeID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]*ticketing.Staff{}
	for _, st := range staff {
		byID[st.ID] = st
	}
	for i := range list {
		if st := byID[list[i].StaffID]; st != nil {
			list[i].StaffCode, list[i].StaffName = st.Code, st.FullName
		}
	}
	slices.SortStableFunc(list, func(a, b Absence) int {
		if c := a.StartsAt.Compare(b.StartsAt); c != 0 {
			return c
		}
		return cmp.Compare(a.StaffName, b.StaffName)
	})
	return append([]Absence{}, list...), nil
}

// Absence returns one absence of an office, or a 404.
func (s *Store) Absence(ctx context.Context, officeID, id int64) (*Absence, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+absenceColumns+` FROM absences WHERE id = $1 AND office_id = $2`, id, officeID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: absence %d: %w", id, err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAbsence)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_absence", "no absence %d in this office", id)
	}
	if err != nil {
		return nil, fmt.Errorf("scheduling: absence %d: %w", id, err)
	}
	return &a, nil
}

// DeleteAbsence removes an absence of an office; one it does not have is a 404.
func (s *Store) DeleteAbsence(ctx context.Context, officeID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM absences WHERE id = $1 AND office_id = $2`, id, officeID)
	if err != nil {
		return fmt.Errorf("scheduling: delete absence: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return web.NotFound("unknown_absence", "no absence %d in this office", id)
	}
	return nil
}

// PurgeAbsenceNotes clears the notes of an office's absences that ended before cutoff: a note may name an
// illness, and the absence itself is all planning needs. It is a step of ticketing's purge job
// (ticketing.PurgeStep) and returns how many notes it cleared.
func (s *Store) PurgeAbsenceNotes(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE absences SET note = '' WHERE office_id = $1 AND ends_at < $2 AND note <> ''`, officeID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("scheduling: purge absence notes: %w", err)
	}
	return tag.RowsAffected(), nil
}

func (a *API) listAbsences(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	today := o.LocalDay(a.Tickets.Now())
	from, to, err := ticketing.DateRange(r, today.AddDate(0, 0, -7), today.AddDate(0, 3, 0))
	if err != nil {
		return 0, nil, err
	}
	var staffID int64
	if s := r.URL.Query().Get("staff"); s != "" {
		if staffID, err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, nil, web.InvalidField("staff", "staff must be a staff id")
		}
	}
	return web.OK(a.Store.Absences(r.Context(), o.ID, o.Midnight(from), o.Midnight(to.AddDate(0, 0, 1)), staffID))
}

func (a *API) createAbsence(r *http.Request) (int, any, error) {
	var in AbsenceInput
	if err := web.Decode(r, &in, false); err != nil {
		return 0, nil, err
	}
	var by int64
	if u := auth.FromContext(r.Context()).User; u != nil {
		by = u.ID
	}
	return web.Created(a.Store.RecordAbsence(r.Context(), ticketing.OfficeOf(r), in, by))
}

func (a *API) deleteAbsence(r *http.Request) (int, any, error) {
	id, err := web.PathID(r, "id", "unknown_absence")
	if err != nil {
		return 0, nil, err
	}
	return web.NoContent(a.Store.DeleteAbsence(r.Context(), ticketing.OfficeOf(r).ID, id))
}
