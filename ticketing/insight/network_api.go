package insight

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// networkRoutes mounts network benchmarking: an office's monthly export (its managers and administrators),
// the import of other installations' exports and the comparison (administrators of every office), and the
// comparison page.
func (h *Handler) networkRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.With(h.Tickets.InOffice(ticketing.Managers)).Get(o+"/export", h.export(false))
	r.With(h.Tickets.InOffice(ticketing.Managers)).Get(o+"/export.csv", h.export(true))
	r.With(auth.RequireRole(auth.Admin)).Method("POST", "/api/v1/network/imports", web.Endpoint(h.importExports))
	r.With(auth.RequireRole(auth.Admin)).Method("GET", "/api/v1/network", web.Endpoint(h.network))
	h.networkPage(r)
}

// networkAdmin refuses an administrator of one office only: the comparison shows every office.
func networkAdmin(r *http.Request) error {
	if u := auth.FromContext(r.Context()).User; u == nil || u.Role != auth.Admin || !u.AllOffices {
		return web.Forbidden("not_network_admin", "network benchmarking is for administrators of every office")
	}
	return nil
}

// exportWantsCSV reports whether the caller asked for CSV by its Accept header.
func exportWantsCSV(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/csv")
}

// export serves an office's month as JSON, or as CSV for the .csv path or Accept: text/csv. It is a plain
// handler because a CSV body is not JSON; errors are written as every endpoint's.
func (h *Handler) export(asCSV bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		month, err := ParseMonth(r.URL.Query().Get("month"))
		var e *Export
		o := ticketing.OfficeOf(r)
		if err == nil {
			e, err = h.Store.Export(r.Context(), InstallationOf(web.BaseURL(r)), o, month)
		}
		switch {
		case err != nil:
			web.WriteError(w, r, err)
		case asCSV || exportWantsCSV(r):
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Content-Disposition", `attachment; filename="turno-`+o.Slug+"-"+e.Month+`.csv"`)
			_, _ = w.Write(e.CSV())
		default:
			web.JSON(w, http.StatusOK, e)
		}
	}
}

// csvHeader is the header of the export's CSV: the export's fields, then group (total, weekday or
// category), its key, and the KPIs under their JSON names.
var csvHeader = []string{"schema_version", "installation", "office_label", "office_time_zone", "month", "group", "key",
	"arrivals", "served", "no_show", "cancelled", "expired", "transferred", "wait_mean_seconds", "wait_p50_seconds",
	"wait_p90_seconds", "service_p50_seconds", "service_p90_seconds", "within_target_pct", "feedback_count", "feedback_mean"}

// CSV renders the export as CSV: one row for the month's totals, then one per weekday and per category.
func (e *Export) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(csvHeader)
	row := func(group, key string, k NetworkKPIs) {
		num := func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', -1, 64)
		}
		_ = w.Write([]string{strconv.Itoa(e.SchemaVersion), e.Installation, e.Office.Label, e.Office.TimeZone, e.Month, group, key,
			strconv.Itoa(k.Arrivals), strconv.Itoa(k.Served), strconv.Itoa(k.NoShow), strconv.Itoa(k.Cancelled),
			strconv.Itoa(k.Expired), strconv.Itoa(k.Transferred), num(k.WaitMeanSeconds), num(k.WaitP50Seconds),
			num(k.WaitP90Seconds), num(k.ServiceP50Seconds), num(k.ServiceP90Seconds), num(k.WithinTargetPct),
			strconv.Itoa(k.FeedbackCount), num(k.FeedbackMean)})
	}
	row("total", "", e.KPIs.NetworkKPIs)
	for _, k := range e.KPIs.ByWeekday {
		row("weekday", k.Key, k.NetworkKPIs)
	}
	for _, k := range e.KPIs.ByCategory {
		row("category", k.Key, k.NetworkKPIs)
	}
	w.Flush()
	return b.Bytes()
}

// ImportResult lists what an import stored.
type ImportResult struct {
	Imported []ImportedOffice `json:"imported"`
}

// ImportedOffice names one stored export.
type ImportedOffice struct {
	Installation string `json:"installation"`
	Office       string `json:"office"`
	Month        string `json:"month"`
}

// importExports stores one export (a JSON object) or several (a JSON array of them).
func (h *Handler) importExports(r *http.Request) (int, any, error) {
	if err := networkAdmin(r); err != nil {
		return 0, nil, err
	}
	var raw json.RawMessage
	if err := web.Decode(r, &raw, false); err != nil {
		return 0, nil, err
	}
	var items []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &items); err != nil {
			return 0, nil, web.Invalid("malformed_json", "send an export or an array of exports")
		}
	} else {
		items = []json.RawMessage{raw}
	}
	if len(items) == 0 || len(items) > maxImports {
		return 0, nil, web.InvalidField("exports", "send between 1 and %d exports", maxImports)
	}
	exports := make([]Export, len(items))
	for i, it := range items {
		e, err := ValidateExport(it)
		if err != nil {
			if len(items) > 1 {
				err.Within("export %d", i+1)
			}
			return 0, nil, err
		}
		exports[i] = *e
	}
	if err := h.Store.SaveImports(r.Context(), exports); err != nil {
		return 0, nil, err
	}
	res := ImportResult{}
	for _, e := range exports {
		res.Imported = append(res.Imported, ImportedOffice{e.Installation, e.Office.Label, e.Month})
	}
	return http.StatusOK, res, nil
}

// maxImports bounds the exports one import may carry (a network of a few hundred offices fits).
const maxImports = 500

