package insight

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// accountingRoutes mounts the per-agency accounting for the office's managers and administrators:
// GET /api/v1/offices/{office}/agency-statements?month=YYYY-MM (JSON, or CSV for Accept: text/csv and
// …/agency-statements.csv), the monthly statement PDF of one agency, …/agency-statements/{agency}.pdf,
// and the page /manage/accounting.
func (h *Handler) accountingRoutes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), h.Tickets.InOffice(ticketing.Managers))
		r.Get(o+"/agency-statements", h.serveStatements)
		r.Get(o+"/agency-statements.csv", h.serveStatements)
		r.Get(o+"/agency-statements/{agency}.pdf", h.serveStatementPDF)
	})
	r.With(auth.RequirePage).Get("/manage/accounting", h.Tickets.ManageHandler(accountingPage, "accounting", h.accountingData))
}

// statement computes the office's statement for the month a request names (?month=YYYY-MM), with the
// staff's contract rates when the handler has them.
func (h *Handler) statement(r *http.Request, o *ticketing.Office, month string) (*Statement, error) {
	m, err := statementMonth(o, month, h.Tickets.Now())
	if err != nil {
		return nil, err
	}
	var costs map[int64]int
	if h.Costs != nil {
		if costs, err = h.Costs.HourlyCosts(r.Context(), o.ID); err != nil {
			return nil, err
		}
	}
	return h.Store.AgencyStatement(r.Context(), o, m, costs)
}

func (h *Handler) serveStatements(w http.ResponseWriter, r *http.Request) {
	o := ticketing.OfficeOf(r)
	st, err := h.statement(r, o, r.URL.Query().Get("month"))
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
	writeFile(w, "text/csv; charset=utf-8", `attachment; filename="rendiconto-enti-`+o.Slug+"-"+st.Month+`.csv"`, b)
}

func (h *Handler) serveStatementPDF(w http.ResponseWriter, r *http.Request) {
	o := ticketing.OfficeOf(r)
	code := chi.URLParam(r, "agency")
	st, err := h.statement(r, o, r.URL.Query().Get("month"))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	row := st.Row(code)
	if row == nil {
		web.WriteError(w, r, web.NotFound("unknown_agency", "no agency %q in this office", code))
		return
	}
	b, err := st.PDF(row, h.Tickets.Now().In(o.Location()))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	writeFile(w, "application/pdf", `inline; filename="rendiconto-`+row.Agency+"-"+st.Month+`.pdf"`, b)
}

// StatementCSVHeader is the header of the statements CSV: the JSON field names of a row (without the
// per-service breakdown, which the PDF shows).
var StatementCSVHeader = []string{"agency", "name", "tickets", "served", "seconds", "minutes", "share_pct",
	"cost_cents", "contribution_monthly_cents", "contribution_per_ticket_cents", "contribution_cents", "balance_cents"}

// record is a row as CSV fields, in StatementCSVHeader's order.
func (r *StatementRow) record() []string {
	f := &r.StatementFigures
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	i64 := func(x int64) string { return strconv.FormatInt(x, 10) }
	return []string{r.Agency, r.Name, strconv.Itoa(f.Tickets), strconv.Itoa(f.Served), i64(f.Seconds), num(f.Minutes),
		num(f.SharePct), i64(f.CostCents), i64(r.ContributionMonthlyCents), i64(r.ContributionPerTicketCents),
		i64(f.ContributionCents), i64(f.BalanceCents)}
}

// CSV renders the statement as CSV (RFC 4180, comma-separated, UTF-8, amounts in cents): the header, one
// line per agency and the totals last with the agency "total" (its contribution terms, which do not
// add up, left empty).
func (st *Statement) CSV() ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	_ = cw.Write(StatementCSVHeader)
	for i := range st.Rows {
		_ = cw.Write(st.Rows[i].record())
	}
	total := (&StatementRow{Agency: "total", StatementFigures: st.Totals}).record()
	total[8], total[9] = "", ""
	_ = cw.Write(total)
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// monthEnd is the last day of the month that begins on from.
func monthEnd(from time.Time) time.Time { return from.AddDate(0, 1, -1) }
