package operator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/operator"
	"github.com/microseg/microseg/internal/testenv"
)

// The envtest specs of this package start the operator's manager the way main.go does, against a
// real kube-apiserver, to prove what only a real API server can: who may read the metrics.

var (
	env   *testenv.Env
	admin client.Client
)

func TestOperatorAgainstAPIServer(t *testing.T) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Skip("KUBEBUILDER_ASSETS is not set: run `make test`, or export KUBEBUILDER_ASSETS=$(hack/controlplane.sh), to run the operator's manager against a real kube-apiserver")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "the operator's manager against a real kube-apiserver")
}

var _ = BeforeSuite(func(ctx context.Context) {
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	EnforceDefaultTimeoutsWhenUsingContexts()
	var err error
	env, err = testenv.Start(ctx, testenv.Options{})
	Expect(err).NotTo(HaveOccurred())
	admin, err = client.New(env.Config, client.Options{Scheme: operator.Scheme()})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})

// applyConfig creates the objects of files under config/.
func applyConfig(ctx context.Context, files ...string) {
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	for i, f := range files {
		files[i] = filepath.Join(root, "config", f)
	}
	objs, err := manifest.ReadPaths(files...)
	Expect(err).NotTo(HaveOccurred())
	for _, o := range objs {
		Expect(admin.Create(ctx, o)).To(Succeed(), "creating %s %s", o.GetKind(), o.GetName())
	}
}
