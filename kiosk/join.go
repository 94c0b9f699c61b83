package kiosk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/jung-kurt/gofpdf"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

var joinPage = web.NewPage(templates, "templates/join.html")

// joinView is the data of /join/{office}: the office's services to take a ticket for from one's own phone.
// Like the phone page it holds no personal data.
type joinView struct {
	Slug   string
	Office *ticketing.Office
	// Reason says why no service can be chosen: "unknown_office", "disabled" (the office does not let
	// phones join) or "closed" (not issuing now); empty when the list is shown.
	Reason string
	// Closed is the sentence that says when issuing opens again, when Reason is "closed".
	Closed string
	Groups []joinGroup
	Boot   *joinBoot
}

// joinGroup is the services of one audience (citizens, businesses); Title is empty when the office has
// only one.
type joinGroup struct {
	Title    string
	Services []joinService
}

// joinService is one service's button, with the wait a ticket taken now would have, in the kiosk's words.
type joinService struct {
	Code string
	Name string
	Wait string
}

// joinBoot is what the page's script starts from: the office, the language and the texts it may show.
type joinBoot struct {
	Office string            `json:"office"`
	Lang   string            `json:"lang"`
	Texts  map[string]string `json:"texts"`
}

// joinRoutes mounts the phone's way into the queue, /join/{office}, and the entrance poster that leads
// there, /manage/poster (managers).
func (h *Handler) joinRoutes(r chi.Router) {
	r.Get("/join/{office}", h.join)
	r.With(auth.RequirePage).Get("/manage/poster", h.poster)
}

