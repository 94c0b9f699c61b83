package kiosk_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"turno/internal/web"
	"turno/kiosk"
)

var (
	bidiControls = strings.NewReplacer("\u200e", "", "\u200f", "", "\u202a", "", "\u202b", "", "\u202c", "",
		"\u202d", "", "\u202e", "", "\u2066", "", "\u2067", "", "\u2068", "", "\u2069", "")
	spaces      = regexp.MustCompile(`\s+`)
	spaceBefore = regexp.MustCompile(`\s+(\p{Han}|[\x{3000}-\x{303F}\x{FF00}-\x{FFEF}])`)
	spaceAround = regexp.MustCompile(`\s*([:.])\s*`)
)

// pdfText reads a PDF's text with pdftotext, in logical order as pdftotext rebuilds it, normalised by
// printedForm's rules: pdftotext marks right-to-left and left-to-right runs with bidi controls, moves the
// space around the colon or full stop that ends an Arabic phrase, and puts one where a Chinese line wraps.
func pdfText(t *testing.T, path string) string {
	t.Helper()
	return normalise(bidiControls.Replace(run(t, "pdftotext", path, "-")))
}

// printedForm is text as pdfText reads it back from a ticket: Arabic in its presentation forms.
func printedForm(s string) string {
	return normalise(kiosk.ShapeArabic(s))
}

func normalise(s string) string {
	return spaceAround.ReplaceAllString(spaceBefore.ReplaceAllString(spaces.ReplaceAllString(s, " "), "$1"), "$1")
}

// TestPrintScripts prints Arabic and Chinese tickets on both roll widths and reads them back with
// pdftotext: the lines are in the visitor's language and script (Arabic letters joined into their
// presentation forms, Chinese in the embedded CJK font), and the Latin office name, number, date and URL
// print as they are.
func TestPrintScripts(t *testing.T) {
	requireTools(t, "pdftotext", "pdffonts")
	dir := t.TempDir()
	ahead, wait := 4, 1500
	rome, _ := time.LoadLocation("Europe/Rome")
	for _, tc := range []struct {
		lang, service string
		literal       []string // known presentation-form sequences, from Unicode's charts
		font          string   // a font the PDF must embed, by the name kiosk registers it under
	}{
		{lang: "ar", service: "بطاقة الهوية الإلكترونية",
			// رقمك (your number): reh isolated, qaf initial, meem medial, kaf final; الإلكترونية has the
			// lam-alef with hamza below, isolated.
			literal: []string{"\uFEAD\uFED7\uFEE4\uFEDA", "\uFE8D\uFEF9\uFEDF\uFEDC\uFE98\uFEAE\uFEED\uFEE7\uFEF4\uFE94"},
			font:    "dejavu"},
		{lang: "zh", service: "电子身份证", literal: []string{"您的号码", "电子身份证"}, font: "droid-cjk"},
	} {
		p := &kiosk.PrintedTicket{
			Office: "Sportello Polifunzionale – Comune di Demo", Number: "A023",
			ServiceName: map[string]string{"it": "Carta d'identità elettronica", tc.lang: tc.service},
			IssuedAt:    time.Date(2026, 3, 2, 9, 41, 0, 0, rome), Ahead: &ahead, WaitSeconds: &wait,
			URL: "http://localhost:8080/t/abcdefghjkmnpqrs", Lang: tc.lang,
		}
		for _, paper := range []kiosk.Paper{kiosk.Paper80, kiosk.Paper58} {
			text, path := printedText(t, dir, p, paper)
			what := tc.lang + " on " + strconv.Itoa(int(paper.WidthMM)) + " mm"
			for _, key := range []string{"kiosk.your_number", "kiosk.people_ahead", "kiosk.estimated_wait", "kiosk.scan_qr", "kiosk.pdf.line"} {
				if want := printedForm(web.Translate(tc.lang, key)); !strings.Contains(text, want) {
					t.Errorf("%s: text lacks %s %q:\n%s", what, key, want, text)
				}
			}
			wantAll := append([]string{printedForm(tc.service), "A023", "02/03/2026 09:41", "Sportello Polifunzionale – Comune di Demo",
				"http://localhost:8080/t/abcdefghjkmnpqrs", "25"}, tc.literal...)
			for _, want := range wantAll {
				if !strings.Contains(text, want) {
					t.Errorf("%s: text lacks %q:\n%s", what, want, text)
				}
			}
			if fonts := run(t, "pdffonts", path); !strings.Contains(fonts, tc.font) {
				t.Errorf("%s: the PDF does not embed %s:\n%s", what, tc.font, fonts)
			}
			if st, err := os.Stat(path); err == nil {
				t.Logf("%s: %d bytes", what, st.Size())
			}
		}
	}
}
