package displays

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Settings are what one hall screen shows. They live in the display device's settings and the page's query
// parameters override them (?audiences=business&desks=5,6), so one token can serve several screens.
type Settings struct {
	// Audiences, Services and Desks narrow the calls and queues shown: e.g. the businesses' hall shows
	// audience "business" and desks 5 and 6. Empty means all.
	Audiences []string `json:"audiences,omitempty"`
	Services  []string `json:"services,omitempty"` // service codes
	Desks     []int    `json:"desks,omitempty"`    // desk numbers
	Title     string   `json:"title,omitempty"`    // heading; the office's name when empty
	Calls     int      `json:"calls,omitempty"`    // recent calls listed, 4–10 (7)
	Voice     *bool    `json:"voice,omitempty"`    // spoken announcement (on)
	Chime     *bool    `json:"chime,omitempty"`    // chime before it (on)
}

// deviceSettings reads a display's stored settings; unknown keys are ignored.
func deviceSettings(d *auth.Device) Settings {
	var s Settings
	if d == nil || len(d.Settings) == 0 {
		return s
	}
	b, err := json.Marshal(d.Settings)
	if err == nil {
		_ = json.Unmarshal(b, &s)
	}
	return s
}

// override applies the page's query parameters to s.
func (s *Settings) override(q url.Values) error {
	list := func(k string) []string {
		var out []string
		for _, v := range strings.Split(q.Get(k), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	flag := func(k string) (*bool, error) {
		b, err := strconv.ParseBool(q.Get(k))
		if err != nil {
			return nil, web.InvalidField(k, "%s must be 1 or 0", k)
		}
		return &b, nil
	}
	var err error
	if q.Has("audiences") {
		s.Audiences = list("audiences")
	}
	if q.Has("services") {
		s.Services = list("services")
	}
	if q.Has("desks") {
		s.Desks = nil
		for _, v := range list("desks") {
			n, err := strconv.Atoi(v)
			if err != nil {
				return web.InvalidField("desks", "desks must be desk numbers separated by commas")
			}
			s.Desks = append(s.Desks, n)
		}
	}
	if q.Has("title") {
		s.Title = q.Get("title")
	}
	if q.Has("calls") {
		if s.Calls, err = strconv.Atoi(q.Get("calls")); err != nil {
			return web.InvalidField("calls", "calls must be a number from 4 to 10")
		}
	}
	if q.Has("voice") {
		if s.Voice, err = flag("voice"); err != nil {
			return err
		}
	}
	if q.Has("chime") {
		if s.Chime, err = flag("chime"); err != nil {
			return err
		}
	}
	return nil
}

// validate checks s against the office's catalogue.
func (s *Settings) validate(services []*ticketing.Service, desks []*ticketing.Desk) error {
	for _, a := range s.Audiences {
		if a != ticketing.Citizen && a != ticketing.Business {
			return web.InvalidField("audiences", "audience %q is not citizen or business", a)
		}
	}
	for _, code := range s.Services {
		if !slices.ContainsFunc(services, func(sv *ticketing.Service) bool { return sv.Code == code }) {
			return web.InvalidField("services", "no service %q in this office", code)
		}
	}
	for _, n := range s.Desks {
		if !slices.ContainsFunc(desks, func(d *ticketing.Desk) bool { return d.Number == n }) {
			return web.InvalidField("desks", "no desk %d in this office", n)
		}
	}
	if len(s.Title) > 120 {
		return web.InvalidField("title", "title must have at most 120 characters")
	}
	if s.Calls != 0 && (s.Calls < 4 || s.Calls > 10) {
		return web.InvalidField("calls", "calls must be a number from 4 to 10")
	}
	return nil
}

// patchDevice replaces a display's settings: PATCH /api/v1/offices/{office}/devices/{device}
// {"settings":{...}}, by a manager of the office.
func (s *Server) patchDevice(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	p := auth.FromContext(ctx)
	if p.User == nil && p.Device == nil {
		web.WriteError(w, r, web.Unauthorized("sign in first"))
		return
	}
	o, err := s.Store.Office(ctx, chi.URLParam(r, "office"))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if !auth.CanManage(p.User, o.ID) {
		web.WriteError(w, r, web.Forbidden("forbidden", "only a manager of this office may change its displays"))
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "device"), 10, 64)
	if err != nil {
		web.WriteError(w, r, web.NotFound("unknown_device", "no device %q", chi.URLParam(r, "device")))
		return
	}
	var body struct {
		Settings *Settings `json:"settings"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if body.Settings == nil {
		web.WriteError(w, r, web.InvalidField("settings", "settings is required"))
		return
	}
	if _, err := s.checkSettings(ctx, o.ID, body.Settings); err != nil {
		web.WriteError(w, r, err)
		return
	}
	d, err := s.saveSettings(ctx, o.ID, id, body.Settings)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, d)
}

// checkSettings validates a screen's settings against the office's services and desks, which it returns.
func (s *Server) checkSettings(ctx context.Context, officeID int64, set *Settings) ([]*ticketing.Service, error) {
	services, err := s.Store.Services(ctx, officeID)
	if err != nil {
		return nil, err
	}
	desks, err := s.Store.Desks(ctx, officeID)
	if err != nil {
		return nil, err
	}
	return services, set.validate(services, desks)
}

// saveSettings stores a display's settings; kiosks' settings belong to the kiosk pages.
func (s *Server) saveSettings(ctx context.Context, officeID, id int64, set *Settings) (*auth.Device, error) {
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("displays: encode settings: %w", err)
	}
	d := &auth.Device{}
	err = s.Store.Pool().QueryRow(ctx, `
		UPDATE devices SET settings = $3 WHERE id = $1 AND office_id = $2 AND kind = 'display' AND revoked_at IS NULL
		RETURNING id, office_id, kind, name, settings`, id, officeID, b).
		Scan(&d.ID, &d.OfficeID, &d.Kind, &d.Name, &d.Settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_device", "no active display %d in this office", id)
	}
	if err != nil {
		return nil, fmt.Errorf("displays: save settings: %w", err)
	}
	return d, nil
}
