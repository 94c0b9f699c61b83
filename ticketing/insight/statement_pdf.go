package insight

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"

	"turno/internal/web"
)

// statementLang is the language of the statement a manager sends to the partner agency.
const statementLang = "it"

// statementMethod is the method of the statement in one paragraph, printed on it (docs/kpis.md, Agency
// accounting, says the same).
const statementMethod = "Metodo. I biglietti sono le visite emesse nel mese per un servizio dell'ente, qualunque ne sia " +
	"l'esito. I minuti sono il tempo in cui gli operatori hanno servito i servizi dell'ente (dall'inizio alla fine di " +
	"ogni servizio; una visita trasferita da un servizio all'altro conta per ciascun servizio il proprio tratto), " +
	"arrotondato al secondo per ogni servizio reso. Il costo di ogni servizio reso è il suo tempo per il costo orario " +
	"dell'operatore (quello del suo contratto o, in mancanza, quello predefinito della sede: %s l'ora), arrotondato al " +
	"centesimo; il costo dell'ente è la somma di questi importi, così che le righe e i totali tornano al centesimo. " +
	"Il contributo è l'importo mensile concordato più l'importo per biglietto per il numero di biglietti; il saldo è " +
	"il contributo meno il costo. I dati sugli operatori sono sempre aggregati: il rendiconto non riporta nomi del personale."

// PDF renders the monthly statement of one agency of st (row), in Italian, issued at now (in the office's
// zone): the office, the period, the figures, the breakdown by service and the method.
func (st *Statement) PDF(row *StatementRow, now time.Time) ([]byte, error) {
	const lang = statementLang
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(18, 16, 18)
	pdf.SetAutoPageBreak(true, 16)
	pdf.SetTitle("Rendiconto "+row.Name+" "+st.Month, true)
	pdf.SetCreator("Turno", true)
	cp := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: accents and the euro sign
	tr := func(s string) string {
		return cp(strings.NewReplacer("−", "-", "\u202f", " ").Replace(s))
	}
	euro := func(c int64) string { return web.FormatEuro(lang, c) }
	num := func(x float64, d int) string { return web.FormatDecimal(lang, x, d) }
	day := func(t time.Time) string { return fmt.Sprintf("%d %s", t.Day(), web.FormatMonthYear(lang, t)) }
	const width = 210 - 36.0

	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 10)
	pdf.SetTextColor(90, 90, 90)
	pdf.CellFormat(0, 5, tr(st.Office.Name), "", 1, "L", false, 0, "")
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFont("Helvetica", "B", 17)
	pdf.CellFormat(0, 9, tr("Rendiconto mensile: "+row.Name), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr(fmt.Sprintf("Periodo: dal %s al %s", day(st.from), day(monthEnd(st.from)))), "", 1, "L", false, 0, "")
	pdf.CellFormat(0, 6, tr(fmt.Sprintf("Emesso il %s alle %s (%s)", day(now), now.Format("15:04"), st.Office.TimeZone)), "", 1, "L", false, 0, "")
	pdf.Ln(4)

	// The figures: label and value, two columns.
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 7, tr("Riepilogo"), "", 1, "L", false, 0, "")
	f := row.StatementFigures
	perTicket := fmt.Sprintf("%s × %d biglietti", euro(row.ContributionPerTicketCents), f.Tickets)
	lines := []struct {
		label, value string
		bold         bool
	}{
		{"Biglietti", fmt.Sprint(f.Tickets), false},
		{"Servizi resi dagli operatori", fmt.Sprint(f.Served), false},
		{"Minuti degli operatori", num(f.Minutes, 1), false},
		{"Quota del tempo degli operatori della sede", num(f.SharePct, 1) + " %", false},
		{"Costo", euro(f.CostCents), true},
		{"Contributo mensile concordato", euro(row.ContributionMonthlyCents), false},
		{"Contributo per biglietto", perTicket, false},
		{"Contributo totale", euro(f.ContributionCents), true},
		{"Saldo (contributo - costo)", euro(f.BalanceCents), true},
	}
	pdf.SetDrawColor(200, 200, 200)
	for _, l := range lines {
		style := ""
		if l.bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.CellFormat(width*0.62, 7, tr(l.label), "B", 0, "L", false, 0, "")
		pdf.CellFormat(width*0.38, 7, tr(l.value), "B", 1, "R", false, 0, "")
	}
	pdf.Ln(6)

	// The breakdown by service.
	pdf.SetFont("Helvetica", "B", 12)
	pdf.CellFormat(0, 7, tr("Dettaglio per servizio"), "", 1, "L", false, 0, "")
	cols := []float64{width * 0.44, width * 0.13, width * 0.13, width * 0.13, width * 0.17}
	head := []string{"Servizio", "Biglietti", "Serviti", "Minuti", "Costo"}
	pdf.SetFont("Helvetica", "B", 9)
	pdf.SetFillColor(235, 235, 235)
	for i, h := range head {
		align := "R"
		if i == 0 {
			align = "L"
		}
		pdf.CellFormat(cols[i], 7, tr(h), "1", 0, align, true, 0, "")
	}
	pdf.Ln(-1)
	cells := func(name string, tickets, served int, mins float64, cost int64, style string) {
		pdf.SetFont("Helvetica", style, 9)
		values := []string{name, fmt.Sprint(tickets), fmt.Sprint(served), num(mins, 1), euro(cost)}
		for i, v := range values {
			align := "R"
			if i == 0 {
				align = "L"
				for pdf.GetStringWidth(tr(v)) > cols[0]-2 && len([]rune(v)) > 4 {
					v = string([]rune(v)[:len([]rune(v))-2]) + "…"
				}
			}
			pdf.CellFormat(cols[i], 6.5, tr(v), "1", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	if len(row.Services) == 0 {
		pdf.SetFont("Helvetica", "I", 9)
		pdf.CellFormat(width, 6.5, tr("Nessuna attività nel mese."), "1", 1, "L", false, 0, "")
	}
	for _, s := range row.Services {
		cells(s.Name, s.Tickets, s.Served, s.Minutes, s.CostCents, "")
	}
	cells("Totale", f.Tickets, f.Served, f.Minutes, f.CostCents, "B")
	pdf.Ln(6)

	pdf.SetFont("Helvetica", "", 8.5)
	pdf.SetTextColor(60, 60, 60)
	pdf.MultiCell(0, 4.2, tr(fmt.Sprintf(statementMethod, euro(int64(st.Office.HourlyCostCents)))), "", "J", false)

	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("insight: statement pdf: %w", err)
	}
	return buf.Bytes(), nil
}
