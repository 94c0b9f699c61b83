package main

// Checks of the deployment files under docs/deploy: the compose file (by the container engine's own
// validation where one is installed, and by its structure always), the Containerfile (its text always;
// built with podman where podman can build), nginx.conf (its directives always; `nginx -t` where nginx is
// installed) and the systemd units (their settings always; `systemd-analyze verify` where available).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/buildinfo"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"math/big"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"turno/internal/config"
	"turno/internal/web"
)

// deployRoot is the repository's root, seen from this package's directory.
const deployRoot = "../.."

// deployDir is docs/deploy, seen from this package's directory.
var deployDir = filepath.Join(deployRoot, "docs", "deploy")

// deployHeartbeat is the live streams' ping interval (displays.Options.PingInterval's default, which
// the server keeps); a node drops a client silent for two of them.
const deployHeartbeat = 30 * time.Second

func deployRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// deployCompose is the part of compose.yaml the checks look at.
type deployCompose struct {
	Services map[string]deployComposeService `yaml:"services"`
	Networks map[string]struct {
		Internal bool `yaml:"internal"`
		IPAM     struct {
			Config []struct {
				Subnet string `yaml:"subnet"`
			} `yaml:"config"`
		} `yaml:"ipam"`
	} `yaml:"networks"`
}

type deployComposeService struct {
	Image string `yaml:"image"`
	Build struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	Restart  string   `yaml:"restart"`
	Volumes  []string `yaml:"volumes"`
	Networks any      `yaml:"networks"` // a list of names, or a map of name to settings
}

// networks returns the service's networks with its fixed IPv4 address on each (empty when none).
func (s deployComposeService) networks() map[string]string {
	out := map[string]string{}
	switch n := s.Networks.(type) {
	case []any:
		for _, name := range n {
			out[fmt.Sprint(name)] = ""
		}
	case map[string]any:
		for name, v := range n {
			addr := ""
			if m, ok := v.(map[string]any); ok && m["ipv4_address"] != nil {
				addr = fmt.Sprint(m["ipv4_address"])
			}
			out[name] = addr
		}
	}
	return out
}

// deployInterpolate replaces compose's ${VAR}, ${VAR:-default} and ${VAR:?message} by env's values, or
// the default when VAR is not in env.
func deployInterpolate(s string, env map[string]string) string {
	re := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		sub := re.FindStringSubmatch(m)
		if v, ok := env[sub[1]]; ok {
			return v
		}
		if sub[2] == "-" {
			return sub[3]
		}
		return ""
	})
}

// deployOptions is the set of environment variables Turno reads.
func deployOptions() map[string]bool {
	known := map[string]bool{}
	for _, o := range config.Options {
		known[o.Env] = true
	}
	return known
}

