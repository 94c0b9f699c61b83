package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"turno/internal/auth"
	"turno/internal/database"
	"turno/internal/database/dbtest"
)

// The real binary on an empty database: it migrates, seeds the demo office, prints the URLs to open,
// answers /healthz, and shuts down cleanly on SIGTERM.
func TestServeDemoEndToEnd(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "turno")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dsn := dbtest.NewDatabase(t)
	// Start from a database without Turno's tables: serve must apply the migrations itself.
	pool, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	pool.Close()

	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve", "--demo", "--addr", addr)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "TURNO_LOG_LEVEL=warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = &testWriter{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	printed := ""
	deadline := time.After(60 * time.Second)
	for !strings.Contains(printed, "Manager") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("turno exited before printing the URLs; printed:\n%s", printed)
			}
			printed += l + "\n"
		case <-deadline:
			t.Fatalf("no URLs printed within 60 s; printed:\n%s", printed)
		}
	}
	for _, want := range []string{"/kiosk/demo?device=demo-kiosk", "/display/demo?device=demo-display", "/desk", "/manage",
		"/book/demo", "/join/demo", "/agenda", "/manage/appointments"} {
		if !strings.Contains(printed, want) {
			t.Errorf("printed URLs lack %s:\n%s", want, printed)
		}
	}
	res, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("/healthz: %d %s", res.StatusCode, body)
	}
	res, err = http.Get("http://" + addr + "/api/v1/offices/demo/services")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "Carta d'identit") {
		t.Fatalf("demo services: %d %s", res.StatusCode, body)
	}
	// The demo office takes appointments and lets phones join the queue.
	res, err = http.Get("http://" + addr + "/join/demo")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `data-service="certificati"`) {
		t.Fatalf("demo join page: %d %s", res.StatusCode, body)
	}
	res, err = http.Get("http://" + addr + "/api/v1/offices/demo/slots?service=certificati")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"places"`) {
		t.Fatalf("demo slots: %d %s", res.StatusCode, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("turno exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("turno did not stop within 30 s of SIGTERM")
	}
}

// turno user add creates a user who can sign in; a bad role is refused and creates nothing.
func TestUserAdd(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "turno")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dsn := dbtest.NewDatabase(t)
	run := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("", "demo"); err != nil {
		t.Fatalf("turno demo: %v\n%s", err, out)
	}
	if out, err := run("sette lune storte 42\n", "user", "add", "--username", "clerk", "--role", "operator", "--office", "demo", "--staff", "S08", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	if out, err := run("pw\n", "user", "add", "--username", "boss", "--role", "king", "--password-stdin"); err == nil || !strings.Contains(out, "role") {
		t.Fatalf("a bad role was accepted: %v\n%s", err, out)
	}
	pool, err := database.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	a := auth.NewStore(pool)
	if _, u, err := a.Login(context.Background(), "clerk", "sette lune storte 42"); err != nil || u.Role != auth.Operator || u.StaffID == 0 {
		t.Fatalf("clerk signs in: %+v, %v", u, err)
	}
	if _, _, err := a.Login(context.Background(), "boss", "pw"); err == nil {
		t.Fatal("the refused user exists")
	}
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testWriter sends the server's log to the test log.
type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Logf("turno: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