// ValidateExport reads one export, refusing with a 422 naming the field: another schema version, unknown
// fields, an empty installation or office label, an unknown time zone, a malformed month, negative counts,
// negative seconds, shares outside 0–100 and a feedback mean outside 1–5.
func ValidateExport(raw []byte) (*Export, *web.Error) {
	var probe struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, web.Invalid("malformed_json", "an export is a JSON object")
	}
	if probe.SchemaVersion == nil || *probe.SchemaVersion != ExportSchemaVersion {
		return nil, web.InvalidField("schema_version", "schema_version must be %d", ExportSchemaVersion)
	}
	var e Export
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			f := strings.ReplaceAll(typeErr.Field, "NetworkKPIs.", "") // the embedded struct is not a level of the JSON
			return nil, web.InvalidField(f, "%s must be a JSON %s", web.Term(f), web.Term(typeErr.Type.Kind().String()))
		}
		if _, field, ok := strings.Cut(err.Error(), "unknown field "); ok {
			f := strings.Trim(field, `"`)
			return nil, web.InvalidField(f, "%s is not a field of schema version 1", f)
		}
		return nil, web.Invalid("malformed_json", "an export is a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, web.Invalid("malformed_json", "the request body has data after the JSON object")
	}
	switch {
	case strings.TrimSpace(e.Installation) == "" || len(e.Installation) > 200:
		return nil, web.InvalidField("installation", "installation must be 1 to 200 characters")
	case strings.TrimSpace(e.Office.Label) == "" || len(e.Office.Label) > 200:
		return nil, web.InvalidField("office.label", "office.label must be 1 to 200 characters")
	}
	if _, err := time.LoadLocation(e.Office.TimeZone); err != nil || e.Office.TimeZone == "" {
		return nil, web.InvalidField("office.time_zone", "office.time_zone %q is not a time zone like Europe/Rome", e.Office.TimeZone)
	}
	if _, err := ParseMonth(e.Month); err != nil {
		return nil, err.(*web.Error)
	}
	if err := e.KPIs.check("kpis."); err != nil {
		return nil, err
	}
	if len(e.KPIs.ByWeekday) > 7 || len(e.KPIs.ByCategory) > 100 {
		return nil, web.InvalidField("kpis", "kpis has more than 7 weekdays or 100 categories")
	}
	for _, k := range e.KPIs.ByWeekday {
		if n, err := strconv.Atoi(k.Key); err != nil || n < 1 || n > 7 {
			return nil, web.InvalidField("kpis.by_weekday.key", "a weekday key is 1 (Monday) to 7")
		}
		if err := k.check("kpis.by_weekday."); err != nil {
			return nil, err
		}
	}
	for _, k := range e.KPIs.ByCategory {
		if k.Key == "" || len(k.Key) > 100 {
			return nil, web.InvalidField("kpis.by_category.key", "a category key must be 1 to 100 characters")
		}
		if err := k.check("kpis.by_category."); err != nil {
			return nil, err
		}
	}
	if e.KPIs.ByWeekday == nil {
		e.KPIs.ByWeekday = []KeyedKPIs{}
	}
	if e.KPIs.ByCategory == nil {
		e.KPIs.ByCategory = []KeyedKPIs{}
	}
	return &e, nil
}

// check refuses figures no office can have; prefix places the field in the export.
func (k *NetworkKPIs) check(prefix string) *web.Error {
	counts := []struct {
		name string
		n    int
	}{{"arrivals", k.Arrivals}, {"served", k.Served}, {"no_show", k.NoShow}, {"cancelled", k.Cancelled},
		{"expired", k.Expired}, {"transferred", k.Transferred}, {"feedback_count", k.FeedbackCount}}
	for _, c := range counts {
		if c.n < 0 || c.n > 100_000_000 {
			return web.InvalidField(prefix+c.name, "%s must be a count from 0 to 100000000", prefix+c.name)
		}
	}
	if k.Served+k.NoShow+k.Cancelled+k.Expired > k.Arrivals {
		return web.InvalidField(prefix+"arrivals", "%s must be at least served + no_show + cancelled + expired", prefix+"arrivals")
	}
	secs := []struct {
		name string
		v    *float64
	}{{"wait_mean_seconds", k.WaitMeanSeconds}, {"wait_p50_seconds", k.WaitP50Seconds}, {"wait_p90_seconds", k.WaitP90Seconds},
		{"service_p50_seconds", k.ServiceP50Seconds}, {"service_p90_seconds", k.ServiceP90Seconds}}
	for _, s := range secs {
		if s.v != nil && (*s.v < 0 || *s.v > 366*24*3600) {
			return web.InvalidField(prefix+s.name, "%s must be from 0 to a year of seconds", prefix+s.name)
		}
	}
	if p := k.WithinTargetPct; p != nil && (*p < 0 || *p > 100) {
		return web.InvalidField(prefix+"within_target_pct", "%s must be from 0 to 100", prefix+"within_target_pct")
	}
	if m := k.FeedbackMean; m != nil && (*m < 1 || *m > 5) {
		return web.InvalidField(prefix+"feedback_mean", "%s must be from 1 to 5", prefix+"feedback_mean")
	}
	return nil
}

func (h *Handler) network(r *http.Request) (int, any, error) {
	if err := networkAdmin(r); err != nil {
		return 0, nil, err
	}
	month, err := ParseMonth(r.URL.Query().Get("month"))
	if err != nil {
		return 0, nil, err
	}
	return web.OK(h.Store.Network(r.Context(), InstallationOf(web.BaseURL(r)), month))
}
