package ticketingtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeT records what ValidateResponses reports instead of failing.
type fakeT struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
	f.mu.Unlock()
}

// The wrapper lets documented exchanges through, reports each kind of mismatch with the operation and the
// status, and leaves undocumented paths alone.
func TestValidateResponses(t *testing.T) {
	ticket := `{"id":1,"code":"abc","number":"A001","service":"anagrafe","service_names":{"it":"Anagrafe"},"status":"waiting",
		"lang":"it","issued_at":"2026-03-02T08:00:00Z","called_at":null,"desk":null,"recalls":0,"position":0,"estimated_wait_seconds":0,
		"estimate":{"kind":"desks_open","wait_seconds":0,"desks":1,"opens_at":null,"opens_in_days":0}}`
	for _, c := range []struct {
		name, method, path, reqBody string
		status                      int
		body                        string
		want                        string // "" when nothing is wrong
	}{
		{"documented", "GET", "/api/v1/tickets/abc", "", 200, ticket, ""},
		{"documented error", "GET", "/api/v1/tickets/abc", "", 404, `{"error":{"code":"unknown_ticket","message":"no"}}`, ""},
		{"undocumented status", "GET", "/api/v1/tickets/abc", "", 409, `{"error":{"code":"x","message":"no"}}`, "409"},
		{"bad body", "GET", "/api/v1/tickets/abc", "", 200, `{"id":"one"}`, "getTicket"},
		{"undeclared property", "GET", "/api/v1/tickets/abc", "", 200, strings.Replace(ticket, `"recalls":0`, `"recalls":0,"secret":1`, 1), "secret"},
		{"unlisted error code", "GET", "/api/v1/tickets/abc", "", 404, `{"error":{"code":"unknown_desk","message":"no"}}`, "unknown_desk"},
		{"common error code", "GET", "/api/v1/tickets/abc", "", 400, `{"error":{"code":"invalid_path","message":"no"}}`, ""},
		{"request the document forbids, accepted", "POST", "/api/v1/offices/demo/tickets", `{"service":"a","extra":1}`, 201, ticket, "request"},
		{"field errors of the body", "POST", "/api/v1/offices/demo/tickets", `{"service":1}`, 422, `{"error":{"code":"invalid_service","message":"no","field":"service"}}`, ""},
		{"page", "GET", "/desk", "", 200, "<html></html>", ""},
		{"undocumented method", "DELETE", "/api/v1/tickets/abc", "", 405, "", ""},
		{"the ticket's PDF", "GET", "/t/abc.pdf", "", 200, "%PDF-1.4", ""},
		{"the phone page", "GET", "/t/abc", "", 200, "<html></html>", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeT{TB: t}
			h := ValidateResponses(f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasPrefix(c.body, "{"):
					w.Header().Set("Content-Type", "application/json; charset=utf-8")
				case strings.HasPrefix(c.body, "%PDF"):
					w.Header().Set("Content-Type", "application/pdf")
				default:
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
				}
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.reqBody))
			if c.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := strings.Join(f.errors, "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("reported:\n%s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("reported %q, want a report naming %q", got, c.want)
			}
		})
	}
}

func TestValidateMessage(t *testing.T) {
	ValidateMessage(t, "Heartbeat", []byte(`{"seq":3,"type":"heartbeat"}`))
	ValidateMessage(t, "Event", []byte(`{"seq":4,"type":"desk.opened","at":"2026-03-02T08:00:00Z","desk":{"id":1,"number":1,"name":"Sportello 1"}}`))
	for _, bad := range []string{`{"seq":3,"type":"heartbeat","extra":1}`, `{"seq":"3","type":"heartbeat"}`, `{"type":"beat"}`} {
		f := &fakeT{TB: t}
		ValidateMessage(f, "Heartbeat", []byte(bad))
		if len(f.errors) == 0 {
			t.Errorf("%s passed as a Heartbeat", bad)
		}
	}
}
