package operator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/certs"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/operator"
)

// Certificates rotate under a running operator: the NSX Manager's certificate is re-issued by a
// new CA (and --nsx-ca-file rewritten), and the operator's client certificate is re-issued by a
// new CA the manager now requires (and --nsx-client-cert/--nsx-client-key rewritten). The operator
// is configured from its flags, as main.go does, and never restarted; it must be syncing again
// within the files' check interval.
var _ = Describe("certificates rotated under a running operator", Ordered, func() {
	It("trusts the manager's new CA and presents its new client certificate without a restart", func(ctx context.Context) {
		ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
		dir := GinkgoT().TempDir()
		serverCA1, serverCA2 := newCA("nsx-ca-1"), newCA("nsx-ca-2")
		clientCA1, clientCA2 := newCA("pi-ca-1"), newCA("pi-ca-2")

		// The manager's side: its certificate and the CA it requires of clients, swappable.
		type serverSide struct {
			cert      tls.Certificate
			clientCAs *x509.CertPool
		}
		var side atomic.Pointer[serverSide]
		side.Store(&serverSide{cert: serverCert(serverCA1), clientCAs: clientCA1.Pool})
		var okAnswers atomic.Int64
		sim := nsxsim.New(nsxsim.Options{ClientCertCNs: []string{"microseg"}})
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
			sim.ServeHTTP(rec, r)
			if rec.status < 300 {
				okAnswers.Add(1)
			}
		}))
		srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			s := side.Load()
			return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{s.cert},
				ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: s.clientCAs}, nil
		}}
		srv.Config.ErrorLog = quietServerLog() // refused handshakes are the point of the middle part
		srv.StartTLS()
		DeferCleanup(srv.Close)

		caFile, certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
		writeFile(caFile, serverCA1.PEM)
		writeKeyPair(certFile, keyFile, clientCert(clientCA1))

		By("starting the operator from its flags: client certificate auth, --nsx-ca-file")
		fs := flag.NewFlagSet("microseg", flag.ContinueOnError)
		flags := operator.BindFlags(fs)
		Expect(fs.Parse([]string{"--nsx-url=" + srv.URL, "--cluster-id=rotation-test", "--nsx-api=manager", "--nsx-auth=cert",
			"--nsx-client-cert=" + certFile, "--nsx-client-key=" + keyFile, "--nsx-ca-file=" + caFile,
			"--resync-period=1s", "--metrics-bind-address=0", "--health-probe-bind-address=0"})).To(Succeed())
		opts, mo, err := flags.Options(logr.Discard())
		Expect(err).NotTo(HaveOccurred())
		opts.RetryMaxDelay = 2 * time.Second   // retry the failing syncs of the middle part quickly
		mo.SkipControllerNameValidation = true // the other specs of this process run operators too
		mgr, err := operator.NewManager(env.Config, mo)
		Expect(err).NotTo(HaveOccurred())
		op, err := operator.Setup(mgr, opts)
		Expect(err).NotTo(HaveOccurred())
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- mgr.Start(runCtx) }()
		DeferCleanup(func() { stop(); Eventually(done).Should(Receive(BeNil())) })
		Eventually(op.Synced).Should(BeTrue(), "the operator never synced with the manager")

		By("re-issuing the manager's certificate from a new CA: the operator stops getting through")
		side.Store(&serverSide{cert: serverCert(serverCA2), clientCAs: clientCA1.Pool})
		srv.CloseClientConnections()
		time.Sleep(time.Second) // let the syncs in flight finish
		before := okAnswers.Load()
		Consistently(okAnswers.Load, 3*time.Second).Should(Equal(before), "a request got through to a manager whose CA the operator does not trust")

		By("rotating --nsx-ca-file: the operator trusts the new CA without a restart")
		writeFile(caFile, serverCA2.PEM)
		Eventually(okAnswers.Load, 30*time.Second).Should(BeNumerically(">", before+2))

		By("requiring client certificates of a new CA: the old one is refused")
		side.Store(&serverSide{cert: serverCert(serverCA2), clientCAs: clientCA2.Pool})
		srv.CloseClientConnections()
		time.Sleep(time.Second)
		before = okAnswers.Load()
		Consistently(okAnswers.Load, 3*time.Second).Should(Equal(before), "the manager accepted a client certificate of a CA it no longer trusts")

		By("rotating --nsx-client-cert and --nsx-client-key: the operator presents the new certificate without a restart")
		writeKeyPair(certFile, keyFile, clientCert(clientCA2))
		Eventually(okAnswers.Load, 30*time.Second).Should(BeNumerically(">", before+2))
	})
})

// statusRecorder remembers the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func writeFile(name string, data []byte) {
	// Write then rename, as kubelet updates a mounted Secret: a reader never sees half a file.
	tmp := name + ".tmp"
	Expect(os.WriteFile(tmp, data, 0o600)).To(Succeed())
	Expect(os.Rename(tmp, name)).To(Succeed())
}

func writeKeyPair(certFile, keyFile string, c tls.Certificate) {
	key, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	Expect(err).NotTo(HaveOccurred())
	writeFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}))
	writeFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}))
}

func quietServerLog() *log.Logger { return log.New(io.Discard, "", 0) }

func newCA(name string) *certs.CA {
	ca, err := certs.NewCA(name, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	Expect(err).NotTo(HaveOccurred())
	return ca
}

// serverCert is the manager's certificate for the loopback address the test server listens on.
func serverCert(ca *certs.CA) tls.Certificate {
	c, err := ca.Server("nsx", "127.0.0.1")
	Expect(err).NotTo(HaveOccurred())
	return c
}

// clientCert is microseg's principal identity, subject CN "microseg".
func clientCert(ca *certs.CA) tls.Certificate {
	c, err := ca.Client("microseg")
	Expect(err).NotTo(HaveOccurred())
	return c
}
