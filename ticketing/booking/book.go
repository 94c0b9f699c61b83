package booking

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/web"
	"turno/ticketing"
)

// BookRequest asks for an appointment.
type BookRequest struct {
	Service string    // the service's code
	Start   time.Time // the start of one of the service's slots
	// Name, Email and Phone are the citizen's, optional, for reminders; Lang is the language of the
	// messages and pages (default: the office's).
	Name, Email, Phone, Lang string
	// IdempotencyKey, optional, makes a retry return the booking the first request made.
	IdempotencyKey string
	// StaffID is the back-office specialist asked for (0: any free one).
	StaffID int64
	// Note is the front desk's note for the specialist.
	Note string
	// HandedOffFrom is the front-desk ticket the booking is made for (the hand-off).
	HandedOffFrom int64
	// UserID is the staff member who books (0: the citizen). Back-office services need one.
	UserID int64
}

// Limits of a booking's fields.
const (
	MaxNameChars  = 100
	MaxNoteChars  = 500
	maxEmailChars = 254
)

var (
	phonePattern = regexp.MustCompile(`^\+[0-9]{6,15}$`)
	keyPattern   = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
	// phoneSeparators are what people write between a phone number's digits.
	phoneSeparators = strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "", "/", "")
)

// check validates the request's own fields, trims them, writes the phone number in its plain form (+ and
// digits) and fills the default language.
func (req *BookRequest) check(o *ticketing.Office) error {
	req.Name, req.Email, req.Note = strings.TrimSpace(req.Name), strings.TrimSpace(req.Email), strings.TrimSpace(req.Note)
	req.Phone = phoneSeparators.Replace(strings.TrimSpace(req.Phone))
	if strings.HasPrefix(req.Phone, "00") {
		req.Phone = "+" + req.Phone[2:]
	}
	if req.Lang == "" {
		req.Lang = o.Lang
		if !web.IsCitizenLang(req.Lang) {
			req.Lang = "it"
		}
	}
	switch {
	case req.Service == "":
		return web.InvalidField("service", "service is required")
	case req.Start.IsZero():
		return web.InvalidField("start", "start must be a date and time like 2026-03-02T09:30:00+01:00")
	case utf8.RuneCountInString(req.Name) > MaxNameChars || strings.ContainsFunc(req.Name, unicode.IsControl):
		return web.InvalidField("name", "the name may be at most %d characters, on one line", MaxNameChars)
	case req.Email != "" && !validEmail(req.Email):
		return web.InvalidField("email", "this is not a valid e-mail address")
	case req.Phone != "" && !phonePattern.MatchString(req.Phone):
		return web.InvalidField("phone", "the phone number must be + and the country code, 6 to 15 digits in all")
	case !web.IsCitizenLang(req.Lang):
		return web.InvalidField("lang", "the language must be one of it, en, fr, es, ro, sq, uk, zh, ar")
	case utf8.RuneCountInString(req.Note) > MaxNoteChars:
		return web.InvalidField("note", "the note for the specialist may be at most %d characters", MaxNoteChars)
	case req.IdempotencyKey != "" && !keyPattern.MatchString(req.IdempotencyKey):
		return web.Invalid("invalid_idempotency_key", "Idempotency-Key must be 1–128 printable ASCII characters")
	}
	req.Start = req.Start.UTC()
	return nil
}

// validEmail reports whether s is a bare e-mail address (no display name, no angle brackets).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= maxEmailChars && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// fingerprint identifies what a request asks for, so that a replayed Idempotency-Key can be told from a
// key reused for another booking.
func (req *BookRequest) fingerprint() []byte {
	h := sha256.Sum256([]byte(strings.Join([]string{req.Service, req.Start.UTC().Format(time.RFC3339Nano), req.Name,
		req.Email, req.Phone, req.Lang, strconv.FormatInt(req.StaffID, 10), req.Note,
		strconv.FormatInt(req.HandedOffFrom, 10), strconv.FormatInt(req.UserID, 10)}, "\x00")))
	return h[:]
}

