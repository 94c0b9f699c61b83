package web

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// AddressKey is what the per-address limits count by: an IPv4 address as it is, an IPv6 address as its
// /64 network, since one subscriber or one site holds a whole /64 and could otherwise take a new address
// for every connection. Anything that does not parse is its own key.
func AddressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// ConnLimiter is a net.Listener that holds at most a fixed number of concurrent connections from one
// client address (AddressKey of the TCP peer). A connection beyond the cap is answered with a short 429
// response, as far as the socket takes it at once, and closed before the HTTP server sees it: the cost of a
// refused connection is one accept, one write and one close, and the server's goroutines, buffers and
// handlers never run for it. Connections from exempt networks are not counted: behind a reverse proxy all
// clients share the proxy's address, so the proxy must be exempt (and cap per client itself).
type ConnLimiter struct {
	net.Listener
	max    int
	exempt []netip.Prefix

	mu   sync.Mutex
	open map[string]int

	refused atomic.Int64
}

// LimitConnsPerAddress wraps l so that one client address holds at most max connections at a time (see
// ConnLimiter). exempt are CIDRs (or single addresses) whose connections are not counted: pass the
// trusted proxies. max <= 0 lifts the cap; l is then returned wrapped but unlimited.
func LimitConnsPerAddress(l net.Listener, max int, exempt ...string) (*ConnLimiter, error) {
	cl := &ConnLimiter{Listener: l, max: max, open: map[string]int{}}
	for _, s := range exempt {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("web: exempt network %q: %w", s, err)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		cl.exempt = append(cl.exempt, p.Masked())
	}
	return cl, nil
}

// Accept returns the next connection within the cap; connections over it are refused here and never
// returned.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.max <= 0 {
			return c, nil
		}
		key, counted := l.key(c.RemoteAddr())
		if !counted {
			return c, nil
		}
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.mu.Unlock()
			l.refuse(c)
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, key: key}, nil
	}
}

// key returns the address key of a peer and whether its connections count.
func (l *ConnLimiter) key(addr net.Addr) (string, bool) {
	var ip netip.Addr
	if tcp, ok := addr.(*net.TCPAddr); ok {
		ip, _ = netip.AddrFromSlice(tcp.IP)
	} else if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		ip = ap.Addr()
	}
	if !ip.IsValid() {
		return "", false // not an IP peer (a Unix socket): nothing to count by
	}
	ip = ip.Unmap()
	for _, p := range l.exempt {
		if p.Contains(ip) {
			return "", false
		}
	}
	return AddressKey(ip.String()), true
}

// tooManyConns is the whole answer to a connection over the cap.
var tooManyConns = func() []byte {
	body := `{"error":{"code":"too_many_connections","message":"too many connections from your address"}}`
	return []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json; charset=utf-8\r\n" +
		"Retry-After: 5\r\nConnection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

// refuse answers a connection over the cap and closes it. The write goes to the fresh socket's empty send
// buffer, so it does not wait for the client; the deadline is there in case it would.
func (l *ConnLimiter) refuse(c net.Conn) {
	l.refused.Add(1)
	_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	_, _ = c.Write(tooManyConns)
	_ = c.Close()
}

// Refused returns how many connections the cap has refused so far.
func (l *ConnLimiter) Refused() int64 { return l.refused.Load() }

// Open returns how many counted connections the address key (AddressKey) holds now.
func (l *ConnLimiter) Open(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[key]
}

func (l *ConnLimiter) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] <= 1 {
		delete(l.open, key)
		return
	}
	l.open[key]--
}

// limitedConn gives its address's place back when it is closed, once, however often Close is called (the
// HTTP server and a hijacking WebSocket library may both close it).
type limitedConn struct {
	net.Conn
	l      *ConnLimiter
	key    string
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key)
	}
	return err
}

// ReadFrom keeps the HTTP server's sendfile(2) path for static files.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}
