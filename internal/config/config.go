// Package config reads Turno's settings from environment variables, with command-line flags overriding the
// common ones. Options is the one table of every setting; the README lists the same.
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is Turno's configuration.
type Config struct {
	DatabaseURL     string        // empty: run a private PostgreSQL cluster under DataDir
	Addr            string        // HTTP listen address
	DataDir         string        // private cluster and other local state
	BaseURL         string        // public URL, printed and put in QR codes; derived from Addr when empty
	Demo            bool          // seed the demo office at start
	IssuePerMinute  int           // tickets one kiosk may request per minute
	ShutdownTimeout time.Duration // grace period for in-flight requests at shutdown
	LogLevel        string        // debug, info, warn, error
	TrustedProxies  []string      // CIDRs of reverse proxies whose X-Forwarded-For is believed
	FrameAncestors  []string      // origins that may show the hall display in a frame (none by default)

	// Limits: the HTTP server's timeouts and header size, the database pool, the roster solves. A zero
	// timeout means none; a zero DBMaxConns or MaxSolves is sized from the machine.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	DBMaxConns        int
	DBMinConns        int
	DBMaxConnLifetime time.Duration
	DBMaxConnIdleTime time.Duration
	MaxSolves         int

	// Per client address: concurrent WebSocket streams (by the client's address, through trusted proxies)
	// and concurrent connections (by the TCP peer, trusted proxies exempt). Zero: no cap.
	MaxStreamsPerAddress int
	MaxConnsPerAddress   int

	// ReportsDatabaseURL is a read replica the reports read from; empty: they read DatabaseURL.
	ReportsDatabaseURL string

	// Prometheus metrics: served on their own listen address, and/or on the main one to a caller with
	// the bearer token; neither set, they are not served.
	MetricsAddr  string
	MetricsToken string

	// Notifications: the SMTP server and sender address of e-mail, the HTTP gateway and token of SMS
	// (docs/notifications.md). A channel without its setting sends nothing.
	SMTPURL  string
	SMTPFrom string
	SMSURL   string
	SMSToken string
}

// Option describes one setting.
type Option struct {
	Env     string
	Flag    string // empty: environment only
	Default string
	Help    string
	set     func(*Config, string) error
}

