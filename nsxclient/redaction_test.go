package nsxclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
)

// secretsIn returns the secrets (and their common encodings) that must never be printed.
func secretsIn(extra ...string) []string {
	s := []string{
		testPassword,
		base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword)), // the Basic header
		"Pa55-W0rd", // a prefix, in case something truncates
	}
	return append(s, extra...)
}

func assertNoSecrets(t *testing.T, where, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q:\n%s", where, s, text)
		}
	}
}

func TestFmtOfConfigAndClientNeverShowsSecrets(t *testing.T) {
	s := newSessionNSX(t)
	cert := tls.Certificate{Certificate: [][]byte{[]byte("cert-bytes")}, PrivateKey: "PRIVATE-KEY-MATERIAL"}
	cfg := s.config()
	cfg.AuthMode = AuthSession
	cfg.ClientCertificate = &cert
	cfg.Transport = nil
	cfg.InsecureSkipVerify = true
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetSection(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	secrets := secretsIn("PRIVATE-KEY-MATERIAL", "secretcookie", "secrettoken")
	exported := struct {
		Cfg    Config
		Client *Client
		Value  Client
	}{cfg, c, *c}
	unexported := struct {
		client *Client
		value  Client
	}{c, *c}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%T"} {
		for name, v := range map[string]any{"Config": cfg, "*Config": &cfg, "*Client": c, "Client": *c,
			"struct with exported fields": exported, "struct with unexported client fields": unexported} {
			assertNoSecrets(t, fmt.Sprintf("fmt %s of %s", verb, name), fmt.Sprintf(verb, v), secrets)
		}
	}
	// fmt cannot call Format on an unexported field, so a Config stored unexported is printed
	// field by field; with the usual verbs, the certificate pointer still prints as an address.
	unexportedCfg := struct{ cfg Config }{cfg}
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		assertNoSecrets(t, "fmt "+verb+" of an unexported Config", fmt.Sprintf(verb, unexportedCfg), secrets)
	}
	if got := fmt.Sprint(cfg); !strings.Contains(got, "Credentials: <set>") || !strings.Contains(got, "ClientCertificate: <set>") {
		t.Errorf("Config prints unhelpfully: %s", got)
	}
	sa := c.auth.(*sessionAuth)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		assertNoSecrets(t, "fmt of the session", fmt.Sprintf(verb, *sa.current), secrets)
		assertNoSecrets(t, "fmt of the session state", fmt.Sprintf(verb, sa), secrets)
	}
}

// TestSecretsNeverInLogsOrErrors runs the client through logins, re-logins, retries and failures
// with a maximally verbose logger and checks that no secret reaches the log or an error.
func TestSecretsNeverInLogsOrErrors(t *testing.T) {
	logger, logText := verboseLogger()

	s := newSessionNSX(t)
	var calls atomic.Int32
	inner := s.currentHandler()
	s.setHandler(func(w http.ResponseWriter, r *http.Request, body []byte) {
		n := calls.Add(1)
		switch {
		case r.URL.Path == sessionCreatePath && strings.Contains(string(body), "j_password=wrong"):
			// A misbehaving proxy that echoes the form, password included.
			writeNSXError(w, 403, ErrCodeBadCredentials, "login failed for body "+string(body))
		case n%3 == 0 && r.URL.Path != sessionCreatePath:
			writeNSXError(w, 503, 0, "busy")
		default:
			inner(w, r, body)
		}
	})
	var errs []string
	password := testPassword
	var pwMu sync.Mutex
	provider := CredentialsFunc(func(context.Context) (string, string, error) {
		pwMu.Lock()
		defer pwMu.Unlock()
		return testUser, password, nil
	})
	var obs observerLog
	c := s.sessionClient(func(c *Config) { c.Logger = logger; c.Credentials = provider; c.Observer = obs.observe })
	ctx := context.Background()
	for i := range 6 {
		if i == 3 {
			s.expireAll()
		}
		if _, err := c.GetSection(ctx, "s"); err != nil {
			errs = append(errs, err.Error())
		}
	}
	// Basic mode against a server that rejects everything.
	b := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeNSXError(w, 403, 403, "bad credentials") })
	if _, err := b.client(func(c *Config) { c.Logger = logger }).GetSection(ctx, "s"); err != nil {
		errs = append(errs, err.Error())
	}
	// A wrong password echoed back by the server must be scrubbed from the error.
	pwMu.Lock()
	password = "wrong-" + testPassword
	pwMu.Unlock()
	_ = c.Logout(ctx)
	_, err := c.GetSection(ctx, "s")
	if err == nil {
		t.Fatal("login with the wrong password succeeded")
	}
	errs = append(errs, err.Error())
	if !strings.Contains(err.Error(), redacted) {
		t.Errorf("echoed password was not redacted: %v", err)
	}
	checkLogsAndErrors(t, logText(), append(errs, observedErrors(&obs)...), secretsIn("secretcookie", "secrettoken", "wrong-"+testPassword))
}

// verboseLogger returns a logger that records everything at every verbosity, and a function
// returning what it recorded.
func verboseLogger() (logr.Logger, func() string) {
	var mu sync.Mutex
	var logs bytes.Buffer
	logger := funcr.New(func(prefix, args string) {
		mu.Lock()
		fmt.Fprintln(&logs, prefix, args)
		mu.Unlock()
	}, funcr.Options{Verbosity: 10})
	return logger, func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
}

func observedErrors(obs *observerLog) []string {
	var errs []string
	for _, ci := range obs.all() {
		if ci.Err != nil {
			errs = append(errs, ci.Err.Error())
		}
	}
	return errs
}

// checkLogsAndErrors requires that the scenario retried and logged in again, and that no secret
// reached the logs or an error.
func checkLogsAndErrors(t *testing.T, logText string, errs, secrets []string) {
	t.Helper()
	if !strings.Contains(logText, "Retrying NSX request") || !strings.Contains(logText, "logging in again") {
		t.Fatalf("the scenario did not exercise retries and re-logins; logs:\n%s", logText)
	}
	assertNoSecrets(t, "logs", logText, secrets)
	assertNoSecrets(t, "errors", strings.Join(errs, "\n"), secrets)
}
