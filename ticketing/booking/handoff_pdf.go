package booking

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"
	"github.com/go-chi/chi/v5"
	"github.com/jung-kurt/gofpdf"

	"turno/internal/auth"
	"turno/internal/web"
)

// The slip the front desk hands the citizen after a hand-off: the office, the service, the day and time in
// the office's time zone, the booking code in large type and a QR code of the booking's page (/b/{code}),
// which the kiosk reads at check-in. It prints no personal data at all: not the citizen's name or contact,
// nor the note for the specialist. It is 80 mm wide, the ticket printers' roll, and as tall as its content.

// Slip is what a printed slip says.
type Slip struct {
	Office      string
	Service     string
	Start, End  time.Time // in the office's time zone
	Code        string
	URL         string // the booking's page, encoded in the QR code
	WhatToBring string
	Lang        string // "it" or "en"
}

// slipLang is the language a slip is printed in: the booking's when it is English, else Italian. The slip's
// core font prints Western European text only, and the staff who hand it over read Italian.
func slipLang(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "it"
}

// slipWidth and slipMargin are the roll's width and the unprinted edge, in millimetres.
const (
	slipWidth  = 80.0
	slipMargin = 4.0
)

// WriteSlip writes a slip as a one-page PDF.
func WriteSlip(w io.Writer, s *Slip) error {
	pdf := gofpdf.NewCustom(&gofpdf.InitType{UnitStr: "mm", Size: gofpdf.SizeType{Wd: slipWidth, Ht: 200}})
	pdf.SetCompression(true)
	pdf.SetCreationDate(s.Start)
	pdf.SetTitle("Turno "+s.Code, true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(slipMargin, 0, slipMargin)
	l := &slipLayout{pdf: pdf, s: s, tr: pdf.UnicodeTranslatorFromDescriptor("")}
	if err := l.run(false); err != nil {
		return err
	}
	pdf.AddPageFormat("P", gofpdf.SizeType{Wd: slipWidth, Ht: l.y})
	if err := l.run(true); err != nil {
		return err
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("booking: write slip: %w", err)
	}
	return nil
}

// slipLayout lays a slip out top to bottom; it runs twice, to measure the height and then to draw.
type slipLayout struct {
	pdf  *gofpdf.Fpdf
	s    *Slip
	tr   func(string) string // UTF-8 to the core font's code page
	draw bool
	y    float64
}

func (l *slipLayout) t(key string) string { return web.Translate(slipLang(l.s.Lang), key) }

func (l *slipLayout) run(draw bool) error {
	l.draw, l.y = draw, 5
	s := l.s
	l.text(s.Office, "", 10)
	l.y += 2
	l.text(l.t("backoffice.slip.title"), "B", 12)
	l.text(s.Service, "", 11)
	l.y += 2
	l.text(web.FormatDate(slipLang(s.Lang), s.Start), "B", 13)
	l.text(s.Start.Format("15:04")+" – "+s.End.Format("15:04"), "B", 16)
	l.y += 3
	l.text(l.t("backoffice.slip.code"), "", 9)
	l.text(groupCode(s.Code), "B", 24)
	l.y += 2
	if err := l.qr(s.URL, 36); err != nil {
		return err
	}
	l.y += 2
	l.text(l.t("backoffice.slip.check_in"), "", 9)
	if s.WhatToBring != "" {
		l.y += 2
		l.text(l.t("backoffice.slip.bring")+": "+s.WhatToBring, "", 8)
	}
	l.y += 1
	l.text(s.URL, "", 6)
	l.y += 8 // room for the cutter
	return l.pdf.Error()
}

// groupCode prints a code in groups of five, easier to read out and type.
func groupCode(code string) string {
	if len(code) <= 5 {
		return code
	}
	return code[:5] + " " + code[5:]
}

// text writes centred, wrapped text in Helvetica at size points.
func (l *slipLayout) text(s, style string, size float64) {
	if s == "" {
		return
	}
	l.pdf.SetFont("Helvetica", style, size)
	lh := size * 0.3528 * 1.3 // points to millimetres, with leading
	for _, line := range l.wrap(s, slipWidth-2*slipMargin) {
		if l.draw {
			l.pdf.SetXY(slipMargin, l.y)
			l.pdf.CellFormat(slipWidth-2*slipMargin, lh, line, "", 0, "C", false, 0, "")
		}
		l.y += lh
	}
}

// wrap splits s into lines no wider than width in the current font, at spaces, and inside a word (a URL)
// too long for a line; each line comes back in the font's code page.
func (l *slipLayout) wrap(s string, width float64) []string {
	fits := func(line string) bool { return l.pdf.GetStringWidth(l.tr(line)) <= width }
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
		case fits(line + " " + word):
			line += " " + word
			continue
		default:
			lines = append(lines, line)
		}
		line = word
		for !fits(line) {
			r := []rune(line)
			n := len(r) - 1
			for n > 1 && !fits(string(r[:n])) {
				n--
			}
			lines = append(lines, string(r[:n]))
			line = string(r[n:])
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	for i := range lines {
		lines[i] = l.tr(lines[i])
	}
	return lines
}

// qr draws the QR code of url, centred, size millimetres wide with its quiet zone.
func (l *slipLayout) qr(url string, size float64) error {
	code, err := qr.Encode(url, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("booking: slip QR: %w", err)
	}
	n := code.Bounds().Dx()
	m := size / float64(n+8) // four modules of quiet zone on each side
	if l.draw {
		x0, y0 := (slipWidth-float64(n)*m)/2, l.y+4*m
		l.pdf.SetFillColor(0, 0, 0)
		for y := range n {
			for x := range n {
				if slipDark(code, x, y) {
					l.pdf.Rect(x0+float64(x)*m, y0+float64(y)*m, m, m, "F")
				}
			}
		}
	}
	l.y += size
	return nil
}

func slipDark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(x, y).RGBA()
	return r < 0x8000
}

// slip answers GET /api/v1/bookings/{code}/slip.pdf: staff of the booking's office print its slip.
func (h *Handler) slip(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := h.bookingOfStaff(ctx, chi.URLParam(r, "code"), auth.FromContext(ctx).User)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	o, svc, err := h.officeAndService(ctx, b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	lang := slipLang(b.Lang)
	loc := o.Location()
	s := &Slip{Office: o.Name, Service: svc.Name(lang), Start: b.Start.In(loc), End: b.End.In(loc), Code: b.Code,
		URL: web.BaseURL(r) + "/b/" + b.Code, WhatToBring: strings.TrimSpace(svc.WhatToBring[lang]), Lang: lang}
	var buf bytes.Buffer
	if err := WriteSlip(&buf, s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="turno-`+b.Code+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}
