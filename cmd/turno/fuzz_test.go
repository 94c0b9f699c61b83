package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"turno/cmd/turno/demo"
)

// FuzzAPI sends fuzzed requests to every route of the authorization table (a fuzzed value for the route's
// first path parameter, a fuzzed body, as the office's manager or as the operator at the desk) through the
// whole router on a real database: no input may get a 5xx.
func FuzzAPI(f *testing.F) {
	p := newPrincipals(f)
	var rules []access
	for _, e := range accessTable() {
		if strings.HasSuffix(e.path, "logout") { // would end the fuzzer's own sessions
			continue
		}
		rules = append(rules, e)
	}
	tokens := map[bool]string{}
	for manager, name := range map[bool]string{true: "manager", false: "op1"} {
		token, _, err := p.a.auth.Login(context.Background(), name, demo.Password)
		if err != nil {
			f.Fatal(err)
		}
		tokens[manager] = token
	}
	for i := range rules {
		f.Add(uint16(i), "", `{}`, i%2 == 0)
	}
	f.Add(uint16(0), "\x00", `{"service":"\u0000"}`, true)
	f.Add(uint16(5), "99999999999999999999", `{"number":3000000000,"name":"x","audience":"citizen"}`, true)
	f.Add(uint16(7), "%ff", "{\"names\":{\"it\":\"\xff\"}}", false)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, route uint16, param, body string, asManager bool) {
		e := rules[int(route)%len(rules)]
		path := p.path(e)
		if i := strings.Index(e.path, "{"); i >= 0 {
			// Replace the first parameter's sample with the fuzzed value.
			sample := strings.SplitN(path[i:], "/", 2)[0]
			path = path[:i] + url.PathEscape(param) + strings.TrimPrefix(path[i:], sample)
		}
		req, err := http.NewRequest(e.method, p.srv.URL+path, strings.NewReader(body))
		if err != nil {
			return
		}
		if strings.HasPrefix(e.path, "/api/") {
			req.Header.Set("Content-Type", "application/json")
		} else {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Authorization", "Bearer "+tokens[asManager])
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", e.method, path, err)
		}
		res.Body.Close()
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s %q: %d", e.method, path, body, res.StatusCode)
		}
	})
}
