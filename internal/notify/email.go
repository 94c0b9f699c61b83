package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// EmailSender delivers e-mail through an SMTP server (TURNO_SMTP_URL): smtp://[user:password@]host[:port]
// (port 25 by default; STARTTLS whenever the server offers it) or smtps://…[:465] (TLS from the first
// byte). With a user it signs in with AUTH PLAIN, which net/smtp sends only over TLS or to localhost.
type EmailSender struct {
	host     string // host:port
	implicit bool   // smtps
	auth     *url.Userinfo
	from     *mail.Address
	// TLS is the TLS configuration for STARTTLS and smtps; nil: the system's roots, the URL's host.
	TLS *tls.Config
}

// NewEmailSender returns the sender of TURNO_SMTP_URL rawURL, writing from the address from
// (TURNO_SMTP_FROM, e.g. "Comune di Demo <turno@comune.example.it>").
func NewEmailSender(rawURL, from string) (*EmailSender, error) {
	u, err := ParseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("notify: the sender address %q is not an e-mail address", from)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"smtp": "25", "smtps": "465"}[u.Scheme]
	}
	return &EmailSender{host: net.JoinHostPort(u.Hostname(), port), implicit: u.Scheme == "smtps", auth: u.User, from: addr}, nil
}

// ParseSMTPURL checks an SMTP server URL: smtp:// or smtps://, a host, an optional port, user and
// password, nothing else.
func ParseSMTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("not an SMTP URL like smtp://user:password@mail.example.org:587 or smtps://…")
	}
	return u, nil
}

func (e *EmailSender) tlsConfig() *tls.Config {
	if e.TLS != nil {
		return e.TLS
	}
	host, _, _ := net.SplitHostPort(e.host)
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
}

// Send writes m to the SMTP server. A 5xx answer (mailbox unknown, message refused) is permanent; a 4xx
// answer or a broken connection is retried.
func (e *EmailSender) Send(ctx context.Context, id int64, m Message) error {
	to, err := mail.ParseAddress(m.Recipient)
	if err != nil || strings.ContainsAny(m.Recipient, "\r\n") {
		return Permanent(errors.New("the recipient is not an e-mail address"))
	}
	msg, err := e.compose(id, to, m, time.Now())
	if err != nil {
		return Permanent(err)
	}
	err = e.deliver(ctx, to.Address, msg)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent(fmt.Errorf("SMTP server answered %d %s", te.Code, te.Msg))
	}
	return err
}

// deliver runs one SMTP session: connect (TLS for smtps), EHLO, STARTTLS when offered, AUTH, MAIL, RCPT,
// DATA, QUIT, all within ctx's deadline.
func (e *EmailSender) deliver(ctx context.Context, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.host)
	if err != nil {
		return fmt.Errorf("SMTP server: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	host, _, _ := net.SplitHostPort(e.host)
	if e.implicit {
		tc := tls.Client(conn, e.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("SMTP server TLS: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("SMTP server: %w", err)
	}
	defer c.Close()
	if err := c.Hello(e.heloName()); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !e.implicit {
		if err := c.StartTLS(e.tlsConfig()); err != nil {
			return fmt.Errorf("SMTP server STARTTLS: %w", err)
		}
	}
	if e.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(errors.New("the SMTP server offers no AUTH, but TURNO_SMTP_URL has a user"))
		}
		pass, _ := e.auth.Password()
		if err := c.Auth(smtp.PlainAuth("", e.auth.Username(), pass, host)); err != nil {
			return err
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// heloName is the name this server gives in EHLO: the domain of its sender address.
func (e *EmailSender) heloName() string {
	if _, domain, ok := strings.Cut(e.from.Address, "@"); ok && domain != "" {
		return domain
	}
	return "localhost"
}

// compose writes the message: headers, then a text/plain UTF-8 body (quoted-printable), and the
// attachment, when there is one, as a second part of a multipart/mixed message (base64).
func (e *EmailSender) compose(id int64, to *mail.Address, m Message, now time.Time) ([]byte, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("the subject has a line break")
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", e.from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	// The same id at every attempt, so a retry of a message that did arrive is recognised as the same.
	sum := sha256.Sum256([]byte(m.DedupeKey))
	header("Message-ID", fmt.Sprintf("<turno.%d.%s@%s>", id, hex.EncodeToString(sum[:6]), e.heloName()))
	header("MIME-Version", "1.0")
	text := func(w *bytes.Buffer) error {
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(m.Body)); err != nil {
			return err
		}
		return qp.Close()
	}
	if m.Attachment == nil {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := text(&b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	// Folded: the boundary alone is 60 characters, and lines should stay within 78.
	header("Content-Type", "multipart/mixed;\r\n boundary="+mw.Boundary()) // hexadecimal: no quoting
	b.WriteString("\r\n")
	pw, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	var body bytes.Buffer
	if err := text(&body); err != nil {
		return nil, err
	}
	if _, err := pw.Write(body.Bytes()); err != nil {
		return nil, err
	}
	a := m.Attachment
	typ, params, err := mime.ParseMediaType(a.Type)
	if err != nil {
		typ, params = "application/octet-stream", map[string]string{}
	}
	name := strings.Map(func(r rune) rune {
		if r < ' ' || strings.ContainsRune(`"\/`, r) {
			return '_'
		}
		return r
	}, a.Name)
	if name == "" {
		name = "attachment"
	}
	params["name"] = name
	pw, err = mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType(typ, params)},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString(a.Data)
	for len(enc) > 76 {
		if _, err := pw.Write([]byte(enc[:76] + "\r\n")); err != nil {
			return nil, err
		}
		enc = enc[76:]
	}
	if _, err := pw.Write([]byte(enc + "\r\n")); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
