package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"turno/internal/web"
)

const dante = "nel mezzo del cammin di nostra vita mi ritrovai per una selva oscura che la diritta via era smarrita ahi quanto a dir qual era e cosa dura"

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	refused := []struct{ password, username, why string }{
		{"demo", "", "at least 12"},
		{"s3cret-pw", "", "at least 12"},
		{"àèìòùàèìòù", "", "at least 12"}, // 10 characters of 20 bytes
		{strings.Repeat("abcdefghij ", 12), "", "at most 128"},
		{"password1234", "", "common"},
		{"Password1234", "", "common"},
		{"P@ssw0rd1234", "", "common"},
		{"qwertyuiop", "", "at least 12"},
		{"qwertyuiop12", "", "repeated, sequential"},
		{"qwertyuiopasdfghjkl", "", "repeated, sequential"},
		{"1qaz2wsx3edc", "", ""},
		{"123456789012", "", ""},
		{"aaaaaaaaaaaa", "", "repeated"},
		{"abababababab", "", "repeated"},
		{"ciaociao1234", "", ""},
		{"CiaoCiaoCiao", "", ""},
		{"francesca1990", "", "francesca"},
		{"Francesca!1990", "", "francesca"},
		{"1990francesca", "", "francesca"},
		{"juventus2024!", "", "juventus"},
		{"forzajuve1897", "", "forzajuve"},
		{"mariorossi1985", "", "mario"},
		{"tiamotanto123", "", ""},
		{"amoremio2020!", "", ""},
		{"password password password", "", "repeated"},
		{"hunter2hunter2", "", "repeated"},
		{"Tr0ub4dor&3 Tr0ub4dor&3", "", "repeated"},
		{"iloveyou1234", "", ""},
		{"sunshine2000!", "", "sunshine"},
		{"superman12345", "", "superman"},
		{"lorenzo.bianchi-2026", "lorenzo.bianchi", "username"},
		{"my name is lorenzo ok", "lorenzo.bianchi", "part of the username"},
		{"bad\x00password!!", "", "control"},
		{"bad\xffpassword!!", "", "UTF-8"},
	}
	for _, c := range refused {
		err := CheckPassword(c.password, c.username)
		var we *web.Error
		if !errors.As(err, &we) || we.Status != http.StatusUnprocessableEntity || we.Field != "password" {
			t.Errorf("%q was accepted or refused wrongly: %v", c.password, err)
			continue
		}
		if !strings.Contains(we.Message, c.why) {
			t.Errorf("%q: %q does not say %q", c.password, we.Message, c.why)
		}
	}
	accepted := []struct{ password, username string }{
		{"turno-demo-2026", "op1"},
		{"correct horse battery staple", "admin"},
		{"il gatto sul tetto che scotta", "manager"},
		{"Xk9#mP2$vL7q", ""},
		{"sette-lune-storte", "mario.rossi"},
		{"città di vetro 77", ""},
		{"日本語のパスワードです十二", ""}, // 13 characters of 39 bytes
		{dante[:128], ""},     // 128 characters, more than bcrypt's 72 bytes
	}
	for _, c := range accepted {
		if err := CheckPassword(c.password, c.username); err != nil {
			t.Errorf("%q was refused: %v", c.password, err)
		}
	}
}

// A password longer than bcrypt's 72 bytes counts whole; old plain-bcrypt hashes still verify, and are
// marked for rehashing.
func TestHashes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 80)
	h, err := hashPassword(long+"a", 4)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := checkHash(h, long+"b", 4); ok {
		t.Error("two passwords that share their first 72 bytes match")
	}
	if ok, stale := checkHash(h, long+"a", 4); !ok || stale {
		t.Errorf("right password: ok %v stale %v", ok, stale)
	}
	if ok, stale := checkHash(h, long+"a", 5); !ok || !stale {
		t.Errorf("a cost below the store's: ok %v stale %v, want a rehash", ok, stale)
	}
	const legacy = "$2a$04$Lq8hPbs6Lo1E9DZ5B6Uu5.7a6dYmL3pV3l1K6sQ6QvM1sgOZ2hQ1W" // not a real hash of anything
	if ok, _ := checkHash(legacy, "demo", 4); ok {
		t.Error("a made-up hash matched")
	}
}

func TestDelays(t *testing.T) {
	t.Parallel()
	l := DefaultLoginLimits.User
	want := map[int]string{0: "0s", 2: "0s", 3: "1s", 4: "2s", 5: "4s", 8: "32s", 9: "1m0s", 30: "1m0s"}
	for n, w := range want {
		if got := l.delay(n).String(); got != w {
			t.Errorf("delay after %d failures: %s, want %s", n, got, w)
		}
	}
	locks := map[int]string{0: "15m0s", 1: "30m0s", 2: "1h0m0s", 6: "16h0m0s", 7: "24h0m0s", 40: "24h0m0s"}
	for n, w := range locks {
		if got := l.lock(n).String(); got != w {
			t.Errorf("lock after %d locks: %s, want %s", n, got, w)
		}
	}
	if got := addrKey("2001:db8:1:2:3:4:5:6"); got != "2001:db8:1:2::/64" {
		t.Errorf("IPv6 address key %q", got)
	}
	if got := addrKey("::ffff:192.0.2.7"); got != "192.0.2.7" {
		t.Errorf("mapped IPv4 address key %q", got)
	}
}
