package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing/ticketingtest"
)

// env is a test's Turno with the sign-in limits on the test clock, fixed at a real-looking instant.
func env(t *testing.T) *ticketingtest.Env {
	t.Helper()
	e := ticketingtest.New(t)
	e.Auth.Now = e.Now
	e.SetNow(time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC))
	return e
}

// attempt is the answer to one sign-in.
type attempt struct {
	status     int
	code       string
	message    string
	retryAfter int
}

// login signs in through the JSON API with extra headers (name, value, …).
func login(t *testing.T, base, username, password string, headers ...string) attempt {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, _ := http.NewRequest("POST", base+"/api/v1/login", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return send(t, req)
}

// formLogin signs in through the login page's form.
func formLogin(t *testing.T, base, username, password string) attempt {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "next": {"/desk"}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept-Language", "it")
	return send(t, req)
}

func send(t *testing.T, req *http.Request) attempt {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := attempt{status: res.StatusCode, message: string(b)}
	a.retryAfter, _ = strconv.Atoi(res.Header.Get("Retry-After"))
	var e struct{ Error web.Error }
	if json.Unmarshal(b, &e) == nil {
		a.code, a.message = e.Error.Code, e.Error.Message
	}
	return a
}

// 100 wrong passwords in a row: after 3 free failures each attempt waits (429 with Retry-After, the
// password not even looked at), the 10th failure locks the account, and the lock holds until a manager
// lifts it — seen on another node, since the limits live in the database.
func TestHundredWrongPasswords(t *testing.T) {
	t.Parallel()
	e := env(t)
	node1, node2 := e.Server(t), e.Server(t)
	var failures, first429, lockedAt int
	for i := 1; i <= 100; i++ {
		a := login(t, node1.URL, "op1", fmt.Sprintf("wrong password %d", i))
		switch {
		case a.status == http.StatusUnauthorized:
			failures++
		case a.status == http.StatusTooManyRequests && a.code == "too_many_attempts":
			if first429 == 0 {
				first429 = i
			}
			if a.retryAfter < 1 {
				t.Fatalf("attempt %d: 429 without Retry-After", i)
			}
			e.Advance(time.Duration(a.retryAfter) * time.Second) // wait as told
		case a.status == http.StatusTooManyRequests && a.code == "account_locked":
			if lockedAt == 0 {
				lockedAt = i
				// 09:00 UTC plus the waits (1+2+4+8+16+32+60 s) plus 15 minutes is 10:17 in Rome.
				if a.retryAfter != 15*60 || !strings.Contains(a.message, "10:17") {
					t.Errorf("the lock: Retry-After %d, %q; want 900 s, until 10:17 Italian time", a.retryAfter, a.message)
				}
			}
		case a.status == http.StatusTooManyRequests: // the in-memory flood cap of the node, after the lock
			if lockedAt == 0 {
				t.Fatalf("attempt %d: %+v before the lock", i, a)
			}
		default:
			t.Fatalf("attempt %d: %+v", i, a)
		}
	}
	if first429 != 4 || lockedAt != 17 || failures != 9 {
		t.Fatalf("first 429 at attempt %d, lock at %d, %d passwords checked; want 4, 17, 9 (+ the one that locked)", first429, lockedAt, failures)
	}
	// The right password does not open a locked account, on the other node either.
	if a := login(t, node2.URL, "op1", demo.Password); a.code != "account_locked" || a.retryAfter < 800 {
		t.Fatalf("right password while locked, other node: %+v", a)
	}
	// The manager sees the lock and lifts it.
	mgr := e.Login(t, "manager")
	users := officeUsers(t, e, node2.URL, mgr)
	op1 := users["op1"]
	if op1 == nil || op1["locked_until"] == nil {
		t.Fatalf("the manager does not see op1's lock: %v", op1)
	}
	for _, u := range users {
		for _, k := range []string{"password", "password_hash", "hash"} {
			if _, ok := u[k]; ok {
				t.Fatalf("the user list shows %q: %v", k, u)
			}
		}
	}
	id := int64(op1["id"].(float64))
	if st, v := ticketingtest.Call(t, "POST", fmt.Sprintf("%s/api/v1/offices/demo/users/%d/unlock", node2.URL, id), mgr, ""); st != 200 {
		t.Fatalf("unlock: %d %v", st, v)
	}
	if u := officeUsers(t, e, node2.URL, mgr)["op1"]; u["locked_until"] != nil {
		t.Fatalf("still locked after the unlock: %v", u)
	}
	if a := login(t, node2.URL, "op1", demo.Password); a.status != 200 {
		t.Fatalf("right password after the unlock: %+v", a)
	}
	if u := officeUsers(t, e, node2.URL, mgr)["op1"]; u["last_login_at"] == nil {
		t.Fatalf("the sign-in is not recorded: %v", u)
	}
}

func officeUsers(t *testing.T, e *ticketingtest.Env, base, token string) map[string]map[string]any {
	t.Helper()
	st, v := ticketingtest.Call(t, "GET", base+"/api/v1/offices/demo/users", token, "")
	list, _ := v.([]any)
	if st != 200 || len(list) == 0 {
		t.Fatalf("users: %d %v", st, v)
	}
	out := map[string]map[string]any{}
	for _, x := range list {
		u := x.(map[string]any)
		out[u["username"].(string)] = u
	}
	return out
}

// A lock grows on repeat: 15 minutes, then 30.
func TestLockGrows(t *testing.T) {
	t.Parallel()
	e := env(t)
	ctx := context.Background()
	fail := func() error {
		for range 100 {
			_, _, err := e.Auth.Login(ctx, "op2", "not the password at all")
			var le *auth.LimitError
			switch {
			case asLimit(err, &le) && le.Locked:
				return le
			case le != nil:
				e.Advance(time.Duration(le.RetryAfter()) * time.Second)
			case err != auth.ErrBadCredentials:
				t.Fatal(err)
			}
		}
		t.Fatal("no lock after 100 attempts")
		return nil
	}
	for round, want := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour} {
		start := e.Now()
		err := fail().(*auth.LimitError)
		if got := err.Until.Sub(e.Now()); got != want {
			t.Fatalf("lock %d: %v (after %v of failing), want %v", round+1, got, e.Now().Sub(start), want)
		}
		e.Advance(want + time.Second)
	}
	// Signing in forgets it all.
	if _, _, err := e.Auth.Login(ctx, "op2", demo.Password); err != nil {
		t.Fatal(err)
	}
	if err := fail().(*auth.LimitError); err.Until.Sub(e.Now()) != 15*time.Minute {
		t.Fatalf("after a sign-in the lock starts at %v again", err.Until.Sub(e.Now()))
	}
}