// TestDeployComposeStructure checks compose.yaml's shape: PostgreSQL with a health check, one migration
// the nodes wait for, two nodes on the database and behind nginx, which they trust, only settings Turno
// knows, and an nginx.conf whose upstream is exactly those nodes.
func TestDeployComposeStructure(t *testing.T) {
	var c deployCompose
	if err := yaml.Unmarshal([]byte(deployRead(t, "compose.yaml")), &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"postgres", "migrate", "node1", "node2", "nginx"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("compose.yaml has no service %q", name)
		}
	}
	pg := c.Services["postgres"]
	if pg.Healthcheck == nil || !slices.Contains(pg.Healthcheck.Test, "pg_isready") {
		t.Errorf("postgres needs a pg_isready health check, has %+v", pg.Healthcheck)
	}
	if !slices.ContainsFunc(pg.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/var/lib/postgresql/data") }) {
		t.Errorf("postgres keeps its data in no volume: %v", pg.Volumes)
	}

	mig := c.Services["migrate"]
	if !slices.Equal(mig.Command, []string{"migrate"}) || mig.Restart != "no" {
		t.Errorf("migrate must run `turno migrate` once (command %v, restart %q)", mig.Command, mig.Restart)
	}
	if mig.DependsOn["postgres"].Condition != "service_healthy" {
		t.Errorf("migrate must wait for a healthy postgres, depends on %+v", mig.DependsOn)
	}

	nginx := c.Services["nginx"]
	proxyAddr, err := netip.ParseAddr(nginx.networks()["front"])
	if err != nil {
		t.Fatalf("nginx needs a fixed address on the front network (the nodes trust it): %v", err)
	}
	if !slices.Contains(nginx.Volumes, "./nginx.conf:/etc/nginx/nginx.conf:ro") {
		t.Errorf("nginx does not mount nginx.conf: %v", nginx.Volumes)
	}
	if !c.Networks["back"].Internal {
		t.Error("the database's network must be internal")
	}
	if nets := pg.networks(); len(nets) != 1 || !slices.Contains(slices.Collect(maps.Keys(nets)), "back") {
		t.Errorf("postgres must be on the back network only: %v", nets)
	}

	known := deployOptions()
	env := map[string]string{"TURNO_DB_PASSWORD": "secret"}
	var nodes []string
	for name, s := range c.Services {
		if s.Image != "localhost/turno:latest" {
			continue
		}
		if s.Build.Context == "" || s.Build.Dockerfile == "" {
			t.Errorf("%s does not say how to build its image", name)
		} else if _, err := os.Stat(filepath.Join(deployDir, s.Build.Context, s.Build.Dockerfile)); err != nil {
			t.Errorf("%s builds from a missing Containerfile: %v", name, err)
		}
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which Turno does not read (internal/config.Options)", name, k)
			}
		}
		u, err := url.Parse(deployInterpolate(s.Environment["DATABASE_URL"], env))
		if err != nil || u.Hostname() != "postgres" || u.User.Username() != pg.Environment["POSTGRES_USER"] ||
			strings.TrimPrefix(u.Path, "/") != pg.Environment["POSTGRES_DB"] {
			t.Errorf("%s's DATABASE_URL is not the postgres service's database: %v %v", name, u, err)
		}
		resolved := map[string]string{}
		for k, v := range s.Environment {
			resolved[k] = deployInterpolate(v, env)
		}
		deployLoad(t, name, resolved)
		if name == "migrate" {
			continue
		}
		nodes = append(nodes, name)
		if !slices.Equal(s.Command, []string{"serve"}) {
			t.Errorf("%s runs %v, not serve", name, s.Command)
		}
		if s.DependsOn["migrate"].Condition != "service_completed_successfully" {
			t.Errorf("%s must wait for the migration to complete, depends on %+v", name, s.DependsOn)
		}
		if s.Environment["TURNO_METRICS_ADDR"] == "" {
			t.Errorf("%s serves no metrics (TURNO_METRICS_ADDR)", name)
		}
		trusted := false
		for _, p := range strings.Split(s.Environment["TURNO_TRUSTED_PROXIES"], ",") {
			if prefix, err := netip.ParsePrefix(strings.TrimSpace(p)); err == nil && prefix.Contains(proxyAddr) {
				trusted = true
			}
		}
		if !trusted {
			t.Errorf("%s does not trust nginx (%s): TURNO_TRUSTED_PROXIES=%q", name, proxyAddr, s.Environment["TURNO_TRUSTED_PROXIES"])
		}
		if _, ok := s.networks()["front"]; !ok {
			t.Errorf("%s is not on nginx's network", name)
		}
	}
	slices.Sort(nodes)
	if !slices.Equal(nodes, []string{"node1", "node2"}) {
		t.Errorf("the turno nodes are %v, want node1 and node2", nodes)
	}

	// nginx forwards to exactly these nodes, at the port they listen on.
	port := "8080"
	if addr := c.Services["node1"].Environment["TURNO_ADDR"]; addr != "" {
		port = addr[strings.LastIndexByte(addr, ':')+1:]
	}
	http := deployNginx(t).one(t, "http")
	var servers []string
	for _, s := range http.one(t, "upstream", "turno").all("server") {
		servers = append(servers, s.args[0])
	}
	slices.Sort(servers)
	if want := []string{"node1:" + port, "node2:" + port}; !slices.Equal(servers, want) {
		t.Errorf("nginx's upstream is %v, want %v", servers, want)
	}
}

// TestDeployComposeEngine validates compose.yaml with the container engine's own compose command, and
// checks that the same command refuses a broken copy (so that a pass means something).
func TestDeployComposeEngine(t *testing.T) {
	engines := [][]string{{"docker", "compose"}, {"podman", "compose"}, {"docker-compose"}, {"podman-compose"}}
	var engine []string
	for _, e := range engines {
		if _, err := exec.LookPath(e[0]); err != nil {
			continue
		}
		// Both: a docker without its compose plugin answers `docker compose config --help` with its own help.
		if exec.Command(e[0], append(e[1:], "version")...).Run() == nil &&
			exec.Command(e[0], append(e[1:], "config", "--help")...).Run() == nil {
			engine = e
			break
		}
	}
	if engine == nil {
		t.Skip("no compose engine with a config command (docker compose, podman compose, docker-compose, podman-compose); TestDeployComposeStructure checks the file's structure")
	}
	validate := func(dir string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, engine[0], append(engine[1:], "-f", "compose.yaml", "config", "-q")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TURNO_DB_PASSWORD=deploy-test")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := validate(deployDir); err != nil {
		t.Fatalf("%s config: %v\n%s", strings.Join(engine, " "), err, out)
	}
	t.Logf("compose.yaml validated by %s", strings.Join(engine, " "))

	broken := strings.Replace(deployRead(t, "compose.yaml"), "\n  node1:\n", "\n  node1:\n    no_such_setting: 1\n", 1)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(dir); err == nil {
		t.Fatalf("%s config accepts an unknown service setting, so it validates nothing:\n%s", strings.Join(engine, " "), out)
	}
}

