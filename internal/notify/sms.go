package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
)

// SMSSender delivers text messages through an HTTP gateway (TURNO_SMS_URL), with the contract of
// docs/notifications.md: POST {"to","text","id"} as JSON, with the bearer token when one is set; 2xx is
// sent, 429 and 5xx are retried, any other answer is a permanent failure.
type SMSSender struct {
	URL   string
	Token string
	// Client is the HTTP client; nil: one that follows no redirect (the worker bounds each delivery's time).
	Client *http.Client
}

// gatewayClient follows no redirect: a redirected POST would become a GET, and the answer's status decides.
var gatewayClient = &http.Client{CheckRedirect: noRedirect}

// NewSMSSender returns the sender for the gateway at rawURL, authenticating with token (empty: none).
func NewSMSSender(rawURL, token string) (*SMSSender, error) {
	if err := CheckGatewayURL(rawURL); err != nil {
		return nil, err
	}
	return &SMSSender{URL: rawURL, Token: token}, nil
}

// CheckGatewayURL checks an SMS gateway URL: absolute http or https, with a host.
func CheckGatewayURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return errors.New("not a gateway URL like https://sms.example.org/send")
	}
	return nil
}

// e164 is a phone number in international format: +, a country code, at most 15 digits.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// smsRequest is the JSON the gateway receives.
type smsRequest struct {
	To   string `json:"to"`
	Text string `json:"text"`
	ID   string `json:"id"`
}

// Send posts m's Body to the gateway for the number in m's Recipient.
func (s *SMSSender) Send(ctx context.Context, id int64, m Message) error {
	if !e164.MatchString(m.Recipient) {
		return Permanent(errors.New("the recipient is not a phone number in international format (E.164)"))
	}
	if m.Body == "" {
		return Permanent(errors.New("the message has no text"))
	}
	body, err := json.Marshal(smsRequest{To: m.Recipient, Text: m.Body, ID: strconv.FormatInt(id, 10)})
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("the gateway URL is not valid"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", strconv.FormatInt(id, 10))
	if s.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token)
	}
	client := s.Client
	if client == nil {
		client = gatewayClient
	}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("SMS gateway: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return answer("SMS gateway", res, nil)
}
