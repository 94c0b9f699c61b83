package kiosk

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jung-kurt/gofpdf"

	"turno/internal/web"
	"turno/ticketing"
)

// dejaVuSans prints Latin (Romanian ș ț ă included, which the PDF core fonts' cp1252 lacks), Cyrillic
// and Arabic text (in the presentation forms shapeArabic makes). It is DejaVu Sans from Debian's
// fonts-dejavu-core, free to redistribute (see fonts/LICENSE). gofpdf embeds only the glyphs a ticket
// uses, so a ticket PDF stays around 20 KB.
//
//go:embed fonts/DejaVuSans.ttf
var dejaVuSans []byte

// droidSansGB2312 prints Chinese: Droid Sans Fallback (Apache 2.0) cut down to the characters of GB 2312,
// 6,763 hanzi, for 1 MB instead of 4 (fonts/README.md says why and how).
//
//go:embed fonts/DroidSansFallback-GB2312.ttf
var droidSansGB2312 []byte

// The names the ticket's fonts are registered under.
const (
	fontText = "dejavu"
	fontCJK  = "droid-cjk"
)

// Paper is a thermal roll: its width and the width the print head reaches, in millimetres.
type Paper struct {
	WidthMM     float64
	PrintableMM float64
}

// The two common roll widths of ticket printers: 80 mm rolls print 72 mm, 58 mm rolls print 48 mm.
var (
	Paper80 = Paper{WidthMM: 80, PrintableMM: 72}
	Paper58 = Paper{WidthMM: 58, PrintableMM: 48}
)

// PrintedTicket is what a printed ticket says.
type PrintedTicket struct {
	Office      string
	Number      string
	ServiceName map[string]string // by language
	IssuedAt    time.Time         // in the office's time zone
	Ahead       *int              // people ahead; nil when the ticket no longer waits
	WaitSeconds *int              // used only when Estimate is nil
	URL         string            // the phone page, encoded in the QR code
	Lang        string
	// Estimate is the wait and what it rests on, printed in the words of the kiosk and the phone page.
	Estimate *ticketing.Estimate
	// Appointment is the start of the booked slot of a checked-in appointment's ticket (office time).
	Appointment *time.Time
}

// PrintLang is the language a ticket is printed in: the visitor's, every kiosk language included. Arabic
// is shaped and reordered before gofpdf draws it (arabic.go) and Chinese prints in an embedded CJK font.
func PrintLang(lang string) string {
	return langOf(lang)
}

