// Package browsertest starts a headless Chromium for page tests and saves screenshots.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// New returns a browser tab context for the test, closed when the test ends or after 90 seconds. It skips
// the test when no Chromium is installed (Debian: apt-get install chromium; .ci/run installs it). width and
// height set the window size.
func New(t *testing.T, width, height int) context.Context {
	t.Helper()
	return NewFor(t, width, height, 90*time.Second)
}

// NewFor is New for a tab that may live up to timeout, for tests that walk many pages.
func NewFor(t *testing.T, width, height int, timeout time.Duration) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("no Chromium on PATH: install the Debian package chromium to run page tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancelTimeout(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// Screenshot saves a full-page PNG under the test's temporary directory (or TURNO_SCREENSHOT_DIR when set)
// and logs its path.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	return save(t, ctx, name, chromedp.FullScreenshot(100)) // quality 100 gives PNG
}

// ScreenshotViewport is Screenshot of what the window shows, for one-screen pages: Chromium's
// beyond-the-viewport capture shifts right-to-left pages sideways.
func ScreenshotViewport(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	return save(t, ctx, name, chromedp.CaptureScreenshot())
}

func save(t *testing.T, ctx context.Context, name string, capture chromedp.Action[[]byte]) string {
	t.Helper()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("TURNO_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// Settle polls a JavaScript expression until it is true, for up to timeout, also while the page navigates
// (a form post, a page that reloads itself), when an evaluation fails because its page went away; WaitTrue
// gives up on such a failure.
func Settle(js string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(timeout)
		for {
			ok, err := chromedp.Evaluate[bool](js)(ctx, tg)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return chromedp.Void{}, fmt.Errorf("still false after %v: %s (last error: %v)", timeout, js, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// WaitTrue polls a JavaScript expression until it is true, for up to timeout.
func WaitTrue(expression string, timeout time.Duration) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](expression, chromedp.WithPollingTimeout(timeout))(ctx, t)
		return chromedp.Void{}, err
	}
}

// countGets makes the page record the path of every GET it makes through fetch (window.__gets).
const countGets = `(() => {
  window.__gets = [];
  const f = window.fetch;
  window.fetch = (url, opts) => {
    if (!opts || !opts.method || opts.method === "GET") window.__gets.push(new URL(String(url), location.href).pathname);
    return f(url, opts);
  };
  return true;
})()`

// CountGets makes the page record the path of every GET it makes from now on, so that a test can tell what
// came pushed over a stream from what the page read from the API (Gets).
func CountGets(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](countGets)); err != nil {
		t.Fatalf("count the page's requests: %v", err)
	}
}

// Gets returns the paths the page has read since CountGets.
func Gets(t *testing.T, ctx context.Context) []string {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__gets || ["no probe"]`))
	if err != nil {
		t.Fatalf("read the page's requests: %v", err)
	}
	return got
}