// Book makes an appointment in office o. It returns the booking and whether it was made now (false: an
// earlier request with the same Idempotency-Key made it, and it is returned again).
//
// The request is checked first (the service must be one of this office's, active and bookable; a
// back-office service is booked by staff only; the start must be a slot's start, with a 422 on "start"
// saying why not). Then one transaction takes the office's booking lock, which serialises the bookings of
// the office (places are shared between services through the staff, and specialists between back-office
// services), counts the slot's places and bookings again, refuses a full slot with 409 slot_full, writes
// the booking and runs the confirmation hook.
func (s *Store) Book(ctx context.Context, o *ticketing.Office, req BookRequest) (*Booking, bool, error) {
	if err := req.check(o); err != nil {
		return nil, false, err
	}
	if req.IdempotencyKey != "" {
		if b, err := replay(ctx, s.pool, o.ID, &req); err != nil || b != nil {
			return b, false, err
		}
	}
	svc, rules, err := s.bookable(ctx, o, req.Service)
	if err != nil {
		return nil, false, err
	}
	switch {
	case rules.BackOffice && req.UserID == 0:
		return nil, false, web.Forbidden("back_office_only", "this service is booked by the front desk only").On("service")
	case !rules.BackOffice && req.StaffID != 0:
		return nil, false, web.InvalidField("staff", "only back-office appointments are booked with a specialist")
	}
	c, err := s.capacityOfDay(ctx, o, svc, rules, req.Start)
	if err != nil {
		return nil, false, err
	}
	if err := c.refuse(req.Start); err != nil {
		return nil, false, err
	}
	if req.StaffID != 0 && !c.skilled[req.StaffID] {
		return nil, false, web.InvalidField("staff", "staff %d is not a specialist of this service", req.StaffID)
	}
	var b *Booking
	created := true
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockOffice(ctx, tx, o.ID); err != nil {
			return err
		}
		if req.IdempotencyKey != "" { // a concurrent retry may have made it while this one waited
			var err error
			if b, err = replay(ctx, tx, o.ID, &req); err != nil || b != nil {
				created = false
				return err
			}
		}
		held, err := heldIn(ctx, tx, o.ID, req.Start, req.Start.Add(c.length))
		if err != nil {
			return err
		}
		sl := c.slot(req.Start, held, 0)
		staff, err := pickStaff(sl, req.StaffID, 0)
		if err != nil {
			return err
		}
		if b, err = insertBooking(ctx, tx, o, svc, sl, staff, &req, s.now()); err != nil {
			return err
		}
		return s.onBooked(ctx, tx, b)
	})
	if err != nil {
		return nil, false, err
	}
	return b, created, nil
}

// bookable returns an office's service by code with its rules, refusing one that cannot be booked with a
// 422 on "service" (a service of another office is unknown here).
func (s *Store) bookable(ctx context.Context, o *ticketing.Office, code string) (*ticketing.Service, Rules, error) {
	svc, err := s.tickets.ServiceByCode(ctx, o.ID, code)
	if err != nil {
		return nil, Rules{}, err
	}
	rules, err := s.RulesOf(ctx, svc)
	if err != nil {
		return nil, Rules{}, err
	}
	if !rules.Bookable || !svc.Active {
		return nil, Rules{}, web.Errorf(http.StatusUnprocessableEntity, "service_not_bookable", "service %q cannot be booked", svc.Code).On("service")
	}
	return svc, rules, nil
}

// capacityOfDay loads the capacity of the local day of start.
func (s *Store) capacityOfDay(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, rules Rules, start time.Time) (*capacity, error) {
	day := o.LocalDay(start)
	return s.capacity(ctx, o, svc, rules, o.Midnight(day), o.Midnight(day.AddDate(0, 0, 1)))
}