// join serves /join/{office}: the office's services as big buttons; a tap asks the ticketing API for a
// ticket as an anonymous caller (join.js) and opens the ticket's phone page, /t/{code}. The API applies
// the kiosk's rules (opening hours and the stop before closing, services switched off, a per-address rate
// limit) and refuses anonymous callers unless the office has turned phone_join on; the page only says so
// in advance.
func (h *Handler) join(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := web.RequestLang(r, Langs)
	slug := chi.URLParam(r, "office")
	v := &joinView{Slug: slug}
	view := &web.View{Lang: lang, Title: web.Translate(lang, "join.title"), Body: "phone join", Langs: Langs, Data: v}
	o, err := h.Store.Office(ctx, slug)
	if err != nil {
		var we *web.Error
		if !errors.As(err, &we) || we.Status != http.StatusNotFound {
			web.WriteError(w, r, err)
			return
		}
		v.Reason, view.Status = "unknown_office", http.StatusNotFound
		joinPage.Render(w, r, view)
		return
	}
	v.Office = o
	view.Title = web.Translate(lang, "join.title") + " · " + o.Name
	if !o.PhoneJoin {
		v.Reason, view.Status = "disabled", http.StatusForbidden
		joinPage.Render(w, r, view)
		return
	}
	st, err := BuildStatus(ctx, h.Store, o)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if !st.IssuingOpen {
		v.Reason = "closed"
		v.Closed = web.Translate(lang, "kiosk.closed_unknown")
		if st.NextOpening != nil {
			when := web.FormatDateTime(lang, st.NextOpening.In(o.Location()))
			v.Closed = strings.ReplaceAll(web.Translate(lang, "kiosk.closed_next"), "{when}", when)
		}
		joinPage.Render(w, r, view)
		return
	}
	for _, a := range st.Audiences {
		g := joinGroup{}
		if len(st.Audiences) > 1 {
			g.Title = web.Translate(lang, "kiosk.audience."+a)
		}
		for _, sv := range st.Services {
			if sv.Audience != a || !sv.Available {
				continue // a phone shows what can be taken now; the kiosk greys the rest out for regulars
			}
			g.Services = append(g.Services, joinService{Code: sv.Code, Name: serviceName(sv.Names, lang), Wait: WaitText(lang, sv.Estimate)})
		}
		if len(g.Services) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	texts := web.Catalogue(lang, "join.")
	v.Boot = &joinBoot{Office: o.Slug, Lang: lang, Texts: texts}
	joinPage.Render(w, r, view)
}

// JoinURL is the address of an office's join page, which the entrance poster's QR code encodes.
func JoinURL(base, office string) string { return strings.TrimRight(base, "/") + "/join/" + office }

// poster serves /manage/poster: an A4 PDF for the entrance with the QR code of the office's join page and
// short instructions in Italian with an English line. It is printed whether or not phone_join is on yet,
// so a manager can put it up before turning it on; it says nothing the page would not.
func (h *Handler) poster(w http.ResponseWriter, r *http.Request) {
	o, _, err := h.Store.ManagedOffice(r)
	if err != nil {
		web.RenderManage(w, r, nil, ticketing.UserName(r), nil, err)
		return
	}
	var buf bytes.Buffer
	if err := WritePosterPDF(&buf, o.Name, JoinURL(h.base(r), o.Slug)); err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("inline; filename=%q", "turno-"+o.Slug+"-poster.pdf"))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// posterQRMM is the side of the poster's QR code with its quiet zone: big enough to scan from a couple of
// metres on a wall.
const posterQRMM = 140.0

// WritePosterPDF writes the entrance poster of an office (A4, portrait): its name, a headline in Italian
// and English, the QR code of url, three steps in Italian with an English line, and url itself for phones
// that cannot scan.
func WritePosterPDF(w io.Writer, office, url string) error {
	pdf := gofpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(true)
	pdf.SetTitle("Turno – "+office, true)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetMargins(15, 15, 15)
	pdf.AddUTF8FontFromBytes(fontText, "", dejaVuSans)
	pdf.AddPage()
	const pageW = 210.0
	it := func(key string) string { return web.Translate("it", key) }
	en := func(key string) string { return web.Translate("en", key) }
	y := 18.0
	centred := func(s string, size, lineMM float64) {
		pdf.SetFont(fontText, "", size)
		for _, line := range wrap(pdf.GetStringWidth, s, pageW-30) {
			pdf.SetXY(15, y)
			pdf.CellFormat(pageW-30, lineMM, line, "", 0, "C", false, 0, "")
			y += lineMM
		}
	}
	centred(office, 16, 8)
	y += 6
	pdf.SetTextColor(11, 37, 69)
	centred(it("poster.headline"), 30, 13)
	pdf.SetTextColor(60, 60, 60)
	centred(en("poster.headline"), 18, 9)
	pdf.SetTextColor(0, 0, 0)
	y += 4
	code, err := qrMatrix(url)
	if err != nil {
		return err
	}
	n := code.Bounds().Dx()
	m := posterQRMM / float64(n+2*quietModules)
	x0, y0 := (pageW-posterQRMM)/2+quietModules*m, y+quietModules*m
	pdf.SetFillColor(0, 0, 0)
	for row := 0; row < n; row++ {
		for col := 0; col < n; {
			if !dark(code, col, row) {
				col++
				continue
			}
			run := 1
			for col+run < n && dark(code, col+run, row) {
				run++
			}
			// One filled path for the whole code: no hairline seams between adjacent modules (pdf.go's qr).
			left, top := x0+float64(col)*m, y0+float64(row)*m
			pdf.MoveTo(left, top)
			pdf.LineTo(left+float64(run)*m, top)
			pdf.LineTo(left+float64(run)*m, top+m)
			pdf.LineTo(left, top+m)
			pdf.ClosePath()
			col += run
		}
	}
	pdf.DrawPath("F")
	y += posterQRMM + 4
	for i := 1; i <= 3; i++ {
		centred(strconv.Itoa(i)+". "+it("poster.step"+strconv.Itoa(i)), 17, 8.5)
		y += 1.5
	}
	y += 2
	pdf.SetTextColor(60, 60, 60)
	centred(en("poster.steps"), 13, 6.5)
	y += 4
	pdf.SetTextColor(0, 0, 0)
	centred(url, 14, 7)
	y += 2
	pdf.SetTextColor(60, 60, 60)
	centred(it("poster.kiosk")+" · "+en("poster.kiosk"), 13, 6.5)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("kiosk: poster PDF: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("kiosk: write poster PDF: %w", err)
	}
	return nil
}
