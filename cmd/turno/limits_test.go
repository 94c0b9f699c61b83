package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/internal/config"
)

// limitsServer serves handler through newHTTPServer with short limits, on a loopback port.
func limitsServer(t *testing.T, handler http.Handler) (addr string, cfg *config.Config) {
	t.Helper()
	cfg = &config.Config{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: time.Second,
		IdleTimeout: time.Second, MaxHeaderBytes: 4096}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(context.Background(), cfg, handler)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), cfg
}

// closedWithin reads from c until the server closes it and returns how long that took from start.
func closedWithin(t *testing.T, c net.Conn, start time.Time, limit time.Duration) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for more than %v", limit)
	}
	return time.Since(start)
}

// A slowloris client, which sends its headers a byte at a time and never ends them, is cut off once
// ReadHeaderTimeout has passed, however steadily it sends; a well-behaved client on the same server is
// served meanwhile.
func TestSlowHeadersCutOff(t *testing.T) {
	t.Parallel()
	addr, cfg := limitsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		header := "GET / HTTP/1.1\r\nHost: turno\r\nX-Slow: " + strings.Repeat("a", 1000)
		for i := 0; i < len(header); i++ {
			if _, err := c.Write([]byte{header[i]}); err != nil {
				return // cut off
			}
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	res, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("a normal request during the slow one: status %d", res.StatusCode)
	}
	took := closedWithin(t, c, start, 5*time.Second)
	if took < cfg.ReadHeaderTimeout-100*time.Millisecond || took > cfg.ReadHeaderTimeout+time.Second {
		t.Errorf("the slow client was cut off after %v, want about ReadHeaderTimeout (%v)", took, cfg.ReadHeaderTimeout)
	}
	t.Logf("slow client cut off after %v", took.Round(time.Millisecond))
}

// A client that sends its headers but its body slowly is cut off at ReadTimeout; an idle keep-alive
// connection is closed at IdleTimeout; headers over MaxHeaderBytes get 431.
func TestSlowBodyIdleAndLargeHeaders(t *testing.T) {
	t.Parallel()
	addr, cfg := limitsServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := time.Now()
	if _, err := io.WriteString(slow, "POST / HTTP/1.1\r\nHost: turno\r\nContent-Length: 1000\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range 1000 {
			if _, err := slow.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if took := closedWithin(t, slow, start, 6*time.Second); took > cfg.ReadTimeout+time.Second {
		t.Errorf("the slow body was cut off after %v, want about ReadTimeout (%v)", took, cfg.ReadTimeout)
	}

	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := io.WriteString(idle, "GET / HTTP/1.1\r\nHost: turno\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("keep-alive request: %v %v", res, err)
	}
	res.Body.Close()
	start = time.Now()
	if took := closedWithin(t, idle, start, 5*time.Second); took < cfg.IdleTimeout-100*time.Millisecond || took > cfg.IdleTimeout+time.Second {
		t.Errorf("the idle connection was closed after %v, want about IdleTimeout (%v)", took, cfg.IdleTimeout)
	}

	req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("b", 16<<10))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers over a 4 KiB limit: status %d, want 431", res.StatusCode)
	}
}

// WriteTimeout does not reach a hijacked connection: a WebSocket stream stays open and usable well past
// ReadTimeout, WriteTimeout and IdleTimeout (net/http clears a connection's deadlines when a handler
// hijacks it; the stream then sets its own). A long answer whose handler extends its write deadline with
// http.ResponseController (as the roster PDF does) arrives; one that does not is cut off.
func TestWriteTimeoutSparesStreamsAndExtendedAnswers(t *testing.T) {
	t.Parallel()
	upgrader := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		time.Sleep(3 * time.Second) // past every server timeout
		if err := c.WriteMessage(websocket.TextMessage, []byte("still here")); err != nil {
			return
		}
		_, m, err := c.ReadMessage()
		if err != nil {
			return
		}
		_ = c.WriteMessage(websocket.TextMessage, append([]byte("echo "), m...))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("extend") == "1" {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(10 * time.Second))
		}
		time.Sleep(1500 * time.Millisecond) // a long render, past WriteTimeout
		_, _ = io.WriteString(w, "rendered")
	})
	addr, _ := limitsServer(t, mux)

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "still here" {
		t.Fatalf("stream after 3 s: %q, %v", m, err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, m, err := ws.ReadMessage(); err != nil || string(m) != "echo ping" {
		t.Fatalf("stream echo: %q, %v", m, err)
	}

	res, err := http.Get("http://" + addr + "/slow?extend=1")
	if err != nil {
		t.Fatalf("an answer that extended its deadline: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || string(b) != "rendered" {
		t.Fatalf("an answer that extended its deadline: %q, %v", b, err)
	}
	if res, err := http.Post("http://"+addr+"/slow", "text/plain", nil); err == nil { // POST: not retried
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil && string(b) == "rendered" {
			t.Error("an answer past WriteTimeout arrived; the timeout is not applied")
		}
	}
}