// lockOffice takes the office's booking lock until the transaction ends.
func lockOffice(ctx context.Context, tx pgx.Tx, officeID int64) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('turno.bookings:' || $1::bigint, 0))`, officeID); err != nil {
		return fmt.Errorf("booking: lock office %d: %w", officeID, err)
	}
	return nil
}

// pickStaff chooses the specialist of a back-office booking in slot sl: the one asked for, else the one the
// booking had (keep, when moving it), else the first free one. It refuses a full slot with 409 slot_full;
// for another service it returns 0.
func pickStaff(sl Slot, asked, keep int64) (int64, error) {
	if sl.Free <= 0 {
		return 0, slotFull()
	}
	if sl.available == nil && sl.Staff == nil {
		return 0, nil
	}
	for _, id := range []int64{asked, keep} {
		for _, free := range sl.Staff {
			if id != 0 && id == free {
				return id, nil
			}
		}
	}
	if asked != 0 {
		return 0, web.Conflict("slot_full", "the specialist is not free at that time; choose another slot")
	}
	return sl.Staff[0], nil
}

func slotFull() error {
	return web.Conflict("slot_full", "this slot is full; choose another one")
}

// insertBooking writes a booking in slot sl, drawing a fresh code until one is unused.
func insertBooking(ctx context.Context, tx pgx.Tx, o *ticketing.Office, svc *ticketing.Service, sl Slot, staff int64, req *BookRequest, now time.Time) (*Booking, error) {
	for {
		code := newCode()
		tag, err := tx.Exec(ctx, `
			INSERT INTO bookings (office_id, service_id, code, starts_at, ends_at, status, staff_id, lang, name, email, phone,
				note, handed_off_from, idempotency_key, request_hash, booked_by_user, created_at)
			VALUES ($1, $2, $3, $4, $5, 'booked', NULLIF($6, 0), $7, NULLIF($8, ''), NULLIF($9, ''), NULLIF($10, ''),
				NULLIF($11, ''), NULLIF($12, 0), NULLIF($13, ''), CASE WHEN $13 <> '' THEN $14::bytea END, NULLIF($15, 0), $16)
			ON CONFLICT (code) DO NOTHING`,
			o.ID, svc.ID, code, sl.Start, sl.End, staff, req.Lang, req.Name, req.Email, req.Phone, req.Note,
			req.HandedOffFrom, req.IdempotencyKey, req.fingerprint(), req.UserID, now)
		if err != nil {
			return nil, fmt.Errorf("booking: insert: %w", err)
		}
		if tag.RowsAffected() == 1 {
			return byCode(ctx, tx, code)
		}
	}
}

// replay returns the booking an earlier request of office officeID made with req's Idempotency-Key, or
// nil; the same key with another request is a 422.
func replay(ctx context.Context, q Querier, officeID int64, req *BookRequest) (*Booking, error) {
	var code string
	var hash []byte
	err := q.QueryRow(ctx, `SELECT code, request_hash FROM bookings WHERE office_id = $1 AND idempotency_key = $2`,
		officeID, req.IdempotencyKey).Scan(&code, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("booking: by idempotency key: %w", err)
	}
	if !bytes.Equal(hash, req.fingerprint()) {
		return nil, web.Errorf(http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used for another request; use a new key for a new booking")
	}
	return byCode(ctx, q, code)
}

// notBooked is the 409 for a change to a booking that no longer holds its place as booked.
func notBooked(st Status) error {
	switch st {
	case Cancelled:
		return web.Conflict("not_booked", "this booking has been cancelled")
	case CheckedIn:
		return web.Conflict("not_booked", "this booking has been checked in already")
	}
	return web.Conflict("not_booked", "this booking was missed: the appointment has passed")
}

// Cancel cancels a booked appointment, by the citizen (ByCitizen) or the office (ByOffice), freeing its
// place, and runs the cancellation hook in the same transaction. A booking that is no longer booked
// (cancelled, checked in, missed) is a 409.
func (s *Store) Cancel(ctx context.Context, code, by string) (*Booking, error) {
	if by != ByCitizen && by != ByOffice {
		return nil, fmt.Errorf("booking: cancel by %q", by)
	}
	var b *Booking
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if b, err = byCode(ctx, tx, code); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE bookings SET status = 'cancelled', cancelled_by = $2, cancelled_at = $3
			WHERE id = $1 AND status = 'booked'`, b.ID, by, s.now())
		if err != nil {
			return fmt.Errorf("booking: cancel: %w", err)
		}
		if b, err = reread(ctx, tx, code, tag); err != nil {
			return err
		}
		return s.onCancelled(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Reschedule moves a booked appointment to the slot starting at start, in one transaction under the
// office's booking lock: the new slot's places are counted without the booking itself, and the booking
// is updated in place, so it never holds two places nor none. A full slot is a 409 slot_full that leaves
// the booking where it was. A back-office booking keeps its specialist when they are free in the new slot.
func (s *Store) Reschedule(ctx context.Context, code string, start time.Time) (*Booking, error) {
	b, err := s.ByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	if b.Status != Booked {
		return nil, notBooked(b.Status)
	}
	if start.IsZero() {
		return nil, web.InvalidField("start", "start must be a date and time like 2026-03-02T09:30:00+01:00")
	}
	start = start.UTC()
	o, err := s.tickets.OfficeByID(ctx, b.OfficeID)
	if err != nil {
		return nil, err
	}
	svc, rules, err := s.bookable(ctx, o, b.Service)
	if err != nil {
		return nil, err
	}
	c, err := s.capacityOfDay(ctx, o, svc, rules, start)
	if err != nil {
		return nil, err
	}
	if err := c.refuse(start); err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockOffice(ctx, tx, o.ID); err != nil {
			return err
		}
		if b, err = byCode(ctx, tx, code); err != nil {
			return err
		}
		if b.Status != Booked {
			return notBooked(b.Status)
		}
		held, err := heldIn(ctx, tx, o.ID, start, start.Add(c.length))
		if err != nil {
			return err
		}
		sl := c.slot(start, held, b.ID)
		staff, err := pickStaff(sl, 0, b.StaffID)
		if err != nil {
			return err
		}
		// A check-in or cancellation does not take the office's lock: the status guards the move.
		tag, err := tx.Exec(ctx, `UPDATE bookings SET starts_at = $2, ends_at = $3, staff_id = NULLIF($4, 0)
			WHERE id = $1 AND status = 'booked'`, b.ID, sl.Start, sl.End, staff)
		if err != nil {
			return fmt.Errorf("booking: reschedule: %w", err)
		}
		if b, err = reread(ctx, tx, code, tag); err != nil {
			return err
		}
		return s.onRescheduled(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Bookings lists an office's bookings starting in [from, to), in every status, by start: the agenda's and
// the capacity preview's.
func (s *Store) Bookings(ctx context.Context, officeID int64, from, to time.Time) ([]*Booking, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+bookingColumns+bookingFrom+`
		WHERE b.office_id = $1 AND b.starts_at >= $2 AND b.starts_at < $3 ORDER BY b.starts_at, b.id`, officeID, from, to)
	if err != nil {
		return nil, fmt.Errorf("booking: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Booking, error) { return scanBooking(row) })
	if err != nil {
		return nil, fmt.Errorf("booking: list: %w", err)
	}
	if out == nil {
		out = []*Booking{}
	}
	return out, nil
}

// reread reads booking code again after an update guarded on its status: the booking as it is now, or the
// conflict of a booking that was no longer booked when the update (tag) matched no row.
func reread(ctx context.Context, tx pgx.Tx, code string, tag pgconn.CommandTag) (*Booking, error) {
	b, err := byCode(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() == 0 {
		return nil, notBooked(b.Status)
	}
	return b, nil
}
