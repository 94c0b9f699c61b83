package displays

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

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
// {"settings":{...}}, by a manager of the office (InOffice(Managers) has checked). Kiosks' settings belong to
// the kiosk pages: another kind of device is a 404.
func (s *Server) patchDevice(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	id, err := web.PathID(r, "device", "unknown_device")
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		Settings *Settings `json:"settings"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		return 0, nil, err
	}
	if body.Settings == nil {
		return 0, nil, web.InvalidField("settings", "settings is required")
	}
	if _, err := s.checkSettings(r.Context(), o.ID, body.Settings); err != nil {
		return 0, nil, err
	}
	return web.OK(s.Auth.SaveDeviceSettings(r.Context(), o.ID, id, auth.Display, body.Settings))
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
