package apiserver_test

import (
	"context"

	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func discoveryFor(cfg *rest.Config) *discovery.DiscoveryClient {
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	return d
}

// printColumns returns the names of the CRD's additional printer columns (what `kubectl get csp`
// shows besides NAME).
func printColumns(ctx context.Context) []string {
	s := scheme
	Expect(apiextensionsv1.AddToScheme(s)).To(Succeed())
	c, err := client.New(env.Config, client.Options{Scheme: s})
	Expect(err).NotTo(HaveOccurred())
	crd := &apiextensionsv1.CustomResourceDefinition{}
	Expect(c.Get(ctx, client.ObjectKey{Name: "clustersecuritypolicies.security.microseg.io"}, crd)).To(Succeed())
	var names []string
	for _, v := range crd.Spec.Versions {
		for _, col := range v.AdditionalPrinterColumns {
			names = append(names, col.Name)
		}
	}
	return names
}
