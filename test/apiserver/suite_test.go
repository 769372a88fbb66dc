// Package apiserver_test proves microseg's API against a real kube-apiserver (envtest): the CRD
// installs, CEL and OpenAPI validation reject malformed policies with clear messages, RBAC keeps
// ClusterSecurityPolicies in the security team's hands, and the samples are valid.
package apiserver_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/testenv"
)

var (
	env    *testenv.Env
	scheme = runtime.NewScheme()
	admin  client.Client
)

func TestAPIServer(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ClusterSecurityPolicy API against a real kube-apiserver")
}

var _ = BeforeSuite(func(ctx context.Context) {
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(securityv1alpha1.AddToScheme(scheme)).To(Succeed())
	var err error
	// The aggregation controller of kube-controller-manager folds microseg-policy-viewer into the
	// built-in view/edit/admin roles, exactly as in a real cluster.
	env, err = testenv.Start(ctx, testenv.Options{ControllerManagerControllers: []string{"clusterrole-aggregation"}})
	Expect(err).NotTo(HaveOccurred())
	admin, err = client.New(env.Config, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if env != nil {
		Expect(env.Stop()).To(Succeed())
	}
})
