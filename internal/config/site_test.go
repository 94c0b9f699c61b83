package config

import (
	"flag"
	"slices"
	"strings"
	"testing"
)

func TestBaseURLSetting(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"https://turno.example.org/":  "https://turno.example.org",
		"http://localhost:8080":       "http://localhost:8080",
		"https://comune.example.it/q": "https://comune.example.it/q",
	} {
		if got, err := baseURL(in); err != nil || got != want {
			t.Errorf("baseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"turno.example.org", "ftp://x.org", "https://", "https://x.org/?a=1", "https://u:p@x.org", "/relative"} {
		if got, err := baseURL(bad); err == nil {
			t.Errorf("baseURL(%q) = %q, want an error", bad, got)
		}
	}
}

func TestFrameAncestorsSetting(t *testing.T) {
	t.Setenv("TURNO_FRAME_ANCESTORS", " https://www.comune.example.it/ , http://intranet:8080")
	c, _, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://www.comune.example.it", "http://intranet:8080"}; !slices.Equal(c.FrameAncestors, want) {
		t.Errorf("FrameAncestors = %q, want %q", c.FrameAncestors, want)
	}
	for _, bad := range []string{"*", "'self'", "www.comune.example.it", "https://x.org/page", "https://x.org; script-src *", "javascript:alert(1)"} {
		if got, err := origins(bad); err == nil {
			t.Errorf("origins(%q) = %q, want an error", bad, got)
		}
	}
}

func TestBaseURLWarning(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string // a word of the warning; "" for none
	}{
		{Config{Demo: true}, ""},
		{Config{}, "TURNO_BASE_URL is not set"},
		{Config{BaseURL: "https://turno.example.org"}, ""},
		{Config{BaseURL: "http://localhost:8080"}, ""},
		{Config{BaseURL: "http://127.0.0.1:8080"}, ""},
		{Config{BaseURL: "http://turno.comune.example.it"}, "plain http"},
	} {
		got := tc.c.BaseURLWarning()
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: warning %q, want one with %q", tc.c, got, tc.want)
		}
	}
}

func TestNotificationSettings(t *testing.T) {
	t.Setenv("TURNO_SMTP_URL", "smtp://turno:pw@mail.example.it:587")
	t.Setenv("TURNO_SMTP_FROM", "Comune di Demo <turno@comune.example.it>")
	t.Setenv("TURNO_SMS_URL", "https://sms.example.it/send")
	t.Setenv("TURNO_SMS_TOKEN", " tok ")
	c, _, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPURL != "smtp://turno:pw@mail.example.it:587" || c.SMTPFrom != "Comune di Demo <turno@comune.example.it>" ||
		c.SMSURL != "https://sms.example.it/send" || c.SMSToken != "tok" {
		t.Errorf("notification settings %q %q %q %q", c.SMTPURL, c.SMTPFrom, c.SMSURL, c.SMSToken)
	}
	for _, bad := range []string{"mail.example.it", "http://mail.example.it", "smtp://", "smtp://h/x", "smtps://h?x=1"} {
		if _, err := serverURL(bad, "smtp", "smtps"); err == nil {
			t.Errorf("SMTP URL %q accepted", bad)
		}
	}
	for _, bad := range []string{"sms.example.it/send", "ftp://sms.example.it", "https://"} {
		if _, err := serverURL(bad, "http", "https"); err == nil {
			t.Errorf("SMS URL %q accepted", bad)
		}
	}
	if _, err := address("turno at comune"); err == nil {
		t.Error("a bad sender address accepted")
	}
}
