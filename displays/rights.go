package displays

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"turno/internal/auth"
)

// A stream lives only as long as the right it was opened with. When a display device is revoked, a session
// ends or a user is disabled, every node closes the streams opened with it with a close frame of code
// CloseRightEnded and one of these reasons, so that the page can say why and stop reconnecting.
const (
	CloseRightEnded = websocket.ClosePolicyViolation // 1008

	ReasonRevoked   = "revoked"       // the display device was revoked
	ReasonSignedOut = "signed out"    // the session ended: signed out, expired, or its user disabled
	ReasonDisabled  = "user disabled" // the user was disabled
)

// Rights answers, for the periodic re-check, which of the credentials of this node's streams still hold.
// auth.Store is one.
type Rights interface {
	SessionsAlive(ctx context.Context, hashes [][]byte) (map[string]bool, error)
	DevicesAlive(ctx context.Context, ids []int64) (map[int64]bool, error)
}

// credential is the right an office stream was opened with: a display device, or a user's session.
type credential struct {
	device  int64  // display device id; 0 for a user
	user    int64  // user id; 0 for a device
	session string // hex of the session token's hash ("" for a device)
}

// credentialOf returns the credential of a principal, and false for an anonymous caller (a public ticket
// stream has no right to lose).
func credentialOf(p auth.Principal) (credential, bool) {
	switch {
	case p.Device != nil:
		return credential{device: p.Device.ID}, true
	case p.User != nil:
		return credential{user: p.User.ID, session: hex.EncodeToString(p.Session)}, true
	}
	return credential{}, false
}

// ends reports whether a notice on auth.RightsChannel ("device:7", "session:<hex>", "user:3") ends the
// credential, and the reason to give.
func (c credential) ends(notice string) (string, bool) {
	kind, v, _ := strings.Cut(notice, ":")
	switch kind {
	case "device":
		return ReasonRevoked, c.device != 0 && v == strconv.FormatInt(c.device, 10)
	case "session":
		return ReasonSignedOut, c.session != "" && v == c.session
	case "user":
		return ReasonDisabled, c.user != 0 && v == strconv.FormatInt(c.user, 10)
	}
	return "", false
}

// normalNotice returns a notice in the form credential.ends compares, or false for a payload it does not
// know.
func normalNotice(payload string) (string, bool) {
	kind, v, ok := strings.Cut(payload, ":")
	if !ok {
		return "", false
	}
	switch kind {
	case "device", "user":
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return "", false
		}
		return kind + ":" + strconv.FormatInt(id, 10), true
	case "session":
		b, err := hex.DecodeString(v)
		if err != nil || len(b) == 0 {
			return "", false
		}
		return "session:" + hex.EncodeToString(b), true
	}
	return "", false
}

// noticeKeep is how long a notice is remembered, for a stream that was authenticated before the right
// ended but subscribes only after the notice came (its handshake was in flight).
const noticeKeep = time.Minute

// hold records the credential of an office stream, so that the end of its right ends the stream. A stream
// whose right was announced ended a moment ago may have been authenticated before: it makes the checker
// ask the database at once.
func (h *Hub) hold(c *client, cred credential) {
	h.rightsMu.Lock()
	defer h.rightsMu.Unlock()
	h.held[c] = cred
	now := time.Now()
	for n, at := range h.notices {
		if now.Sub(at) > noticeKeep {
			delete(h.notices, n)
			continue
		}
		if _, ends := cred.ends(n); ends {
			h.pokeRights()
		}
	}
}

// unhold forgets a stream that has ended.
func (h *Hub) unhold(c *client) {
	h.rightsMu.Lock()
	delete(h.held, c)
	h.rightsMu.Unlock()
}

// rightEnded ends, on this node, every stream opened with the right a notice on auth.RightsChannel names.
func (h *Hub) rightEnded(payload string) {
	notice, ok := normalNotice(payload)
	if !ok {
		h.opt.Log.Warn("displays: bad rights notification", "payload", payload)
		return
	}
	type ending struct {
		c      *client
		reason string
	}
	var end []ending
	h.rightsMu.Lock()
	h.notices[notice] = time.Now()
	for c, cred := range h.held {
		if reason, ok := cred.ends(notice); ok {
			end = append(end, ending{c, reason})
		}
	}
	h.rightsMu.Unlock()
	for _, e := range end {
		e.c.end(CloseRightEnded, e.reason)
	}
}

// pokeRights makes the checker run now (once, however often it is poked meanwhile).
func (h *Hub) pokeRights() { signal(h.rightsWake) }

// watchRights re-checks the rights of this node's streams every RightsInterval, and when poked: the
// fallback for a lost notification (the LISTEN connection was down, or a right ended by a way that does
// not announce it, like a session's expiry).
func (h *Hub) watchRights(ctx context.Context) {
	if h.opt.Rights == nil {
		return
	}
	t := time.NewTicker(h.opt.RightsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.rightsWake:
		}
		if err := h.checkRights(ctx); err != nil && ctx.Err() == nil {
			// An outage must not end every stream: they stay until the database answers.
			h.opt.Log.Warn("displays: check stream rights", "err", err)
		}
	}
}

// checkRights asks the database, in one query for sessions and one for devices, which credentials of the
// node's streams still hold, and ends the streams of those that do not.
func (h *Hub) checkRights(ctx context.Context) error {
	h.rightsMu.Lock()
	sessions, devices := map[string]bool{}, map[int64]bool{}
	for _, cred := range h.held {
		if cred.session != "" {
			sessions[cred.session] = true
		}
		if cred.device != 0 {
			devices[cred.device] = true
		}
	}
	h.rightsMu.Unlock()
	if len(sessions)+len(devices) == 0 {
		return nil
	}
	var liveSessions map[string]bool
	var liveDevices map[int64]bool
	if len(sessions) > 0 {
		hashes := make([][]byte, 0, len(sessions))
		for s := range sessions {
			b, _ := hex.DecodeString(s)
			hashes = append(hashes, b)
		}
		var err error
		if liveSessions, err = h.opt.Rights.SessionsAlive(ctx, hashes); err != nil {
			return err
		}
	}
	if len(devices) > 0 {
		ids := make([]int64, 0, len(devices))
		for id := range devices {
			ids = append(ids, id)
		}
		var err error
		if liveDevices, err = h.opt.Rights.DevicesAlive(ctx, ids); err != nil {
			return err
		}
	}
	var revoked, signedOut []*client
	h.rightsMu.Lock()
	for c, cred := range h.held {
		switch {
		case cred.device != 0 && devices[cred.device] && !liveDevices[cred.device]:
			revoked = append(revoked, c)
		case cred.session != "" && sessions[cred.session] && !liveSessions[cred.session]:
			signedOut = append(signedOut, c)
		}
	}
	h.rightsMu.Unlock()
	for _, c := range revoked {
		c.end(CloseRightEnded, ReasonRevoked)
	}
	for _, c := range signedOut {
		c.end(CloseRightEnded, ReasonSignedOut)
	}
	return nil
}
