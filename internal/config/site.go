package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
)

// baseURL checks TURNO_BASE_URL: an absolute http or https URL with a host and nothing after the path
// (no query, no fragment). It returns it without a trailing slash.
func baseURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("%q is not a base URL like https://turno.example.org", v)
	}
	return strings.TrimRight(v, "/"), nil
}

// origins parses a comma-separated list of web origins (scheme://host[:port], http or https, nothing
// after), as a Content-Security-Policy source list takes them.
func origins(v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, " ;'\"") {
			return nil, fmt.Errorf("%q is not an origin like https://www.comune.example.it", s)
		}
		out = append(out, u.Scheme+"://"+u.Host)
	}
	return out, nil
}

// BaseURLWarning returns what to warn about the public base URL at start-up, or "" when there is
// nothing: outside the demo, TURNO_BASE_URL unset (QR codes, printed tickets and calendar feeds would
// point to http://localhost, which no phone or calendar reaches) or set to a plain-http address of
// another machine (no HSTS, no Secure cookies, and sign-in passwords cross the network in clear).
func (c *Config) BaseURLWarning() string {
	if c.Demo {
		return ""
	}
	if c.BaseURL == "" {
		return "TURNO_BASE_URL is not set: QR codes, printed tickets and calendar feeds point to http://localhost, " +
			"which phones and calendars cannot reach; set it to the public address, e.g. https://turno.example.org"
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Scheme == "https" {
		return ""
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return ""
	}
	return "TURNO_BASE_URL is plain http: browsers get no HSTS and no Secure cookies, and passwords cross the " +
		"network in clear; serve Turno over https behind a TLS proxy and set TURNO_BASE_URL to its https address"
}

// serverURL checks the URL of a server Turno sends to (SMTP, SMS gateway): one of schemes, a host, no
// query or fragment. Empty stays empty.
func serverURL(v string, schemes ...string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	ok := err == nil && u.Hostname() != "" && u.RawQuery == "" && u.Fragment == "" && u.Opaque == ""
	if ok && schemes[0] == "smtp" {
		ok = u.Path == "" || u.Path == "/"
	}
	if !ok || (u.Scheme != schemes[0] && u.Scheme != schemes[1]) {
		return "", fmt.Errorf("not a %s:// or %s:// URL with a host", schemes[0], schemes[1])
	}
	return v, nil
}

// address checks an e-mail address, with or without a display name. Empty stays empty.
func address(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if _, err := mail.ParseAddress(v); err != nil {
		return "", fmt.Errorf("not an e-mail address like Comune <turno@comune.example.it>")
	}
	return v, nil
}
