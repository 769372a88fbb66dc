package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/microseg/microseg/internal/simnsx"
)

func TestServeTLSWithVerifiedCA(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cfg, err := parseFlags([]string{"--listen", "127.0.0.1:0", "--tls", "--ca-out", caFile, "--user", "u", "--password", "pw-not-printed"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out simnsx.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, &out, io.Discard) }()

	url := waitForURL(t, &out)
	if !strings.Contains(out.String(), "nsxsim: serving NSX-T Manager API at https://127.0.0.1:") || !strings.Contains(out.String(), "(user u)") {
		t.Fatalf("banner %q", out.String())
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no CA in --ca-out file")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	req, _ := http.NewRequest("GET", url+"/api/v1/firewall/sections", nil)
	req.SetBasicAuth("u", "pw-not-printed")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	if strings.Contains(out.String(), "pw-not-printed") {
		t.Fatal("the password was printed")
	}
}

func TestFlagErrors(t *testing.T) {
	t.Setenv("NSXSIM_PASSWORD", "")
	if _, err := parseFlags([]string{"--user", "u"}, io.Discard); err == nil {
		t.Fatal("a missing password must be an error")
	}
	if _, err := parseFlags([]string{"--password", "p", "--ca-out", "x"}, io.Discard); err == nil {
		t.Fatal("--ca-out without --tls must be an error")
	}
}

var urlPattern = regexp.MustCompile(`https?://[0-9.:]+`)

func waitForURL(t *testing.T, out *simnsx.SyncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if u := urlPattern.FindString(out.String()); u != "" {
			return u
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no URL printed: %q", out.String())
	return ""
}
