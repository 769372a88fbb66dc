// Package kinds is the Kubernetes scheme of every kind microseg reads or writes, for the operator
// and for the CLI's live reads alike (a package of its own so that the CLI does not link the
// operator).
package kinds

import (
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// Scheme holds the built-in kinds and microseg's ClusterSecurityPolicy.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(securityv1alpha1.AddToScheme(s))
	return s
}