func asLimit(err error, le **auth.LimitError) bool {
	if err == nil {
		return false
	}
	l, ok := err.(*auth.LimitError)
	*le = l
	return ok
}

// spoof gives forwarded headers claiming another client address for each i.
func spoof(i int) []string {
	ip := fmt.Sprintf("203.0.113.%d", i%250+1)
	return []string{"X-Forwarded-For", ip, "X-Real-IP", ip, "True-Client-IP", ip, "Forwarded", "for=" + ip}
}

// Forwarded headers from a client that is not a trusted proxy do not reset the per-username limit.
func TestSpoofedHeadersKeepUserLimit(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	// The 4th attempt waits, whatever address the client claims.
	for i := 1; i <= 4; i++ {
		a := login(t, srv.URL, "op3", "wrong wrong wrong", spoof(i)...)
		if want := map[bool]int{true: 429, false: 401}[i == 4]; a.status != want {
			t.Fatalf("op3 attempt %d with a new forwarded address: %+v, want %d", i, a, want)
		}
	}
}

// Forwarded headers from a client that is not a trusted proxy do not reset the per-address limit: 20
// failures on 20 (unknown) usernames are free, the 21st waits, and so does everyone at that address.
func TestSpoofedHeadersKeepAddressLimit(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	for i := 1; i <= 21; i++ {
		a := login(t, srv.URL, fmt.Sprintf("nobody%d", i), "wrong wrong wrong", spoof(i)...)
		if want := map[bool]int{true: 429, false: 401}[i == 21]; a.status != want {
			t.Fatalf("nobody%d with a new forwarded address: %+v, want %d", i, a, want)
		}
	}
	if a := login(t, srv.URL, "op4", demo.Password, spoof(99)...); a.status != 429 || a.code != "too_many_attempts" {
		t.Fatalf("the address waits for everyone: %+v", a)
	}
	e.Advance(time.Second)
	if a := login(t, srv.URL, "op4", demo.Password); a.status != 200 {
		t.Fatalf("after the wait: %+v", a)
	}
}