// deployNginxDirective is one directive of an nginx configuration: its name, its arguments (quotes
// removed) and, for a block, the directives in it.
type deployNginxDirective struct {
	name  string
	args  []string
	block []*deployNginxDirective
}

// all returns the directives of d's block named name whose arguments start with args.
func (d *deployNginxDirective) all(name string, args ...string) []*deployNginxDirective {
	var out []*deployNginxDirective
	for _, c := range d.block {
		if c.name == name && len(c.args) >= len(args) && slices.Equal(c.args[:len(args)], args) {
			out = append(out, c)
		}
	}
	return out
}

// one returns the single directive of d's block named name whose arguments start with args.
func (d *deployNginxDirective) one(t *testing.T, name string, args ...string) *deployNginxDirective {
	t.Helper()
	found := d.all(name, args...)
	if len(found) != 1 {
		t.Fatalf("nginx.conf: %d directives %s %v in %s %v, want one", len(found), name, args, d.name, d.args)
	}
	return found[0]
}

// value returns the arguments of the single directive name in d's block, joined by a space ("" when
// there is none).
func (d *deployNginxDirective) value(name string, args ...string) string {
	found := d.all(name, args...)
	if len(found) != 1 {
		return ""
	}
	return strings.Join(found[0].args[len(args):], " ")
}

// deployNginx parses docs/deploy/nginx.conf into a root directive holding its top level.
func deployNginx(t *testing.T) *deployNginxDirective {
	t.Helper()
	root, err := deployParseNginx(deployRead(t, "nginx.conf"))
	if err != nil {
		t.Fatalf("nginx.conf: %v", err)
	}
	return root
}

// deployParseNginx reads an nginx configuration: words, quoted strings, `;`, blocks in braces and
// comments.
func deployParseNginx(src string) (*deployNginxDirective, error) {
	var tokens []string
	for i := 0; i < len(src); {
		switch c := src[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ';' || c == '{' || c == '}':
			tokens = append(tokens, string(c))
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, errors.New("unterminated quoted string")
			}
			tokens = append(tokens, "\x00"+src[i+1:j]) // marked as a word even if it reads `;` or `{`
			i = j + 1
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n;{}", rune(src[j])) {
				if src[j] == '$' && j+1 < len(src) && src[j+1] == '{' { // ${var} inside a word
					for j < len(src) && src[j] != '}' {
						j++
					}
				}
				j++
			}
			tokens = append(tokens, "\x00"+src[i:j])
			i = j
		}
	}
	root := &deployNginxDirective{name: "(main)"}
	rest, err := deployParseNginxBlock(root, tokens)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, errors.New("unbalanced }")
	}
	return root, nil
}

// deployParseNginxBlock fills parent with the directives of tokens up to the closing brace, and returns
// what follows it.
func deployParseNginxBlock(parent *deployNginxDirective, tokens []string) ([]string, error) {
	var words []string
	for len(tokens) > 0 {
		tok := tokens[0]
		tokens = tokens[1:]
		switch tok {
		case ";", "{":
			if len(words) == 0 {
				return nil, fmt.Errorf("%q without a directive", tok)
			}
			d := &deployNginxDirective{name: words[0], args: words[1:]}
			parent.block = append(parent.block, d)
			words = nil
			if tok == "{" {
				var err error
				if tokens, err = deployParseNginxBlock(d, tokens); err != nil {
					return nil, err
				}
				if len(tokens) == 0 || tokens[0] != "}" {
					return nil, fmt.Errorf("block %s %v is not closed", d.name, d.args)
				}
				tokens = tokens[1:]
			}
		case "}":
			if len(words) > 0 {
				return nil, fmt.Errorf("directive %v has no ;", words)
			}
			return append([]string{"}"}, tokens...), nil
		default:
			words = append(words, tok[1:])
		}
	}
	if len(words) > 0 {
		return nil, fmt.Errorf("directive %v has no ;", words)
	}
	return nil, nil
}

