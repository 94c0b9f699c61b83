package insight

import (
	"embed"
	"net/http"
	"strconv"
	"time"

	"turno/internal/web"
	"turno/ticketing"
)

//go:embed templates/accounting.html
var accountingTemplates embed.FS

var accountingPage = web.ManagePage(accountingTemplates, "templates/accounting.html")

// accountingView is the /manage/accounting page: the month shown and its neighbours, one line per agency
// with its statement's PDF, the totals and the CSV of the month. Figures are formatted in the page's
// language.
type accountingView struct {
	Month      string // YYYY-MM
	MonthTitle string
	Max        string // the office's current month: the picker goes no further
	Prev, Next string // Next is "" for the current month
	Rows       []accountingLine
	Total      accountingLine
	CSV        string
	Rate       string // the office's default hourly rate
}

// accountingLine is an agency's line (or the totals) as the page shows it.
type accountingLine struct {
	Agency, Name                       string
	Tickets, Served, Minutes, Share    string
	Cost, Contribution, Terms, Balance string
	Negative                           bool
	PDF                                string
}

func (h *Handler) accountingData(r *http.Request, o *ticketing.Office) (any, error) {
	lang := web.RequestLang(r, web.StaffLangs)
	today := o.LocalDay(h.Tickets.Now())
	current := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	month := current.AddDate(0, -1, 0).Format("2006-01") // the last whole month: the one statements are sent for
	if q := r.URL.Query().Get("month"); q != "" {
		month = q
	}
	st, err := h.statement(r, o, month)
	if err != nil {
		return nil, err
	}
	from := st.from
	api := "/api/v1/offices/" + o.Slug + "/agency-statements"
	v := &accountingView{Month: st.Month, MonthTitle: web.FormatMonthYear(lang, from), Max: current.Format("2006-01"),
		Prev: from.AddDate(0, -1, 0).Format("2006-01"), CSV: api + ".csv?month=" + st.Month,
		Rate: web.FormatEuro(lang, int64(o.HourlyCostCents))}
	if from.Before(current) {
		v.Next = from.AddDate(0, 1, 0).Format("2006-01")
	}
	line := func(f StatementFigures) accountingLine {
		return accountingLine{Tickets: strconv.Itoa(f.Tickets), Served: strconv.Itoa(f.Served),
			Minutes: web.FormatDecimal(lang, f.Minutes, 1), Share: web.FormatDecimal(lang, f.SharePct, 1),
			Cost: web.FormatEuro(lang, f.CostCents), Contribution: web.FormatEuro(lang, f.ContributionCents),
			Balance: web.FormatEuro(lang, f.BalanceCents), Negative: f.BalanceCents < 0}
	}
	for _, row := range st.Rows {
		l := line(row.StatementFigures)
		l.Agency, l.Name = row.Agency, row.Name
		l.Terms = web.FormatEuro(lang, row.ContributionMonthlyCents) + " + " + web.FormatEuro(lang, row.ContributionPerTicketCents) + " × " + l.Tickets
		l.PDF = api + "/" + row.Agency + ".pdf?month=" + st.Month
		v.Rows = append(v.Rows, l)
	}
	v.Total = line(st.Totals)
	return v, nil
}