// Behind a trusted proxy the forwarded address is the client's, and an IPv6 client counts by its /64.
func TestTrustedProxyAddresses(t *testing.T) {
	t.Parallel()
	e := env(t)
	r := web.NewRouter(e.Auth.Authenticate, "127.0.0.1/32", "::1/128")
	e.Auth.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	for i := 1; i <= 21; i++ {
		a := login(t, srv.URL, fmt.Sprintf("nobody%d", i), "wrong wrong wrong", "X-Forwarded-For", fmt.Sprintf("2001:db8:7:7::%x", i))
		if want := map[bool]int{true: 429, false: 401}[i == 21]; a.status != want {
			t.Fatalf("attempt %d from another address of one /64: %+v, want %d", i, a, want)
		}
	}
	if a := login(t, srv.URL, "nobody", "wrong wrong wrong", "X-Forwarded-For", "2001:db8:7:8::1"); a.status != 401 {
		t.Fatalf("another /64: %+v", a)
	}
}

// "Manager", " manager " and "MANAGER" are one username with one limit; an unknown username is limited
// the same way as a known one.
func TestUsernamesShareOneLimit(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	for i, name := range []string{"Manager", " manager ", "MANAGER", "manager"} {
		a := login(t, srv.URL, name, "wrong wrong wrong")
		if want := map[bool]int{true: 429, false: 401}[i == 3]; a.status != want {
			t.Fatalf("%q: %+v, want %d", name, a, want)
		}
	}
	for i := 1; i <= 4; i++ {
		a := login(t, srv.URL, "Ghost", "wrong wrong wrong")
		if want := map[bool]int{true: 429, false: 401}[i == 4]; a.status != want || (a.status == 401 && a.code != "unauthorized") {
			t.Fatalf("unknown user, attempt %d: %+v, want %d", i, a, want)
		}
	}
}

// The JSON and the form sign-in count against one limit, and the form shows the lock in the user's
// language with the unlock time.
func TestJSONAndFormShareLimits(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	login(t, srv.URL, "op5", "wrong wrong wrong")
	formLogin(t, srv.URL, "OP5", "wrong wrong wrong")
	login(t, srv.URL, "op5", "wrong wrong wrong")
	if a := formLogin(t, srv.URL, "op5", demo.Password); a.status != 429 || a.retryAfter != 1 || !strings.Contains(a.message, "riprova tra un secondo") {
		t.Fatalf("form after 3 failures: %d Retry-After %d\n%s", a.status, a.retryAfter, a.message)
	}
	for i := 0; i < 30; i++ {
		var a attempt
		if i%2 == 0 {
			a = formLogin(t, srv.URL, "op5", "wrong wrong wrong")
		} else {
			a = login(t, srv.URL, "op5", "wrong wrong wrong")
		}
		if a.status == 429 && (a.code == "account_locked" || strings.Contains(a.message, "bloccato fino alle")) {
			// Locked through one, locked through the other.
			f, j := formLogin(t, srv.URL, "op5", demo.Password), login(t, srv.URL, "op5", demo.Password)
			if f.status != 429 || !strings.Contains(f.message, "bloccato fino alle") || !strings.Contains(f.message, "(ora italiana)") || f.retryAfter < 800 {
				t.Fatalf("the form does not show the lock: Retry-After %d\n%s", f.retryAfter, f.message)
			}
			if j.code != "account_locked" || j.retryAfter < 800 {
				t.Fatalf("the JSON sign-in does not show the lock: %+v", j)
			}
			return
		}
		e.Advance(time.Duration(max(a.retryAfter, 1)) * time.Second)
	}
	t.Fatal("no lock after 30 more failures")
}

// Parallel attempts cannot slip through before the first failure is written: of 24 wrong passwords
// sent at once, at most the 3 free ones are checked.
func TestParallelAttempts(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	for i := 0; i < 24; i++ {
		wg.Go(func() {
			a := login(t, srv.URL, "op6", fmt.Sprintf("wrong guess number %d", i))
			mu.Lock()
			counts[a.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if counts[401] > 3 || counts[401]+counts[429] != 24 {
		t.Fatalf("answers %v: want at most 3 passwords checked, the rest 429", counts)
	}
}

// A successful sign-in clears the username's failures.
func TestSuccessClearsFailures(t *testing.T) {
	t.Parallel()
	e := env(t)
	srv := e.Server(t)
	for round := 0; round < 3; round++ {
		for i := 0; i < 3; i++ {
			if a := login(t, srv.URL, "op1", "wrong wrong wrong"); a.status != 401 {
				t.Fatalf("round %d failure %d: %+v", round, i, a)
			}
		}
		e.Advance(time.Second)
		if a := login(t, srv.URL, "op1", demo.Password); a.status != 200 {
			t.Fatalf("round %d sign-in: %+v", round, a)
		}
	}
}