// deployNginxSize reads an nginx size such as 512k or 2m.
func deployNginxSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(strings.ToLower(s), "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(strings.ToLower(s), "m"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(strings.ToLower(s), "g"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// TestDeployNginxConf checks what nginx.conf must do for Turno: TLS 1.2/1.3 only, plain HTTP redirected,
// WebSocket upgrades on /ws/ with a read timeout above the heartbeat and no buffering, the client's
// address and scheme forwarded everywhere, bodies as large as Turno takes, and an access log with none
// of the secrets Turno keeps out of its own.
func TestDeployNginxConf(t *testing.T) {
	http := deployNginx(t).one(t, "http")
	up := http.one(t, "upstream", "turno")
	if len(up.all("least_conn"))+len(up.all("ip_hash")) != 1 {
		t.Error("the upstream needs a balancing method chosen for long-lived streams (least_conn or ip_hash)")
	}

	var plain, tls *deployNginxDirective
	for _, s := range http.all("server") {
		switch listen := s.value("listen"); {
		case listen == "80":
			plain = s
		case strings.HasPrefix(listen, "443") && strings.Contains(listen, "ssl"):
			tls = s
		}
	}
	if plain == nil || tls == nil {
		t.Fatal("nginx.conf needs a server on port 80 and one with ssl on 443")
	}
	if r := plain.one(t, "location", "/").value("return"); !strings.HasPrefix(r, "301 https://") {
		t.Errorf("plain HTTP is not redirected to https: return %q", r)
	}
	protocols := strings.Fields(tls.value("ssl_protocols"))
	if len(protocols) == 0 || slices.ContainsFunc(protocols, func(p string) bool { return p != "TLSv1.2" && p != "TLSv1.3" }) {
		t.Errorf("ssl_protocols %v: want TLSv1.2 and/or TLSv1.3 only", protocols)
	}
	if tls.value("ssl_certificate") == "" || tls.value("ssl_certificate_key") == "" {
		t.Error("the TLS server has no certificate")
	}
	if size, err := deployNginxSize(tls.value("client_max_body_size")); err != nil || size < web.MaxBody {
		t.Errorf("client_max_body_size %q is below the largest body Turno takes (%d bytes)", tls.value("client_max_body_size"), web.MaxBody)
	}

	forwarded := map[string]string{"Host": "$host", "X-Forwarded-For": "$proxy_add_x_forwarded_for",
		"X-Forwarded-Proto": "$scheme", "X-Real-IP": "$remote_addr"}
	for _, path := range []string{"/ws/", "/"} {
		loc := tls.one(t, "location", path)
		if loc.value("proxy_pass") != "http://turno" || loc.value("proxy_http_version") != "1.1" {
			t.Errorf("location %s: proxy_pass %q, proxy_http_version %q", path, loc.value("proxy_pass"), loc.value("proxy_http_version"))
		}
		for h, v := range forwarded {
			if got := loc.value("proxy_set_header", h); got != v {
				t.Errorf("location %s sets %s to %q, want %s", path, h, got, v)
			}
		}
	}
	ws := tls.one(t, "location", "/ws/")
	if ws.value("proxy_set_header", "Upgrade") != "$http_upgrade" || ws.value("proxy_set_header", "Connection") != "$connection_upgrade" {
		t.Error("/ws/ does not pass the WebSocket upgrade (Upgrade, Connection)")
	}
	if m := http.one(t, "map", "$http_upgrade", "$connection_upgrade"); m.value("default") != "upgrade" {
		t.Error("$connection_upgrade must default to upgrade")
	}
	if ws.value("proxy_buffering") != "off" {
		t.Error("/ws/ must not buffer frames (proxy_buffering off)")
	}
	// The node drops a client silent for two heartbeats; nginx must not drop the stream first.
	if d, err := time.ParseDuration(ws.value("proxy_read_timeout")); err != nil || d <= 2*deployHeartbeat {
		t.Errorf("/ws/ proxy_read_timeout %q must be above two heartbeats (%v)", ws.value("proxy_read_timeout"), 2*deployHeartbeat)
	}

	// The access log: its format leaves the query string out, and its path is one that every secret Turno
	// redacts in its own log is redacted from too.
	format := http.one(t, "log_format", "turno")
	secretVars := regexp.MustCompile(`\$(request|request_uri|args|query_string|uri|http_referer|arg_[a-z_]+)\b`)
	if v := secretVars.FindAllString(strings.Join(format.args[1:], " "), -1); v != nil {
		t.Errorf("the access log format carries %v, which may hold a ticket code or device token", v)
	}
	if http.value("access_log") != "/var/log/nginx/access.log turno" {
		t.Errorf("access_log %q does not use the turno format", http.value("access_log"))
	}
	redact := deployNginxLogPath(t, http, "$turno_log_path")
	for _, p := range []string{"/t/AB12CD34", "/t/AB12CD34.pdf", "/api/v1/tickets/AB12CD34/cancel", "/ws/tickets/AB12CD34/events",
		"/api/v1/bookings/BK12CD34", "/ical/staff/FEED12CD34.ics", "/b/BK12CD34", "/T/AB12CD34",
		"/display/demo", "/api/v1/offices/demo/queue", "/ws/offices/demo/events", "/kiosk/demo"} {
		got := redact(p)
		if turno := web.RedactPath(p); turno != p && (got == p || strings.Contains(got, "12CD34")) {
			t.Errorf("nginx logs %s as %s, Turno as %s", p, got, turno)
		}
		if got != p && strings.Contains(got, "12CD34") {
			t.Errorf("nginx logs %s as %s", p, got)
		}
	}
	if got := redact("/b/BK12CD34"); got == "/b/BK12CD34" {
		t.Error("nginx logs a booking's code (/b/…)")
	}
}

// deployNginxLogPath returns what the map of nginx.conf that sets variable does to a path, with Go's
// regexp for nginx's PCRE (the syntax the map uses is common to both).
func deployNginxLogPath(t *testing.T, http *deployNginxDirective, variable string) func(string) string {
	t.Helper()
	var m *deployNginxDirective
	for _, d := range http.all("map") {
		if len(d.args) == 2 && d.args[1] == variable {
			m = d
		}
	}
	if m == nil || m.args[0] != "$uri" {
		t.Fatalf("nginx.conf has no map from $uri to %s", variable)
	}
	type rule struct {
		re   *regexp.Regexp
		repl string
	}
	var rules []rule
	for _, d := range m.block {
		if d.name == "default" {
			continue
		}
		pattern, ok := strings.CutPrefix(d.name, "~*")
		if ok {
			pattern = "(?i)" + pattern
		} else if pattern, ok = strings.CutPrefix(d.name, "~"); !ok {
			t.Fatalf("map %s: only regular expressions expected, found %q", variable, d.name)
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			t.Fatalf("map %s: %v", variable, err)
		}
		rules = append(rules, rule{re, strings.Join(d.args, " ")})
	}
	return func(p string) string {
		for _, r := range rules {
			if r.re.MatchString(p) {
				return r.re.ReplaceAllString(p, r.repl)
			}
		}
		return p // the default, $uri
	}
}

// TestDeployNginxT has nginx check nginx.conf (`nginx -t`), with the places that belong to the compose
// setup replaced by local ones: the nodes' names (nginx resolves them at load) by 127.0.0.1, the
// certificate by a throw-away one, the log and pid files by files in a temporary directory.
func TestDeployNginxT(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx is not installed (apt-get install nginx)")
	}
	dir := t.TempDir()
	deployCertificate(t, filepath.Join(dir, "turno.crt"), filepath.Join(dir, "turno.key"))
	conf := deployRead(t, "nginx.conf")
	for old, new := range map[string]string{
		"node1:8080":                 "127.0.0.1:8080",
		"node2:8080":                 "127.0.0.1:8080",
		"/etc/nginx/certs/":          dir + "/",
		"/var/log/nginx/error.log":   filepath.Join(dir, "error.log"),
		"/var/log/nginx/access.log ": filepath.Join(dir, "access.log") + " ",
		"pid /run/nginx.pid;":        "pid " + filepath.Join(dir, "nginx.pid") + ";",
	} {
		if !strings.Contains(conf, old) {
			t.Fatalf("nginx.conf no longer has %q; update this test", old)
		}
		conf = strings.ReplaceAll(conf, old, new)
	}
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(nginx, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
}

// deployCertificate writes a self-signed certificate for localhost and its key.
func deployCertificate(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// deployStages is docs/deploy/Containerfile split into its global ARGs and its stages, each a list of
// instructions (continuation lines joined, comments dropped).
type deployStages struct {
	args   map[string]string
	stages [][]string
}

func deployContainerfile(t *testing.T) deployStages {
	t.Helper()
	cf := deployStages{args: map[string]string{}}
	var current *[]string
	text := strings.ReplaceAll(deployRead(t, "Containerfile"), "\\\n", " ")
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(word) {
		case "FROM":
			cf.stages = append(cf.stages, nil)
			current = &cf.stages[len(cf.stages)-1]
		case "ARG":
			if current == nil {
				k, v, _ := strings.Cut(rest, "=")
				cf.args[k] = v
				continue
			}
		}
		if current == nil {
			t.Fatalf("Containerfile: %q before the first FROM", line)
		}
		*current = append(*current, line)
	}
	if len(cf.stages) < 2 {
		t.Fatalf("Containerfile has %d stages, want a build stage and the final one", len(cf.stages))
	}
	return cf
}

// find returns the instructions of stage i that start with the keyword.
func (cf deployStages) find(i int, keyword string) []string {
	var out []string
	for _, ins := range cf.stages[i] {
		if word, rest, _ := strings.Cut(ins, " "); strings.EqualFold(word, keyword) {
			out = append(out, rest)
		}
	}
	return out
}

// deployShellWords splits a command line into words, with double-quoted strings kept whole.
func deployShellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestDeployContainerfile checks the Containerfile's text: the build stage uses go.mod's Go release and
// fetches only modules, through a proxy; every package directory reaches the build; the binary is static
// with the time zones embedded; the final image is scratch (or distroless) run by a non-root user as
// `/turno serve` on Turno's default port.
func TestDeployContainerfile(t *testing.T) {
	cf := deployContainerfile(t)
	gomod, err := os.ReadFile(filepath.Join(deployRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(gomod)
	if goVersion == nil || cf.args["GO_VERSION"] != string(goVersion[1]) {
		t.Errorf("ARG GO_VERSION=%s, go.mod says go %s", cf.args["GO_VERSION"], goVersion[1])
	}
	build, final := 0, len(cf.stages)-1
	if from := cf.find(build, "FROM"); !strings.Contains(from[0], "golang:${GO_VERSION}") {
		t.Errorf("the build stage is FROM %s, want the golang image of GO_VERSION", from[0])
	}
	proxy := ""
	for _, a := range cf.find(build, "ARG") {
		if v, ok := strings.CutPrefix(a, "GOPROXY="); ok {
			proxy = v
		}
	}
	if !strings.HasPrefix(proxy, "https://") || strings.Contains(proxy, "direct") || strings.Contains(proxy, "off") {
		t.Errorf("ARG GOPROXY=%q: want a module proxy only, no direct fetches from version control", proxy)
	}
	env := map[string]string{}
	for _, e := range cf.find(build, "ENV") {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	if env["GOPROXY"] != "${GOPROXY}" || env["CGO_ENABLED"] != "0" || env["GOTOOLCHAIN"] != "local" || env["GOFLAGS"] != "-mod=readonly" {
		t.Errorf("the build stage's environment %v: want GOPROXY from the argument, CGO_ENABLED=0, GOTOOLCHAIN=local, GOFLAGS=-mod=readonly", env)
	}
	// Only the go command runs: no package manager, no download of anything but modules.
	runs := cf.find(build, "RUN")
	for _, r := range runs {
		if !strings.HasPrefix(r, "go ") {
			t.Errorf("the build runs %q; only the go command may run", r)
		}
	}
	goBuild := ""
	for _, r := range runs {
		if strings.HasPrefix(r, "go build ") {
			goBuild = r
		}
	}
	words := deployShellWords(goBuild)
	if !slices.Contains(words, "-trimpath") || !slices.Contains(words, "timetzdata") || !slices.Contains(words, "./cmd/turno") {
		t.Errorf("go build %v: want -trimpath, -tags timetzdata and ./cmd/turno", words)
	}

	// Every top-level directory with Go code is copied into the build, so that a new one is not forgotten.
	copied := map[string]bool{}
	for _, c := range cf.find(build, "COPY") {
		for _, w := range strings.Fields(c)[:len(strings.Fields(c))-1] {
			copied[strings.TrimSuffix(w, "/")] = true
		}
	}
	entries, err := os.ReadDir(deployRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && deployHasGo(filepath.Join(deployRoot, e.Name())) && !copied[e.Name()] {
			t.Errorf("the Containerfile does not copy %s/, which holds Go code", e.Name())
		}
	}
	if !copied["go.mod"] || !copied["go.sum"] {
		t.Error("the Containerfile does not copy go.mod and go.sum")
	}

	from := cf.find(final, "FROM")[0]
	if from != "scratch" && !strings.HasPrefix(from, "gcr.io/distroless/static") {
		t.Errorf("the final stage is FROM %s, want scratch or distroless static", from)
	}
	users := cf.find(final, "USER")
	if len(users) != 1 {
		t.Fatalf("the final stage sets USER %d times, want once", len(users))
	}
	uid, _, _ := strings.Cut(users[0], ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %s: want a numeric user other than root", users[0])
	}
	if e := cf.find(final, "ENTRYPOINT"); !slices.Equal(e, []string{`["/turno"]`}) {
		t.Errorf("ENTRYPOINT %v, want [\"/turno\"]", e)
	}
	if c := cf.find(final, "CMD"); !slices.Equal(c, []string{`["serve"]`}) {
		t.Errorf("CMD %v, want [\"serve\"]", c)
	}
	port := ""
	for _, o := range config.Options {
		if o.Env == "TURNO_ADDR" {
			port = strings.TrimPrefix(o.Default, ":")
		}
	}
	if e := cf.find(final, "EXPOSE"); !slices.Contains(e, port) {
		t.Errorf("EXPOSE %v, want Turno's default port %s", e, port)
	}
}

// deployHasGo reports whether dir holds a .go file at any depth.
func deployHasGo(dir string) bool {
	found := errors.New("found")
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".go") {
			return found
		}
		return err
	})
	return errors.Is(err, found)
}

// deploySandboxRefusal matches podman's errors that come from where it runs, not from the Containerfile:
// a registry it cannot reach, or a sandbox that refuses to run containers (rlimits, cgroups).
var deploySandboxRefusal = regexp.MustCompile(`pinging container registry|initializing source|no such host|` +
	`dial tcp|i/o timeout|crun: |OCI runtime|OCI permission denied|cgroups in hybrid mode|operation not permitted`)

// TestDeployImage builds the final stage of the Containerfile with podman around a binary built here
// exactly as the build stage builds it (the build stage itself needs the golang image, which a machine
// without access to its registry cannot pull), checks the image (scratch plus the binary and the CA
// bundle, its user, entry point and port) and runs `turno help` in it where containers may run. Then it
// builds the whole Containerfile, where the base image can be pulled.
func TestDeployImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and a container image")
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (apt-get install podman)")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	cf := deployContainerfile(t)
	build, final := 0, len(cf.stages)-1
	root, err := filepath.Abs(deployRoot)
	if err != nil {
		t.Fatal(err)
	}

	// The binary, with the build stage's go build line and environment.
	ctxDir := t.TempDir()
	var goBuild []string
	for _, r := range cf.find(build, "RUN") {
		if strings.HasPrefix(r, "go build ") {
			goBuild = deployShellWords(r)
		}
	}
	out := slices.Index(goBuild, "-o")
	if out < 0 {
		t.Fatalf("the build stage's go build %v has no -o", goBuild)
	}
	binInStage := goBuild[out+1]
	bin := filepath.Join(ctxDir, "stage", binInStage)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	goBuild[out+1] = bin
	cmd := exec.Command(goCmd, goBuild[1:]...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for _, e := range cf.find(build, "ENV") {
		for _, kv := range strings.Fields(e) {
			if !strings.Contains(kv, "${") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
	}
	if o, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, o)
	}
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" || !slices.Contains(strings.Split(settings["-tags"], ","), "timetzdata") {
		t.Errorf("the binary is built with %v: want CGO_ENABLED=0, -trimpath and the timetzdata tag", settings)
	}
	binInfo, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}

	// A stand-in build stage that holds, at the same paths, what the final stage copies: the binary, and
	// the host's own copies of everything else (the CA bundle).
	stage := "FROM scratch AS build\n"
	content := binInfo.Size()
	for _, c := range cf.find(final, "COPY") {
		f := strings.Fields(c)
		if len(f) != 3 || f[0] != "--from=build" {
			t.Fatalf("the final stage copies %q; expected COPY --from=build SRC DST", c)
		}
		if f[1] != binInStage {
			b, err := os.ReadFile(f[1])
			if err != nil {
				t.Skipf("the host has no %s to stand in for the build stage's: %v", f[1], err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(ctxDir, "stage", f[1])), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ctxDir, "stage", f[1]), b, 0o644); err != nil {
				t.Fatal(err)
			}
			content += int64(len(b))
		}
		stage += "COPY stage" + f[1] + " " + f[1] + "\n"
	}
	finalStage := strings.Join(cf.stages[final], "\n") + "\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Containerfile"), []byte(stage+finalStage), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := fmt.Sprintf("localhost/turno-deploy-test:%d", os.Getpid())
	if o, err := exec.Command(podman, "build", "-q", "--layers=false", "-t", tag, "-f", filepath.Join(ctxDir, "Containerfile"), ctxDir).CombinedOutput(); err != nil {
		if deploySandboxRefusal.Match(o) {
			t.Skipf("podman cannot build here: %s", bytes.TrimSpace(o))
		}
		t.Fatalf("podman build of the final stage: %v\n%s", err, o)
	}
	t.Cleanup(func() { _ = exec.Command(podman, "rmi", "-f", tag).Run() })
	size := deployCheckImage(t, podman, tag)
	// scratch is empty: the image is the binary and the CA bundle, and a little metadata.
	if size > content+64<<10 {
		t.Errorf("the image has %d bytes, %d more than the binary and the files it copies", size, size-content)
	}
	t.Logf("image %s: %.1f MB (binary %.1f MB)", tag, float64(size)/1e6, float64(binInfo.Size())/1e6)

	t.Run("run", func(t *testing.T) { deployRunImage(t, podman, tag) })

	t.Run("whole Containerfile", func(t *testing.T) {
		full := tag + "-full"
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, podman, "build", "-q", "--layers=false", "-t", full, "-f", filepath.Join("docs", "deploy", "Containerfile"), ".")
		cmd.Dir = root
		if o, err := cmd.CombinedOutput(); err != nil {
			if deploySandboxRefusal.Match(o) {
				t.Skipf("podman cannot build the whole Containerfile here: %s", bytes.TrimSpace(o))
			}
			t.Fatalf("podman build: %v\n%s", err, o)
		}
		t.Cleanup(func() { _ = exec.Command(podman, "rmi", "-f", full).Run() })
		size := deployCheckImage(t, podman, full)
		t.Logf("image %s: %.1f MB", full, float64(size)/1e6)
		deployRunImage(t, podman, full)
	})
}