// Options is every setting, in the order the README lists them.
var Options = []Option{
	{"DATABASE_URL", "database-url", "", "PostgreSQL connection URL; unset: a private cluster under TURNO_DATA_DIR",
		func(c *Config, v string) error { c.DatabaseURL = v; return nil }},
	{"TURNO_REPORTS_DATABASE_URL", "reports-database-url", "", "PostgreSQL connection URL of a read replica the reports (statistics, accounting, network) read from; unset: they read the primary",
		func(c *Config, v string) error { c.ReportsDatabaseURL = strings.TrimSpace(v); return nil }},
	{"TURNO_ADDR", "addr", ":8080", "HTTP listen address",
		func(c *Config, v string) error { c.Addr = v; return nil }},
	{"TURNO_DATA_DIR", "data-dir", "./data", "directory for the private PostgreSQL cluster",
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"TURNO_BASE_URL", "base-url", "", "public base URL used in printed links and QR codes (default http://localhost:PORT)",
		func(c *Config, v string) (err error) { c.BaseURL, err = baseURL(v); return err }},
	{"TURNO_DEMO", "demo", "false", "seed the demo office at start",
		func(c *Config, v string) (err error) { c.Demo, err = strconv.ParseBool(v); return err }},
	{"TURNO_ISSUE_PER_MINUTE", "", "30", "tickets one kiosk may request per minute",
		func(c *Config, v string) (err error) { c.IssuePerMinute, err = strconv.Atoi(v); return err }},
	{"TURNO_SHUTDOWN_TIMEOUT", "", "15s", "grace period for in-flight requests at shutdown",
		func(c *Config, v string) (err error) { c.ShutdownTimeout, err = time.ParseDuration(v); return err }},
	{"TURNO_LOG_LEVEL", "log-level", "info", "log level: debug, info, warn or error",
		func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"TURNO_TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated CIDRs of the reverse proxies in front of Turno, whose X-Forwarded-For gives the client's address (e.g. 127.0.0.1/32)",
		func(c *Config, v string) (err error) { c.TrustedProxies, err = cidrs(v); return err }},
	{"TURNO_FRAME_ANCESTORS", "", "", "comma-separated origins that may show the hall display (/display/…) in a frame, e.g. https://www.comune.example.it; no other page may be framed",
		func(c *Config, v string) (err error) { c.FrameAncestors, err = origins(v); return err }},
	{"TURNO_HTTP_READ_HEADER_TIMEOUT", "", "10s", "time a client has to send a request's headers; a slow (slowloris) client is cut off after it",
		func(c *Config, v string) (err error) { c.ReadHeaderTimeout, err = duration(v); return err }},
	{"TURNO_HTTP_READ_TIMEOUT", "", "30s", "time a client has to send a whole request, body included",
		func(c *Config, v string) (err error) { c.ReadTimeout, err = duration(v); return err }},
	{"TURNO_HTTP_WRITE_TIMEOUT", "", "60s", "time to answer a request once its headers are read; WebSocket streams are not bound by it",
		func(c *Config, v string) (err error) { c.WriteTimeout, err = duration(v); return err }},
	{"TURNO_HTTP_IDLE_TIMEOUT", "", "90s", "how long an idle keep-alive connection stays open; keep it above the proxy's upstream keep-alive (nginx 60s)",
		func(c *Config, v string) (err error) { c.IdleTimeout, err = duration(v); return err }},
	{"TURNO_HTTP_MAX_HEADER_BYTES", "", "32768", "largest request header accepted (431 above it)",
		func(c *Config, v string) (err error) { c.MaxHeaderBytes, err = count(v, 1024); return err }},
	{"TURNO_DB_MAX_CONNS", "", "0", "database connections this node opens at most; 0: 2 per CPU, at least 4 and at most 32 (nodes × this must stay below the server's max_connections)",
		func(c *Config, v string) (err error) { c.DBMaxConns, err = count(v, 0); return err }},
	{"TURNO_DB_MIN_CONNS", "", "2", "database connections this node keeps open when idle",
		func(c *Config, v string) (err error) { c.DBMinConns, err = count(v, 0); return err }},
	{"TURNO_DB_MAX_CONN_LIFETIME", "", "1h", "age after which a database connection is replaced",
		func(c *Config, v string) (err error) { c.DBMaxConnLifetime, err = duration(v); return err }},
	{"TURNO_DB_MAX_CONN_IDLE_TIME", "", "5m", "idle time after which a database connection beyond TURNO_DB_MIN_CONNS is closed",
		func(c *Config, v string) (err error) { c.DBMaxConnIdleTime, err = duration(v); return err }},
	{"TURNO_MAX_SOLVES", "", "0", "roster solves this node runs at once, each on two threads (more wait in the queue); 0: one per 4 CPUs, at least 1",
		func(c *Config, v string) (err error) { c.MaxSolves, err = count(v, 0); return err }},
	{"TURNO_MAX_STREAMS_PER_ADDRESS", "", "100", "live WebSocket streams (screens, desks, phones) one client address may hold on a node, counted behind trusted proxies by the forwarded address; more get 429; 0: no cap",
		func(c *Config, v string) (err error) { c.MaxStreamsPerAddress, err = count(v, 0); return err }},
	{"TURNO_MAX_CONNS_PER_ADDRESS", "", "256", "concurrent TCP connections one peer address may hold on a node; more are refused at accept; trusted proxies are exempt (cap per client on the proxy); 0: no cap",
		func(c *Config, v string) (err error) { c.MaxConnsPerAddress, err = count(v, 0); return err }},
	{"TURNO_METRICS_ADDR", "metrics-addr", "", "listen address of the Prometheus /metrics endpoint alone (e.g. 127.0.0.1:9090), unauthenticated: keep it off public networks; empty: none",
		func(c *Config, v string) error { c.MetricsAddr = strings.TrimSpace(v); return nil }},
	{"TURNO_METRICS_TOKEN", "", "", "bearer token that opens /metrics on the main listen address (Authorization: Bearer …); empty: /metrics is not served there",
		func(c *Config, v string) error {
			if v != "" && len(v) < 16 {
				return fmt.Errorf("the metrics token must have at least 16 characters")
			}
			c.MetricsToken = v
			return nil
		}},
	{"TURNO_SMTP_URL", "", "", "SMTP server of the notification e-mails: smtp://user:password@host:port (STARTTLS when offered) or smtps://… (TLS); unset: no e-mail is sent",
		func(c *Config, v string) (err error) { c.SMTPURL, err = serverURL(v, "smtp", "smtps"); return err }},
	{"TURNO_SMTP_FROM", "", "", "sender of the notification e-mails, e.g. \"Comune di Demo <turno@comune.example.it>\"; needed with TURNO_SMTP_URL",
		func(c *Config, v string) (err error) { c.SMTPFrom, err = address(v); return err }},
	{"TURNO_SMS_URL", "", "", "URL of the SMS gateway that receives POST {\"to\",\"text\",\"id\"} (docs/notifications.md); unset: no SMS is sent",
		func(c *Config, v string) (err error) { c.SMSURL, err = serverURL(v, "http", "https"); return err }},
	{"TURNO_SMS_TOKEN", "", "", "bearer token sent to the SMS gateway (Authorization: Bearer …); empty: none",
		func(c *Config, v string) error { c.SMSToken = strings.TrimSpace(v); return nil }},
}

// Load reads defaults, then the environment, then flags from args (for those options that have one). The
// options' flags are added to fs, which may carry the command's own flags too.
func Load(fs *flag.FlagSet, args []string) (*Config, []string, error) {
	c := &Config{}
	flagValues := map[string]func() string{}
	for _, o := range Options {
		v := o.Default
		if env, ok := os.LookupEnv(o.Env); ok {
			v = env
		}
		if err := o.set(c, v); err != nil {
			return nil, nil, fmt.Errorf("config: %s=%q: %w", o.Env, v, err)
		}
		switch {
		case o.Flag == "":
		case o.Default == "true" || o.Default == "false":
			def, _ := strconv.ParseBool(v)
			b := fs.Bool(o.Flag, def, o.Help+" ("+o.Env+")")
			flagValues[o.Env] = func() string { return strconv.FormatBool(*b) }
		default:
			p := fs.String(o.Flag, v, o.Help+" ("+o.Env+")")
			flagValues[o.Env] = func() string { return *p }
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range Options {
		if o.Flag != "" && set[o.Flag] {
			if err := o.set(c, flagValues[o.Env]()); err != nil {
				return nil, nil, fmt.Errorf("config: --%s=%q: %w", o.Flag, flagValues[o.Env](), err)
			}
		}
	}
	return c, fs.Args(), nil
}

// cidrs parses a comma-separated list of CIDRs (an address alone means just that address).
func cidrs(v string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", s)
			}
			s = netip.PrefixFrom(a, a.BitLen()).String()
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			return nil, fmt.Errorf("%q is not a CIDR like 10.0.0.0/8", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// duration parses a non-negative duration such as 30s or 5m.
func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative", v)
	}
	return d, nil
}

// count parses a whole number of at least least.
func count(v string, least int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, err
	}
	if n < least {
		return 0, fmt.Errorf("%d is below %d", n, least)
	}
	return n, nil
}