// WriteTicketPDF writes a ticket as a one-page PDF exactly as wide as the roll and as tall as its content,
// so a thermal printer feeds only what it prints (an A4 page would waste 30 cm of paper per ticket).
func WriteTicketPDF(w io.Writer, t *PrintedTicket, paper Paper) error {
	pdf := gofpdf.NewCustom(&gofpdf.InitType{UnitStr: "mm", Size: gofpdf.SizeType{Wd: paper.WidthMM, Ht: 200}})
	pdf.SetCompression(true)
	pdf.SetCreationDate(t.IssuedAt)
	pdf.SetTitle("Turno "+t.Number, true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(0, 0, 0)
	pdf.AddUTF8FontFromBytes(fontText, "", dejaVuSans)
	pdf.AddUTF8FontFromBytes(fontCJK, "", droidSansGB2312)
	l := &ticketLayout{pdf: pdf, t: t, paper: paper, lang: PrintLang(t.Lang)}
	if err := l.run(false); err != nil {
		return err
	}
	height := l.y
	pdf.AddPageFormat("P", gofpdf.SizeType{Wd: paper.WidthMM, Ht: height})
	if err := l.run(true); err != nil {
		return err
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("kiosk: write ticket PDF: %w", err)
	}
	return nil
}

// ticketLayout lays a ticket out top to bottom. It runs twice: once to measure the height, once to draw.
type ticketLayout struct {
	pdf   *gofpdf.Fpdf
	t     *PrintedTicket
	paper Paper
	lang  string
	draw  bool
	y     float64
}

func (l *ticketLayout) tr(key string) string { return web.Translate(l.lang, key) }

func (l *ticketLayout) run(draw bool) error {
	l.draw, l.y = draw, 4
	narrow := l.paper.WidthMM < 70
	scale := 1.0
	if narrow {
		scale = 0.85
	}
	t := l.t
	l.text(t.Office, 9*scale)
	l.y += 1.5
	l.rule()
	l.y += 1
	l.text(l.tr("kiosk.your_number"), 8*scale)
	l.number(t.Number, 60*scale)
	l.text(serviceName(t.ServiceName, l.lang), 11*scale)
	l.y += 1
	l.text(t.IssuedAt.Format("02/01/2006 15:04"), 9*scale)
	if t.Appointment != nil {
		l.text(l.tr("kiosk.checkin.appointment")+": "+t.Appointment.Format("15:04"), 12*scale)
	}
	if t.Ahead != nil {
		l.text(l.tr("kiosk.people_ahead")+": "+strconv.Itoa(*t.Ahead), 10*scale)
	}
	if t.Estimate != nil {
		l.text(waitLine(l.lang, t.Estimate), 10*scale)
	} else if t.WaitSeconds != nil {
		l.text(l.tr("kiosk.estimated_wait")+": "+waitText(l.lang, *t.WaitSeconds), 10*scale)
	}
	l.y += 2
	size := 44.0
	if narrow {
		size = 38
	}
	if err := l.qr(t.URL, size); err != nil {
		return err
	}
	l.text(l.tr("kiosk.scan_qr"), 8*scale)
	l.y += 1.5
	l.text(l.tr("kiosk.pdf.line"), 9*scale)
	l.y += 1
	l.text(t.URL, 6)
	l.y += 7 // room for the cutter
	return l.pdf.Error()
}

// text writes centred, wrapped text at size points: Chinese in the CJK font, the rest in DejaVu Sans,
// Arabic shaped and every line in drawing order. It wraps in logical order, then reorders each line.
func (l *ticketLayout) text(s string, size float64) {
	if s == "" {
		return
	}
	lh := size * 0.3528 * 1.25 // points to millimetres, with leading
	width := func(line string) float64 { return l.width(shapeArabic(line), size) }
	for _, line := range wrap(width, s, l.paper.PrintableMM) {
		if l.draw {
			line = printable(line)
			x := (l.paper.WidthMM - l.width(line, size)) / 2
			for _, run := range fontRuns(line) {
				l.pdf.SetFont(run.font, "", size)
				w := l.pdf.GetStringWidth(run.text)
				l.pdf.SetXY(x, l.y)
				l.pdf.CellFormat(w, lh, run.text, "", 0, "L", false, 0, "")
				x += w
			}
		}
		l.y += lh
	}
}

// width measures s at size points, each run in its font.
func (l *ticketLayout) width(s string, size float64) float64 {
	w := 0.0
	for _, run := range fontRuns(s) {
		l.pdf.SetFont(run.font, "", size)
		w += l.pdf.GetStringWidth(run.text)
	}
	return w
}

// fontRun is a stretch of text printed in one font.
type fontRun struct{ font, text string }

// fontRuns splits s into runs by font: CJK characters in the CJK font, everything else in DejaVu Sans
// (which has no CJK glyphs, while the CJK subset has nothing but CJK).
func fontRuns(s string) []fontRun {
	var runs []fontRun
	for _, r := range s {
		f := fontText
		if isCJK(r) {
			f = fontCJK
		}
		if n := len(runs); n > 0 && runs[n-1].font == f {
			runs[n-1].text += string(r)
			continue
		}
		runs = append(runs, fontRun{font: f, text: string(r)})
	}
	return runs
}

// isCJK reports the characters the CJK font prints: CJK punctuation, kana, ideographs, compatibility
// ideographs and forms, full-width forms.
func isCJK(r rune) bool {
	return r >= 0x2E80 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF || r >= 0xFE30 && r <= 0xFE4F || r >= 0xFF00 && r <= 0xFFEF
}

// number writes the ticket number in large bold type, shrinking it until it fits the printable width.
func (l *ticketLayout) number(s string, size float64) {
	l.pdf.SetFont("Helvetica", "B", size)
	for l.pdf.GetStringWidth(s) > l.paper.PrintableMM && size > 12 {
		size -= 2
		l.pdf.SetFont("Helvetica", "B", size)
	}
	h := size * 0.3528
	if l.draw {
		w := l.pdf.GetStringWidth(s)
		l.pdf.SetXY((l.paper.WidthMM-w)/2, l.y)
		l.pdf.CellFormat(w, h, s, "", 0, "C", false, 0, "")
	}
	l.y += h + 1
}

// rule draws a thin line across the printable width.
func (l *ticketLayout) rule() {
	if l.draw {
		m := (l.paper.WidthMM - l.paper.PrintableMM) / 2
		l.pdf.SetLineWidth(0.3)
		l.pdf.Line(m, l.y, l.paper.WidthMM-m, l.y)
	}
	l.y += 0.3
}

// dotsPerMM is the resolution of thermal ticket printers (203 dpi).
const dotsPerMM = 8

// qr draws the QR code of url, centred, at most size millimetres wide including the quiet zone. A module is
// a whole number of printer dots, so every module prints the same width; all modules are one filled path,
// so renderers leave no anti-aliased seams between adjacent squares (separate squares left hairlines that
// made one code in five unreadable at 58 mm).
func (l *ticketLayout) qr(url string, size float64) error {
	code, err := qrMatrix(url)
	if err != nil {
		return err
	}
	n := code.Bounds().Dx()
	total := float64(n + 2*quietModules)
	m := float64(int(size/total*dotsPerMM)) / dotsPerMM
	if m < 0.5 {
		m = size / total
	}
	side := m * total
	if l.draw {
		x0 := (l.paper.WidthMM-side)/2 + quietModules*m
		y0 := l.y + quietModules*m
		l.pdf.SetFillColor(0, 0, 0)
		for y := 0; y < n; y++ {
			for x := 0; x < n; {
				if !dark(code, x, y) {
					x++
					continue
				}
				run := 1
				for x+run < n && dark(code, x+run, y) {
					run++
				}
				left, top := x0+float64(x)*m, y0+float64(y)*m
				l.pdf.MoveTo(left, top)
				l.pdf.LineTo(left+float64(run)*m, top)
				l.pdf.LineTo(left+float64(run)*m, top+m)
				l.pdf.LineTo(left, top+m)
				l.pdf.ClosePath()
				x += run
			}
		}
		l.pdf.DrawPath("F")
	}
	l.y += side
	return nil
}

// wrap breaks s into lines no wider than width as measure measures them, at spaces where it can and
// inside words (a URL, Chinese) where it must.
func wrap(measure func(string) float64, s string, width float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		candidate := word
		if line != "" {
			candidate = line + " " + word
		}
		if measure(candidate) <= width {
			line = candidate
			continue
		}
		if line != "" {
			lines = append(lines, line)
			line = ""
		}
		for measure(word) > width {
			cut := len([]rune(word))
			for cut > 1 && measure(string([]rune(word)[:cut])) > width {
				cut--
			}
			lines = append(lines, string([]rune(word)[:cut]))
			word = string([]rune(word)[cut:])
		}
		line = word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// serviceName picks a service's name in lang, then English, then Italian.
func serviceName(names map[string]string, lang string) string {
	for _, l := range []string{lang, "en", "it"} {
		if n := names[l]; n != "" {
			return n
		}
	}
	return ""
}

// waitText says a wait in whole minutes, rounded up ("about 15 min"); never "no wait" (see WaitText).
func waitText(lang string, seconds int) string {
	if seconds <= 0 {
		return web.Translate(lang, "kiosk.wait_soon")
	}
	return strings.ReplaceAll(web.Translate(lang, "kiosk.wait_minutes"), "{n}", strconv.Itoa((seconds+59)/60))
}

// ticketPDF serves /t/{code}.pdf: the printed ticket, for an 80 mm roll or, with ?paper=58, a 58 mm one.
func (h *Handler) ticketPDF(w http.ResponseWriter, r *http.Request, code string) {
	paper := Paper80
	switch r.URL.Query().Get("paper") {
	case "", "80":
	case "58":
		paper = Paper58
	default:
		web.WriteError(w, r, web.InvalidField("paper", "paper must be 80 or 58 (mm)"))
		return
	}
	ctx := r.Context()
	t, err := h.Store.TicketByCode(ctx, code)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	o, err := h.Store.OfficeByID(ctx, t.OfficeID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	p := Printable(t, o, PhoneURL(h.base(r), code))
	var buf bytes.Buffer
	if err := WriteTicketPDF(&buf, p, paper); err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "turno-"+t.Number+".pdf"))
	web.AllowSameOriginFraming(w) // the kiosk prints it from a hidden frame
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// Printable prepares a ticket of office o for printing, with url as its phone page.
func Printable(t *ticketing.Ticket, o *ticketing.Office, url string) *PrintedTicket {
	p := &PrintedTicket{
		Office: o.Name, Number: t.Number, ServiceName: t.ServiceNames, IssuedAt: t.IssuedAt.In(o.Location()),
		Ahead: t.Position, WaitSeconds: t.EstimatedWaitSeconds, Estimate: t.Estimate, URL: url, Lang: t.Lang,
	}
	if t.AppointmentAt != nil {
		at := t.AppointmentAt.In(o.Location())
		p.Appointment = &at
	}
	return p
}