// deployCheckImage checks the image's configuration (a numeric non-root user, `/turno serve`, Turno's
// port) and returns its size in bytes.
func deployCheckImage(t *testing.T, podman, tag string) int64 {
	t.Helper()
	o, err := exec.Command(podman, "image", "inspect", tag).Output()
	if err != nil {
		t.Fatalf("podman image inspect: %v", err)
	}
	var images []struct {
		Size   int64
		Config struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]struct{}
		}
	}
	if err := json.Unmarshal(o, &images); err != nil || len(images) != 1 {
		t.Fatalf("podman image inspect: %v\n%s", err, o)
	}
	img := images[0]
	uid, _, _ := strings.Cut(img.Config.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("the image runs as %q, want a numeric user other than root", img.Config.User)
	}
	if !slices.Equal(img.Config.Entrypoint, []string{"/turno"}) || !slices.Equal(img.Config.Cmd, []string{"serve"}) {
		t.Errorf("the image runs %v %v, want [/turno] [serve]", img.Config.Entrypoint, img.Config.Cmd)
	}
	if _, ok := img.Config.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("the image exposes %v, want 8080/tcp", img.Config.ExposedPorts)
	}
	return img.Size
}

// deployRunImage runs `turno help` in the image, without a network, and checks that it lists the
// commands; it skips when the sandbox refuses to run containers.
func deployRunImage(t *testing.T, podman, tag string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, podman, "run", "--rm", "--network=none", tag, "help")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if deploySandboxRefusal.Match(stderr.Bytes()) {
			t.Skipf("podman may not run containers here: %s", bytes.TrimSpace(stderr.Bytes()))
		}
		t.Fatalf("podman run %s help: %v\n%s%s", tag, err, stdout.Bytes(), stderr.Bytes())
	}
	for _, c := range []string{"serve", "migrate"} {
		if !strings.Contains(stderr.String(), c) {
			t.Errorf("`turno help` in the image does not list %s:\n%s", c, stderr.Bytes())
		}
	}
}

