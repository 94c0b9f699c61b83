// Package notifytest gives tests the real peers of the notifications outbox on the loopback: a small SMTP
// server that records the messages it accepts, and the browser's half of Web Push encryption (RFC 8291)
// to read what a push service received. It is for tests only: production packages must not import it (it
// links package testing).
package notifytest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
)

// SMTPServer is an SMTP server on 127.0.0.1 speaking what a sender needs of RFC 5321 — EHLO, AUTH PLAIN
// (when it has credentials), MAIL, RCPT, DATA, QUIT — and recording every message it accepts.
type SMTPServer struct {
	Addr string // host:port

	user, pass string

	mu       sync.Mutex
	rejected map[string]bool
	messages []SMTPMessage
	logins   []string
}

// SMTPMessage is one accepted message: its envelope and its data (with CRLF turned into LF, as the DATA
// reader gives it).
type SMTPMessage struct {
	From string
	To   []string
	Data []byte
}

// NewSMTPServer starts a server that requires AUTH PLAIN with user and pass (none when user is empty),
// closed when the test ends.
func NewSMTPServer(tb testing.TB, user, pass string) *SMTPServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	s := &SMTPServer{Addr: ln.Addr().String(), user: user, pass: pass, rejected: map[string]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

// URL returns the server's TURNO_SMTP_URL.
func (s *SMTPServer) URL() string {
	if s.user == "" {
		return "smtp://" + s.Addr
	}
	return "smtp://" + s.user + ":" + s.pass + "@" + s.Addr
}

// Reject makes the server answer 550 to RCPT TO the address.
func (s *SMTPServer) Reject(address string) {
	s.mu.Lock()
	s.rejected[address] = true
	s.mu.Unlock()
}

// Messages returns the messages accepted so far.
func (s *SMTPServer) Messages() []SMTPMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMTPMessage(nil), s.messages...)
}

// Logins returns the AUTH commands received, as "MECHANISM:authzid|user|password".
func (s *SMTPServer) Logins() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logins...)
}

func (s *SMTPServer) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 test.local ESMTP")
	var msg SMTPMessage
	authed := s.user == ""
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			if s.user != "" {
				_ = tp.PrintfLine("250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME")
			} else {
				_ = tp.PrintfLine("250-test.local\r\n250 8BITMIME")
			}
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			b, _ := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			s.mu.Lock()
			s.logins = append(s.logins, mech+":"+strings.Join(parts, "|"))
			s.mu.Unlock()
			if len(parts) == 3 && parts[1] == s.user && parts[2] == s.pass {
				authed = true
				_ = tp.PrintfLine("235 2.7.0 accepted")
			} else {
				_ = tp.PrintfLine("535 5.7.8 bad credentials")
			}
		case "MAIL":
			if !authed {
				_ = tp.PrintfLine("530 5.7.0 authentication required")
				continue
			}
			from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:<"), ">")
			msg = SMTPMessage{From: from}
		case "RCPT":
			to, _, _ := strings.Cut(strings.TrimPrefix(arg, "TO:<"), ">")
			s.mu.Lock()
			refused := s.rejected[to]
			s.mu.Unlock()
			if refused {
				_ = tp.PrintfLine("550 5.1.1 <%s>: no such user here", to)
				continue
			}
			msg.To = append(msg.To, to)
		case "DATA":
			_ = tp.PrintfLine("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			msg.Data = data
			s.mu.Lock()
			s.messages = append(s.messages, msg)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 2.0.0 queued")
			continue
		case "QUIT":
			_ = tp.PrintfLine("221 2.0.0 bye")
			return
		}
		if v := strings.ToUpper(verb); v == "MAIL" || v == "RCPT" || v == "RSET" || v == "NOOP" || v == "HELO" {
			_ = tp.PrintfLine("250 ok")
		} else if v != "EHLO" && v != "AUTH" {
			_ = tp.PrintfLine("502 5.5.2 not implemented")
		}
	}
}

// Browser is a browser's side of a push subscription: its P-256 key pair and auth secret.
type Browser struct {
	Key  *ecdh.PrivateKey
	Auth []byte
}

// NewBrowser makes a fresh key pair and auth secret.
func NewBrowser(tb testing.TB) *Browser {
	tb.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return &Browser{Key: k, Auth: auth}
}

// P256dh returns the public key as a PushSubscription's keys.p256dh (base64url).
func (b *Browser) P256dh() string {
	return base64.RawURLEncoding.EncodeToString(b.Key.PublicKey().Bytes())
}

// AuthSecret returns the auth secret as a PushSubscription's keys.auth (base64url).
func (b *Browser) AuthSecret() string { return base64.RawURLEncoding.EncodeToString(b.Auth) }

// SubscriptionJSON returns the PushSubscription.toJSON() of this browser at endpoint.
func (b *Browser) SubscriptionJSON(endpoint string) string {
	return `{"endpoint":"` + endpoint + `","expirationTime":null,"keys":{"p256dh":"` + b.P256dh() + `","auth":"` + b.AuthSecret() + `"}}`
}

// Decrypt opens a push message's body sent to this browser.
func (b *Browser) Decrypt(body []byte) ([]byte, error) { return DecryptPush(body, b.Key, b.Auth) }

// PushService is a push service on the loopback: it records every request and answers with its status
// (201 until SetStatus).
type PushService struct {
	*httptest.Server

	mu       sync.Mutex
	status   int
	received []PushRequest
}

// PushRequest is one request a push service received.
type PushRequest struct {
	Path   string
	Header http.Header
	Body   []byte
}

// NewPushService starts a push service, closed when the test ends.
func NewPushService(tb testing.TB) *PushService {
	p := &PushService{status: http.StatusCreated}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.received = append(p.received, PushRequest{Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
		status := p.status
		p.mu.Unlock()
		w.WriteHeader(status)
	}))
	tb.Cleanup(p.Close)
	return p
}

// SetStatus sets the status of the following answers (410: the subscription is gone).
func (p *PushService) SetStatus(status int) {
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
}

// Received returns the requests received so far.
func (p *PushService) Received() []PushRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PushRequest(nil), p.received...)
}

// DecryptPush is the browser's half of RFC 8291: it reads the aes128gcm header of a push message's body,
// agrees the key with the sender's ephemeral public key, the subscription's private key and auth secret,
// and opens the single record. It returns the plaintext.
func DecryptPush(body []byte, browser *ecdh.PrivateKey, authSecret []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("bad header")
	}
	asPublic, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, err
	}
	ciphertext := body[21+idlen:]
	if len(ciphertext) > int(rs) {
		return nil, errors.New("more than one record")
	}
	shared, err := browser.ECDH(asPublic)
	if err != nil {
		return nil, err
	}
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, "WebPush: info\x00"+string(browser.PublicKey().Bytes())+string(asPublic.Bytes()), 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, err
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:len(plain)-1], nil
}
