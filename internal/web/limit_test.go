package web

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAddressKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":      "2001:db8:1:2::/64",
		"fe80::1%eth0":              "fe80::/64",
		"not an address":            "not an address",
		"2001:db8:1:3::1":           "2001:db8:1:3::/64",
		"::1":                       "::/64",
		"127.0.0.1":                 "127.0.0.1",
		"2001:0db8:0001:0002::0001": "2001:db8:1:2::/64",
	} {
		if got := AddressKey(in); got != want {
			t.Errorf("AddressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// holder accepts every connection the limiter lets through and keeps it open, silent.
type holder struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *holder) serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
	}
}

func (h *holder) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// dialFrom opens a TCP connection to addr from the local address from.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refused reports whether the server refused c: it answered 429 and closed, rather than keeping the
// connection open and silent.
func refused(t *testing.T, c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	b, err := io.ReadAll(c)
	if errors.Is(err, os.ErrDeadlineExceeded) && len(b) == 0 {
		return false
	}
	if len(b) > 0 && !strings.HasPrefix(string(b), "HTTP/1.1 429 ") {
		t.Errorf("a refused connection got %q", b)
	}
	return true
}

// The cap holds per address: of 20 connections from one address 5 are served and 15 refused at once,
// while another address gets its own 5 and an exempt one (a trusted proxy) any number. A connection that
// closes gives its place back, once however often it is closed.
func TestConnLimiter(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := LimitConnsPerAddress(inner, 5, "127.0.0.3/32")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	h := &holder{}
	go h.serve(l)
	addr := inner.Addr().String()

	served := func(from string, n int) (ok, no int) {
		seen := func() int { return h.count() + int(l.Refused()) }
		before := seen()
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = dialFrom(t, from, addr)
		}
		// Wait until the limiter has decided on every one of them.
		deadline := time.Now().Add(5 * time.Second)
		for seen() < before+n {
			if time.Now().After(deadline) {
				t.Fatalf("the limiter decided on %d of %d connections", seen()-before, n)
			}
			time.Sleep(time.Millisecond)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				r := refused(t, c)
				mu.Lock()
				defer mu.Unlock()
				if r {
					no++
				} else {
					ok++
				}
			})
		}
		wg.Wait()
		return ok, no
	}
	if ok, no := served("127.0.0.1", 20); ok != 5 || no != 15 {
		t.Fatalf("from 127.0.0.1: %d served, %d refused; want 5 and 15", ok, no)
	}
	if ok, no := served("127.0.0.2", 8); ok != 5 || no != 3 {
		t.Fatalf("from 127.0.0.2: %d served, %d refused; want 5 and 3", ok, no)
	}
	if ok, no := served("127.0.0.3", 20); ok != 20 || no != 0 {
		t.Fatalf("from exempt 127.0.0.3: %d served, %d refused; want 20 and 0", ok, no)
	}
	if got := l.Refused(); got != 18 {
		t.Fatalf("Refused() = %d, want 18", got)
	}

	// Closing one of 127.0.0.1's connections, twice, frees exactly one place.
	h.mu.Lock()
	var first net.Conn
	for _, c := range h.conns {
		if strings.HasPrefix(c.RemoteAddr().String(), "127.0.0.1:") {
			first = c
			break
		}
	}
	h.mu.Unlock()
	first.Close()
	first.Close()
	if got := l.Open("127.0.0.1"); got != 4 {
		t.Fatalf("after a close 127.0.0.1 holds %d, want 4", got)
	}
	if ok, no := served("127.0.0.1", 2); ok != 1 || no != 1 {
		t.Fatalf("after a close: %d served, %d refused; want 1 and 1", ok, no)
	}
	if got := h.count(); got != 5+5+20+1 {
		t.Fatalf("the server got %d connections, want %d", got, 31)
	}
}

// Behind an http.Server: an address at its cap is refused while another address is served, and the
// connections the server closes give their places back.
func TestConnLimiterHTTP(t *testing.T) {
	t.Parallel()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := LimitConnsPerAddress(inner, 2)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		_, _ = io.WriteString(w, "ok")
	}), ReadHeaderTimeout: time.Minute}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	addr := inner.Addr().String()

	get := func(from string) (string, error) {
		c := dialFrom(t, from, addr)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return "", err
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		return res.Status, nil
	}
	// Two silent connections from 127.0.0.1 fill its places.
	dialFrom(t, "127.0.0.1", addr)
	dialFrom(t, "127.0.0.1", addr)
	deadline := time.Now().Add(5 * time.Second)
	for l.Open("127.0.0.1") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the server did not accept the two connections")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st, err := get("127.0.0.1"); err == nil && !strings.HasPrefix(st, "429") {
		t.Fatalf("a third connection from 127.0.0.1 got %q, want 429 or a closed connection", st)
	}
	for range 10 {
		if st, err := get("127.0.0.2"); err != nil || st != "200 OK" {
			t.Fatalf("127.0.0.2: %q, %v; want 200 OK", st, err)
		}
	}
	// The server closed each of 127.0.0.2's connections after its answer: none is counted any more.
	deadline = time.Now().Add(5 * time.Second)
	for l.Open("127.0.0.2") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.2 still holds %d places", l.Open("127.0.0.2"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestLimitConnsBadExempt(t *testing.T) {
	t.Parallel()
	if _, err := LimitConnsPerAddress(nil, 1, "10.0.0.0/33"); err == nil {
		t.Fatal("an invalid exempt network was accepted")
	}
	if _, err := LimitConnsPerAddress(nil, 1, "10.0.0.1", "10.0.0.0/8", "::1"); err != nil {
		t.Fatal(err)
	}
}
