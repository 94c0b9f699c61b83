package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestScreenshots saves a PNG of every kind of page (walkPages), at its screen's size, into the folder
// TURNO_SCREENSHOTS names (`make screenshots`: docs/screenshots); without it the test is skipped.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("TURNO_SCREENSHOTS")
	if dir == "" {
		t.Skip("TURNO_SCREENSHOTS is not set (make screenshots sets it to docs/screenshots)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEdgeApp(t, nil)
	names := strings.NewReplacer(" ", "-", "/", "-")
	walkPages(t, e, func(t *testing.T, ctx context.Context, kind string) {
		t.Helper()
		// What the screen shows: the page at its window's size, as the people in front of it see it.
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Errorf("%s: screenshot: %v", kind, err)
			return
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Errorf("%s: read screenshot: %v", kind, err)
			return
		}
		var out bytes.Buffer
		if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, img); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, names.Replace(strings.ToLower(kind))+".png")
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		t.Logf("%s: %d×%d, %d KB", path, b.Dx(), b.Dy(), out.Len()/1024)
	})
}
