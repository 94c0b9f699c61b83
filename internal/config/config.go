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
	{"TURNO_ADDR", "addr", ":8080", "HTTP listen address",
		func(c *Config, v string) error { c.Addr = v; return nil }},
	{"TURNO_DATA_DIR", "data-dir", "./data", "directory for the private PostgreSQL cluster",
		func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"TURNO_BASE_URL", "base-url", "", "public base URL used in printed links and QR codes (default http://localhost:PORT)",
		func(c *Config, v string) error { c.BaseURL = v; return nil }},
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
