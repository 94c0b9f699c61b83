package displays

import (
	"context"
	"encoding/json"
	"maps"
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
// parameters override them (?audiences=business&desks=5,6&lang=en), so one token can serve several screens.
type Settings struct {
	// Audiences, Services and Desks narrow the calls and queues shown: e.g. the businesses' hall shows
	// audience "business" and desks 5 and 6. Empty means all.
	Audiences []string `json:"audiences,omitempty"`
	Services  []string `json:"services,omitempty"` // service codes
	Desks     []int    `json:"desks,omitempty"`    // desk numbers
	Title     string   `json:"title,omitempty"`    // heading; the office's name when empty
	Calls     int      `json:"calls,omitempty"`    // recent calls listed, 4–10 (7)
	Voice     *bool    `json:"voice,omitempty"`    // spoken announcement (on), in the screen's language
	Chime     *bool    `json:"chime,omitempty"`    // chime before it (on)
	// Lang is the screen's language, for its text and its voice: one of Langs. Empty means the office's
	// default language, never the language the screen's browser asks for.
	Lang string `json:"lang,omitempty"`
	// Layout is what the screen shows: one of Layouts; empty means LayoutCallsQueue.
	Layout Layout `json:"layout,omitempty"`
}

// Layout is the arrangement of a hall screen.
type Layout string

// The layouts of a hall screen.
const (
	LayoutCallsQueue Layout = "calls_queue" // the current call, the last calls and the waiting counts
	LayoutCalls      Layout = "calls"       // the current call and the last calls only
	LayoutQueue      Layout = "queue"       // the waiting counts only (calls are still announced)
)

// Layouts are the valid layouts, the default first. The label of each is the translation key
// "display.layout_" + its value.
var Layouts = []Layout{LayoutCallsQueue, LayoutCalls, LayoutQueue}

// Langs are the languages a hall screen can be set to: the kiosk's (web.CitizenLangs), each with a
// display.<lang>.json catalogue.
var Langs = web.CitizenLangs

// screenLang is the language a screen speaks: its setting, else the office's default language.
func (s *Settings) screenLang(o *ticketing.Office) string {
	if s.Lang != "" {
		return s.Lang
	}
	if o.Lang != "" {
		return o.Lang
	}
	return "it"
}

// ParseSettings decodes a hall screen's settings from a JSON object, as PATCH
// /api/v1/offices/{office}/devices/{device} takes them in "settings", and validates them against the
// office's services and desks. Errors are *web.Error: 400 "malformed_json" for a body that is not a JSON
// object or has a field Settings does not have, 422 "invalid_<field>" (Field set: audiences, services,
// desks, title, calls, voice, chime, lang or layout) for a bad value.
func ParseSettings(b []byte, services []*ticketing.Service, desks []*ticketing.Desk) (Settings, error) {
	var s Settings
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil || fields == nil {
		return s, web.Invalid("malformed_json", "settings must be a JSON object")
	}
	if err := web.TakeFields(fields, &s); err != nil {
		return s, err
	}
	if len(fields) > 0 {
		return s, web.Invalid("malformed_json", "settings have no field %q", slices.Sorted(maps.Keys(fields))[0])
	}
	return s, s.Validate(services, desks)
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
			return nil, web.InvalidField(k, "%s must be 1 or 0", web.Term(k))
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
	if q.Has("lang") {
		s.Lang = q.Get("lang")
	}
	if q.Has("layout") {
		s.Layout = Layout(q.Get("layout"))
	}
	return nil
}

// Validate checks s against the office's services and desks; an error is a 422 *web.Error naming the field
// at fault.
func (s *Settings) Validate(services []*ticketing.Service, desks []*ticketing.Desk) error {
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
	if s.Lang != "" && !slices.ContainsFunc(Langs, func(l web.Language) bool { return l.Code == s.Lang }) {
		return web.InvalidField("lang", "lang must be one of it, en, fr, es, ro, sq, ar, zh, uk")
	}
	if s.Layout != "" && !slices.Contains(Layouts, s.Layout) {
		return web.InvalidField("layout", "layout must be calls_queue, calls or queue")
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
	return services, set.Validate(services, desks)
}
