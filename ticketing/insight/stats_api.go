package insight

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// statsRoutes mounts the statistics API: GET /api/v1/offices/{office}/stats (JSON, or CSV when the
// client accepts text/csv) and …/stats.csv, for the office's managers and administrators.
func (h *Handler) statsRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), h.Tickets.InOffice(ticketing.Managers))
		r.Get(o+"/stats", h.serveStats)
		r.Get(o+"/stats.csv", h.serveStats)
	})
}

// StatsQuery reads a statistics query from a request's parameters from, to (the office's local dates,
// both included), group (day by default), service and agency. A missing or malformed date is a 422
// naming it; Store.Stats checks the rest.
func StatsQuery(r *http.Request, o *ticketing.Office) (Query, error) {
	v := r.URL.Query()
	q := Query{Office: o, Group: Group(v.Get("group")), Service: v.Get("service"), Agency: v.Get("agency")}
	if q.Group == "" {
		q.Group = ByDay
	}
	date := func(field string) (t time.Time, err error) {
		if s := v.Get(field); s != "" {
			return ticketing.ParseDate(field, s)
		}
		return t, web.InvalidField(field, "%s is required (YYYY-MM-DD)", web.Term(field))
	}
	var err error
	if q.From, err = date("from"); err != nil {
		return q, err
	}
	if q.To, err = date("to"); err != nil {
		return q, err
	}
	return q, nil
}

// wantsCSV reports whether a report request (statistics, agency statements) asks for CSV: the .csv path,
// or an Accept header that names text/csv.
func wantsCSV(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, ".csv") || strings.Contains(r.Header.Get("Accept"), "text/csv")
}

func (h *Handler) serveStats(w http.ResponseWriter, r *http.Request) {
	o := ticketing.OfficeOf(r)
	q, err := StatsQuery(r, o)
	var st *Stats
	if err == nil {
		st, err = h.Store.Stats(r.Context(), q)
	}
	if err == nil {
		err = h.addAppointments(r.Context(), q, st)
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if !wantsCSV(r) {
		web.JSON(w, http.StatusOK, st)
		return
	}
	b, err := st.CSV()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	writeFile(w, "text/csv; charset=utf-8", `attachment; filename="statistiche-`+o.Slug+"-"+st.From+"-"+st.To+"-"+string(st.Group)+`.csv"`, b)
}

// writeFile sends a report as a file: its type, how to save or show it, and no caching (reports are
// about people's work and change as visits end).
func writeFile(w http.ResponseWriter, contentType, disposition string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", disposition)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// StatsCSVHeader is the header of the statistics CSV: the JSON field names of a row.
var StatsCSVHeader = []string{"key", "label", "arrivals", "served", "no_show", "cancelled", "expired", "transferred",
	"wait_mean_seconds", "wait_p50_seconds", "wait_p90_seconds", "wait_max_seconds",
	"service_mean_seconds", "service_p50_seconds", "service_p90_seconds", "within_target_pct",
	"feedback_count", "feedback_mean"}

// statsRecord is a row as CSV fields, in StatsCSVHeader's order; a null figure is an empty field.
func (r *Row) statsRecord() []string {
	num := func(p *float64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatFloat(*p, 'f', -1, 64)
	}
	return []string{r.Key, r.Label, strconv.Itoa(r.Arrivals), strconv.Itoa(r.Served), strconv.Itoa(r.NoShow),
		strconv.Itoa(r.Cancelled), strconv.Itoa(r.Expired), strconv.Itoa(r.Transferred),
		num(r.WaitMeanSeconds), num(r.WaitP50Seconds), num(r.WaitP90Seconds), num(r.WaitMaxSeconds),
		num(r.ServiceMeanSecs), num(r.ServiceP50Seconds), num(r.ServiceP90Seconds), num(r.WithinTargetPct),
		strconv.Itoa(r.FeedbackCount), num(r.FeedbackMean)}
}

// CSV renders the report as CSV (RFC 4180, comma-separated, UTF-8): the header, one line per row, and
// the totals last with the key "total".
func (st *Stats) CSV() ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(StatsCSVHeader)
	for i := range st.Rows {
		_ = cw.Write(st.Rows[i].statsRecord())
	}
	_ = cw.Write(st.Totals.statsRecord())
	cw.Flush()
	return b.Bytes(), cw.Error()
}
