package ticketing

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/boombuler/barcode/qr"

	"turno/internal/auth"
)

// PairingLink is the link that pairs a browser with a device once: opened on the kiosk, the hall screen or
// the counter's feedback tablet, it keeps the token in a cookie and drops it from the address. base is the
// installation's public address (web.BaseURL, from TURNO_BASE_URL), never the Host a client sent.
func PairingLink(base, slug string, kind auth.DeviceKind, token string) string {
	page := "/kiosk/"
	switch kind {
	case auth.Display:
		page = "/display/"
	case auth.Feedback:
		page = "/feedback/"
	}
	return strings.TrimRight(base, "/") + page + url.PathEscape(slug) + "?device=" + url.QueryEscape(token)
}

// QRRows encodes text as a QR code at error-correction level M and returns its modules row by row, "1"
// for dark and "0" for light, without the quiet zone: the devices page draws it as SVG (the pages'
// Content-Security-Policy allows no data: images).
func QRRows(text string) ([]string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("ticketing: encode QR code: %w", err)
	}
	origin, n := code.Bounds().Min, code.Bounds().Dx()
	rows := make([]string, n)
	var b strings.Builder
	for y := 0; y < n; y++ {
		b.Reset()
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(origin.X+x, origin.Y+y).RGBA(); r < 0x8000 {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		rows[y] = b.String()
	}
	return rows, nil
}
