package kiosk

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"turno/internal/web"
)

// quietModules is the blank border the QR specification requires around the code (4 modules): readers
// need it to find the code, and the ticket's text must not come closer.
const quietModules = 4

// qrMatrix encodes text at error-correction level M (15 % of the code may be unreadable: a crease or a
// faded thermal print still scans).
func qrMatrix(text string) (barcode.Barcode, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("kiosk: encode QR code: %w", err)
	}
	return code, nil
}

// qrPNG draws a QR code with its quiet zone, scale pixels per module, black on white.
func qrPNG(text string, scale int) ([]byte, error) {
	code, err := qrMatrix(text)
	if err != nil {
		return nil, err
	}
	n := code.Bounds().Dx()
	side := (n + 2*quietModules) * scale
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if dark(code, x, y) {
				x0, y0 := (x+quietModules)*scale, (y+quietModules)*scale
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetColorIndex(x0+dx, y0+dy, 1)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("kiosk: QR code PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// dark reports whether module (x, y) of a code is dark.
func dark(code barcode.Barcode, x, y int) bool {
	r, _, _, _ := code.At(code.Bounds().Min.X+x, code.Bounds().Min.Y+y).RGBA()
	return r < 0x8000
}

// ticketQR serves /t/{code}.png, the QR code the kiosk shows on screen next to the number. Only codes of
// real tickets are drawn, so the endpoint cannot be used to make QR codes for anything else.
func (h *Handler) ticketQR(w http.ResponseWriter, r *http.Request, code string) {
	if _, err := h.Store.TicketByCode(r.Context(), code); err != nil {
		web.WriteError(w, r, err)
		return
	}
	b, err := qrPNG(PhoneURL(h.base(r), code), 8)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(b)
}
