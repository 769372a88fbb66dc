package nsxconn

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"

	"github.com/microseg/microseg/nsxclient"
)

func TestFlagsClientCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeKeyPair(t, certFile, keyFile, 7)
	var f Flags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	f.Bind(fs)
	if err := fs.Parse([]string{"--nsx-url=https://nsx", "--nsx-auth=cert", "--nsx-client-cert=" + certFile, "--nsx-client-key=" + keyFile}); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.NSXConfig(logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuthMode != nsxclient.AuthClientCert || cfg.GetClientCertificate == nil || cfg.Credentials != nil {
		t.Errorf("NSX config %v", cfg)
	}
	if _, err := nsxclient.New(cfg); err != nil {
		t.Errorf("the client rejects the configuration: %v", err)
	}
}
