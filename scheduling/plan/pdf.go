package plan

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jung-kurt/gofpdf"

	"turno/internal/web"
	"turno/scheduling/roster"
	"turno/ticketing"
)

// pdfLang is the language of the notice board.
const pdfLang = "it"

func (pl *Planner) apiPDF(w http.ResponseWriter, r *http.Request) {
	// A twelve-week roster of a large office renders for a while: the answer gets more than the server's
	// WriteTimeout (TURNO_HTTP_WRITE_TIMEOUT). A writer that cannot extend it keeps the server's.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(pdfWriteTime))
	ro, err := pl.managedRoster(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if unsolved(ro.Status) {
		web.WriteError(w, r, web.Conflict("not_solved", "the roster is %s", web.Term(ro.Status)))
		return
	}
	st, err := pl.load(r.Context(), ro)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	b, err := st.PDF(pl.now())
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="turni-`+ro.From+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// pdfWriteTime is how long the roster PDF may take from the request to the last byte.
const pdfWriteTime = 3 * time.Minute

// PDF renders the roster for the notice board: A4 landscape, one ISO week a page, one row per person
// and one column per day, each cell with the shift, its times and skill group (or the absence).
func (st *stored) PDF(now time.Time) ([]byte, error) {
	p := st.P
	pdf := gofpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(10, 10, 10)
	pdf.SetAutoPageBreak(false, 10)
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: accented Italian names
	const nameW, rowH, headH = 50.0, 9.0, 10.0
	dayW := (297.0 - 20 - nameW) / 7
	for week := 0; week <= p.weekOf(p.In.Days-1); week++ {
		var days []int
		for d := range p.In.Days {
			if p.weekOf(d) == week {
				days = append(days, d)
			}
		}
		monday := p.In.Date(days[0]).AddDate(0, 0, -(ticketing.ISOWeekday(p.In.Date(days[0])) - 1))
		newPage := func(cont bool) {
			pdf.AddPage()
			pdf.SetFont("Helvetica", "B", 14)
			title := fmt.Sprintf("%s – turni dal %s al %s", st.Office.Name, monday.Format("02/01/2006"), monday.AddDate(0, 0, 6).Format("02/01/2006"))
			if cont {
				title += " (segue)"
			}
			pdf.CellFormat(0, 8, tr(title), "", 1, "L", false, 0, "")
			pdf.SetFont("Helvetica", "", 9)
			pdf.CellFormat(0, 5, tr(fmt.Sprintf("Versione %d · %s · stampato il %s", st.R.Version, web.Translate(pdfLang, "plan.status."+st.R.Status),
				now.In(p.In.Loc).Format("02/01/2006 15:04"))), "", 1, "L", false, 0, "")
			pdf.Ln(2)
			pdf.SetFont("Helvetica", "B", 9)
			pdf.SetFillColor(230, 230, 230)
			pdf.CellFormat(nameW, headH, tr("Operatore"), "1", 0, "L", true, 0, "")
			for i := range 7 {
				date := monday.AddDate(0, 0, i)
				label := fmt.Sprintf("%s %s", web.Translate(pdfLang, "plan.wd."+weekdayKeys[date.Weekday()]), date.Format("02/01"))
				d := int(date.Sub(p.In.From).Hours() / 24)
				if d < 0 || d >= p.In.Days || len(p.In.Open[d]) == 0 {
					pdf.SetTextColor(140, 140, 140)
				}
				pdf.CellFormat(dayW, headH, tr(label), "1", 0, "C", true, 0, "")
				pdf.SetTextColor(0, 0, 0)
			}
			pdf.Ln(-1)
		}
		newPage(false)
		for e, mb := range p.In.Staff {
			if pdf.GetY()+rowH > 200 {
				newPage(true)
			}
			x, y := pdf.GetX(), pdf.GetY()
			pdf.SetFont("Helvetica", "", 9)
			pdf.CellFormat(nameW, rowH, tr(mb.Name), "1", 0, "L", false, 0, "")
			for i := range 7 {
				cx := x + nameW + float64(i)*dayW
				pdf.Rect(cx, y, dayW, rowH, "D")
				d := int(monday.AddDate(0, 0, i).Sub(p.In.From).Hours() / 24)
				if d < 0 || d >= p.In.Days {
					continue
				}
				s := st.Cells[e][d]
				switch {
				case s != roster.Off:
					t := p.In.Templates[p.ShiftTemplate[s]]
					pdf.SetFont("Helvetica", "B", 8)
					pdf.Text(cx+1.5, y+4, tr(fmt.Sprintf("%s %s–%s", t.Code, t.Start, t.End)))
					pdf.SetFont("Helvetica", "", 7)
					pdf.Text(cx+1.5, y+7.8, tr(p.In.Groups[p.ShiftGroup[s]]))
				case st.absentAllDay(e, d):
					pdf.SetFont("Helvetica", "I", 8)
					pdf.SetTextColor(160, 40, 40)
					pdf.Text(cx+1.5, y+5.5, tr("assente"))
					pdf.SetTextColor(0, 0, 0)
				}
			}
			pdf.SetXY(x, y+rowH)
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("plan: roster pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// absentAllDay reports whether an absence overlaps every template usable on day d for member e.
func (st *stored) absentAllDay(e, d int) bool {
	usable := false
	for t := range st.P.In.Templates {
		if st.P.Usable[d][t] {
			if !st.P.Blocked[e][d][t] {
				return false
			}
			usable = true
		}
	}
	return usable
}
