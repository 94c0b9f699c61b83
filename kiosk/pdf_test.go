package kiosk_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/web"
	"turno/kiosk"
	"turno/ticketing/ticketingtest"
)

// requireTools skips the test when a Debian tool it reads the ticket with is missing (CI installs
// poppler-utils and zbar-tools).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install poppler-utils zbar-tools): %v", tool, err)
		}
	}
}

// run runs a tool and returns its standard output (zbarimg chats about D-Bus on standard error).
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s%s", name, args, err, out, stderr.Bytes())
	}
	return string(out)
}

var pageSize = regexp.MustCompile(`Page size:\s+([0-9.]+) x ([0-9.]+) pts`)

// pageSizeMM reads the size of a PDF's first page with pdfinfo, in millimetres.
func pageSizeMM(t *testing.T, path string) (float64, float64) {
	t.Helper()
	info := run(t, "pdfinfo", path)
	if !strings.Contains(info, "Pages:           1\n") {
		t.Errorf("want a one-page PDF:\n%s", info)
	}
	m := pageSize.FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no page size in pdfinfo's output:\n%s", info)
	}
	w, _ := strconv.ParseFloat(m[1], 64)
	h, _ := strconv.ParseFloat(m[2], 64)
	return w * 25.4 / 72, h * 25.4 / 72
}

// decodeQR renders the first page of a PDF at 203 dpi (a thermal printer's resolution) and decodes the
// QR code found on it.
func decodeQR(t *testing.T, pdfPath string) string {
	t.Helper()
	prefix := strings.TrimSuffix(pdfPath, ".pdf")
	run(t, "pdftoppm", "-r", "203", "-png", "-singlefile", "-gray", pdfPath, prefix)
	return strings.TrimSpace(run(t, "zbarimg", "--quiet", "--raw", prefix+".png"))
}

// The printed and the on-screen QR codes lead to the ticket's phone page at the installation's base URL,
// whatever Host the request names (a client must not choose where a ticket's link points).
func TestTicketPDF(t *testing.T) {
	t.Parallel()
	requireTools(t, "pdftoppm", "zbarimg", "pdfinfo")
	const base = "https://turno.example.org"
	env := ticketingtest.New(t)
	srv := env.Server(t, func(r chi.Router) { (&kiosk.Handler{Store: env.Store, Auth: env.Auth, BaseURL: base + "/"}).Routes(r) })
	c := pairedClient(t, srv)
	_, tk := issue(t, c, srv.URL, "pdf", `{"service":"cie","lang":"it"}`)
	code := tk["code"].(string)
	want := base + "/t/" + code
	dir := t.TempDir()
	get := func(path string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Host = "evil.example"
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	for _, tc := range []struct {
		query   string
		widthMM float64
	}{{"", 80}, {"?paper=80", 80}, {"?paper=58", 58}} {
		res := get("/t/" + code + ".pdf" + tc.query)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("%s: %d %s", tc.query, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if xfo := res.Header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
			t.Errorf("%s: X-Frame-Options %q, want SAMEORIGIN (the kiosk prints from a frame)", tc.query, xfo)
		}
		path := filepath.Join(dir, "ticket"+strings.NewReplacer("?", "-", "=", "-").Replace(tc.query)+".pdf")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		w, h := pageSizeMM(t, path)
		if w > tc.widthMM+0.01 || w < tc.widthMM-0.01 {
			t.Errorf("paper %s: page is %.2f mm wide, want %.0f mm", tc.query, w, tc.widthMM)
		}
		if h < 80 || h > 200 {
			t.Errorf("paper %s: page is %.1f mm tall, want a ticket's length, not A4's", tc.query, h)
		}
		if got := decodeQR(t, path); got != want {
			t.Errorf("paper %s: QR code reads %q, want %q", tc.query, got, want)
		}
		t.Logf("%s: %.1f × %.1f mm, %d bytes, %s", tc.query, w, h, len(body), path)
	}

	// The on-screen QR code says the same.
	res := get("/t/" + code + ".png")
	png, _ := io.ReadAll(res.Body)
	res.Body.Close()
	pngPath := filepath.Join(dir, "qr.png")
	if err := os.WriteFile(pngPath, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(run(t, "zbarimg", "--quiet", "--raw", pngPath)); got != want {
		t.Errorf("screen QR code reads %q, want %q", got, want)
	}

	for path, status := range map[string]int{
		"/t/" + code + ".pdf?paper=99": http.StatusUnprocessableEntity,
		"/t/nosuchcode.pdf":            http.StatusNotFound,
		"/t/nosuchcode.png":            http.StatusNotFound,
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != status {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, status)
		}
	}
}

// TestPrintLanguages prints a ticket in every kiosk language and reads its text back: every line is in the
// visitor's language, Arabic and Chinese included (TestPrintScripts looks closer at those two).
func TestPrintLanguages(t *testing.T) {
	requireTools(t, "pdftotext")
	dir := t.TempDir()
	ahead, wait := 4, 1500
	rome, _ := time.LoadLocation("Europe/Rome")
	for _, l := range kiosk.Langs {
		p := &kiosk.PrintedTicket{
			Office: "Sportello Polifunzionale – Comune di Demo", Number: "A023",
			ServiceName: map[string]string{"it": "Carta d'identità elettronica", "en": "Electronic identity card"},
			IssuedAt:    time.Date(2026, 3, 2, 9, 41, 0, 0, rome), Ahead: &ahead, WaitSeconds: &wait,
			URL: "http://localhost:8080/t/abcdefghjkmnpqrs", Lang: l.Code,
		}
		for _, paper := range []kiosk.Paper{kiosk.Paper80, kiosk.Paper58} {
			text, _ := printedText(t, dir, p, paper)
			if printed := kiosk.PrintLang(l.Code); printed != l.Code {
				t.Errorf("%s prints in %s", l.Code, printed)
			}
			for _, key := range []string{"kiosk.pdf.line", "kiosk.people_ahead"} {
				if want := printedForm(web.Translate(l.Code, key)); !strings.Contains(text, want) {
					t.Errorf("%s on %v mm: text lacks %q:\n%s", l.Code, paper.WidthMM, want, text)
				}
			}
			for _, want := range []string{"A023", "02/03/2026 09:41", "Comune di Demo"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s: text lacks %q", l.Code, want)
				}
			}
		}
	}
}

// BenchmarkTicketPDF measures making one printed ticket (font subsetting included).
func BenchmarkTicketPDF(b *testing.B) {
	ahead, wait := 4, 1500
	p := &kiosk.PrintedTicket{Office: "Sportello Polifunzionale – Comune di Demo", Number: "A023",
		ServiceName: map[string]string{"it": "Carta d'identità elettronica"}, IssuedAt: time.Now(),
		Ahead: &ahead, WaitSeconds: &wait, URL: "http://localhost:8080/t/abcdefghjkmnpqrs", Lang: "uk"}
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := kiosk.WriteTicketPDF(&buf, p, kiosk.Paper80); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/pdf")
}

// printedText prints p on paper into dir (named by language and width, kept for a look after a failure)
// and returns its text as pdftotext reads it, and the file's path.
func printedText(t *testing.T, dir string, p *kiosk.PrintedTicket, paper kiosk.Paper) (text, path string) {
	t.Helper()
	var buf bytes.Buffer
	if err := kiosk.WriteTicketPDF(&buf, p, paper); err != nil {
		t.Fatalf("%s: %v", p.Lang, err)
	}
	path = filepath.Join(dir, p.Lang+"-"+strconv.Itoa(int(paper.WidthMM))+".pdf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return pdfText(t, path), path
}
