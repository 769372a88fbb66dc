package operator_test

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/nsxclient"
)

// The operator's metrics endpoint, as config/default deploys it: HTTPS, every request's bearer
// token authenticated (TokenReview) and authorized for GET /metrics (SubjectAccessReview) by the
// API server, with the operator running as its service account under the ClusterRole generated
// from controllers/rbac.go, so the spec also proves that role may create those reviews.
var _ = Describe("the metrics endpoint", Ordered, func() {
	const scrapersNS = "monitoring"
	var (
		metricsURL, probesURL    string
		readerToken, otherToken  string
		httpsClient, plainClient *http.Client
	)

	BeforeAll(func(ctx context.Context) {
		ctrl.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
		applyConfig(ctx, "rbac/role.yaml", "rbac/role_binding.yaml", "rbac/metrics_reader_role.yaml")

		By("creating a scraper bound to microseg-metrics-reader, and another account that may read everything but it")
		Expect(admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scrapersNS}})).To(Succeed())
		readerToken = serviceAccountToken(ctx, scrapersNS, "prometheus", "microseg-metrics-reader")
		otherToken = serviceAccountToken(ctx, scrapersNS, "curious", "view")

		By("starting the operator's manager with the default (secure) metrics and an NSX simulator")
		const user, password = "microseg", "Metrics-Test-Passw0rd"
		sim := nsxsim.New(nsxsim.Options{Users: map[string]string{user: password}})
		nsx := httptest.NewTLSServer(sim)
		DeferCleanup(nsx.Close)
		operatorConfig, err := env.AddUser("system:serviceaccount:microseg-system:microseg-manager", "system:serviceaccounts")
		Expect(err).NotTo(HaveOccurred())
		metricsAddr, probesAddr := freeAddress(), freeAddress()
		mgr, err := operator.NewManager(operatorConfig, operator.ManagerOptions{MetricsBindAddress: metricsAddr, HealthProbeBindAddress: probesAddr})
		Expect(err).NotTo(HaveOccurred())
		// No pod and so no NCP port: auto could not tell the API, so the test names it.
		op, err := operator.Setup(mgr, operator.Options{ClusterID: "metrics-test", NSXAPI: "manager", NSX: nsxclient.Config{
			Host:        nsx.URL,
			CACertPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: nsx.Certificate().Raw}),
			Credentials: nsxclient.StaticCredentials(user, password),
			Timeout:     10 * time.Second,
		}})
		Expect(err).NotTo(HaveOccurred())
		runCtx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- mgr.Start(runCtx) }()
		DeferCleanup(func() { stop(); Eventually(done).Should(Receive(BeNil())) })
		Eventually(op.Synced).Should(BeTrue(), "the operator never synced with the simulator")

		metricsURL, probesURL = "https://"+metricsAddr+"/metrics", "http://"+probesAddr
		// The certificate is controller-runtime's self-signed one; what is under test is who may
		// read, not the certificate. ForceAttemptHTTP2 offers h2, which the server must decline.
		httpsClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, //nolint:gosec // self-signed test certificate
		}}
		plainClient = &http.Client{Timeout: 10 * time.Second}
		Eventually(func() error { _, err := httpsClient.Get(metricsURL); return err }).Should(Succeed(), "the metrics endpoint never listened")
	})

	It("answers 401 without a token", func(ctx context.Context) {
		code, body := get(ctx, httpsClient, metricsURL, "")
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(body).NotTo(ContainSubstring("microseg_"))
	})

	It("refuses a token the API server rejects (controller-runtime's filter answers 500 to any authentication error)", func(ctx context.Context) {
		code, body := get(ctx, httpsClient, metricsURL, "not-a-token")
		Expect(code).To(Equal(http.StatusInternalServerError), "README, Metrics, documents this answer: update it with the filter")
		Expect(body).To(ContainSubstring("Authentication failed"))
	})

	It("answers 403 to a valid token without the role, even one that may read every resource", func(ctx context.Context) {
		code, body := get(ctx, httpsClient, metricsURL, otherToken)
		Expect(code).To(Equal(http.StatusForbidden))
		Expect(body).To(ContainSubstring("system:serviceaccount:monitoring:curious"))
		Expect(body).NotTo(ContainSubstring("microseg_"))
	})

	It("serves microseg's metrics and controller-runtime's to a token bound to microseg-metrics-reader", func(ctx context.Context) {
		code, body := get(ctx, httpsClient, metricsURL, readerToken)
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(body).To(ContainSubstring("# TYPE microseg_sync_duration_seconds histogram"))
		Expect(body).To(MatchRegexp(`microseg_sync_duration_seconds_count\{result="success"\} [1-9]`))
		Expect(body).To(MatchRegexp(`microseg_nsx_calls_total\{.*\} [1-9]`))
		Expect(body).To(ContainSubstring("microseg_last_successful_sync_timestamp_seconds"))
		Expect(body).To(ContainSubstring(`microseg_nsx_api{api="manager"} 1`))
		Expect(body).To(ContainSubstring("controller_runtime_reconcile_total"))
	})

	It("speaks only TLS, and only HTTP/1.1", func() {
		resp, err := httpsClient.Get(metricsURL)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.Proto).To(Equal("HTTP/1.1"))
		// Plain HTTP (which would carry the token in clear) never reaches the handler: the TLS
		// handshake fails, and Go's TLS server either drops the connection or answers 400.
		resp, err = plainClient.Get(strings.Replace(metricsURL, "https://", "http://", 1))
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusBadRequest))
			Expect(string(body)).To(ContainSubstring("HTTP request to an HTTPS server"))
		}
	})

	It("keeps the health probes open: plain HTTP, no token", func(ctx context.Context) {
		for _, path := range []string{"/healthz", "/readyz"} {
			code, body := get(ctx, plainClient, probesURL+path, "")
			Expect(code).To(Equal(http.StatusOK), "%s: %s", path, body)
		}
	})
})

// serviceAccountToken creates a service account bound cluster-wide to role and returns a token
// for it from the TokenRequest API, as a scraper's pod would get one.
func serviceAccountToken(ctx context.Context, namespace, name, role string) string {
	Expect(admin.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}})).To(Succeed())
	Expect(admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: namespace + "-" + name + "-" + role},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}},
	})).To(Succeed())
	cs, err := kubernetes.NewForConfig(env.Config)
	Expect(err).NotTo(HaveOccurred())
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return tr.Status.Token
}

func get(ctx context.Context, c *http.Client, url, token string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, string(body)
}

// freeAddress is a loopback address with a port nobody listens on right now.
func freeAddress() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}