// TestDeploySystemdUnits checks the units' settings: the node needs the migration and a local database
// first, restarts on failure, has room for many sockets and runs hardened; the migration is a one-shot;
// the example environment sets only settings Turno reads.
func TestDeploySystemdUnits(t *testing.T) {
	units := map[string]map[string][]string{}
	for _, name := range []string{"turno.service", "turno-migrate.service"} {
		units[name] = map[string][]string{}
		for line := range strings.SplitSeq(deployRead(t, filepath.Join("systemd", name)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
				units[name][k] = append(units[name][k], v)
			}
		}
	}
	node, mig := units["turno.service"], units["turno-migrate.service"]
	has := func(u map[string][]string, key, word string) bool {
		return slices.ContainsFunc(u[key], func(v string) bool { return slices.Contains(strings.Fields(v), word) })
	}
	for _, want := range [][2]string{{"Requires", "turno-migrate.service"}, {"After", "turno-migrate.service"},
		{"After", "postgresql.service"}, {"Wants", "postgresql.service"}, {"Restart", "on-failure"}} {
		if !has(node, want[0], want[1]) {
			t.Errorf("turno.service: %s does not name %s", want[0], want[1])
		}
	}
	if !has(node, "ExecStart", "serve") || !has(mig, "ExecStart", "migrate") || !has(mig, "Type", "oneshot") {
		t.Error("turno.service must run `turno serve` and turno-migrate.service `turno migrate` as a oneshot")
	}
	if n, err := strconv.Atoi(strings.Join(node["LimitNOFILE"], "")); err != nil || n < 65536 {
		t.Errorf("turno.service: LimitNOFILE %v is too low for many sockets", node["LimitNOFILE"])
	}
	for name, u := range units {
		for _, want := range [][2]string{{"NoNewPrivileges", "yes"}, {"ProtectSystem", "strict"}, {"ProtectHome", "yes"},
			{"PrivateTmp", "yes"}, {"User", "turno"}, {"EnvironmentFile", "/etc/turno/turno.env"}} {
			if !has(u, want[0], want[1]) {
				t.Errorf("%s: want %s=%s, have %v", name, want[0], want[1], u[want[0]])
			}
		}
	}

	known := deployOptions()
	env := map[string]string{}
	for line := range strings.SplitSeq(deployRead(t, filepath.Join("systemd", "turno.env")), "\n") {
		if m := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=(.*)$`).FindStringSubmatch(line); m != nil {
			if !known[m[1]] {
				t.Errorf("turno.env sets %s, which Turno does not read (internal/config.Options)", m[1])
			}
			if !strings.HasPrefix(line, "#") {
				env[m[1]] = m[2]
			}
		}
	}
	if env["DATABASE_URL"] == "" || env["TURNO_TRUSTED_PROXIES"] == "" || env["TURNO_BASE_URL"] == "" {
		t.Errorf("turno.env must set DATABASE_URL, TURNO_BASE_URL and TURNO_TRUSTED_PROXIES: %v", env)
	}
	deployLoad(t, "turno.env", env)
}

// deployLoad has Turno read settings as it reads its environment, and fails the test when one is
// refused.
func deployLoad(t *testing.T, what string, env map[string]string) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	if _, _, err := config.Load(flag.NewFlagSet("serve", flag.ContinueOnError), nil); err != nil {
		t.Errorf("%s: Turno refuses the settings: %v", what, err)
	}
}

// TestDeploySystemdVerify has systemd check the units (`systemd-analyze verify`), with ExecStart pointed
// at an executable that exists here; systemd only warns about unknown or malformed settings, so any line
// about the units fails the test.
func TestDeploySystemdVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"turno.service", "turno-migrate.service"} {
		unit := deployRead(t, filepath.Join("systemd", name))
		if !strings.Contains(unit, "ExecStart=/usr/local/bin/turno ") {
			t.Fatalf("%s no longer runs /usr/local/bin/turno; update this test", name)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(unit, "/usr/local/bin/turno", self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.Contains(line, "turno.service") || strings.Contains(line, "turno-migrate.service") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
