// Package live reads what microseg compiles from a running cluster, for kubectl-microseg's explain
// and matrix: ClusterSecurityPolicies, NetworkPolicies, Namespaces and Pods, with only the read
// rights of the "view" ClusterRole. Whatever it may not read it says so (Snapshot.Missing), and
// it falls back to reading the namespaces the question is about one by one.
package live

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/microseg/microseg/internal/pipeline"
)

// Connection are the flags that say which cluster to read, as kubectl's.
type Connection struct {
	Kubeconfig, Context, As string
	AsGroups                []string
}

// Bind registers --kubeconfig, --context and --as on fs.
func (c *Connection) Bind(fs *flag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&c.Context, "context", "", "kubeconfig context (default: the current one)")
	fs.StringVar(&c.As, "as", "", "user to impersonate, as kubectl --as (to see what a tenant with view rights sees)")
}

// Client connects to the cluster.
func (c Connection) Client() (Reader, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: c.Context}
	overrides.AuthInfo.Impersonate = c.As
	overrides.AuthInfo.ImpersonateGroups = c.AsGroups
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w (set --kubeconfig or $KUBECONFIG)", err)
	}
	return NewReader(cfg)
}

// Snapshot is the cluster as it could be read.
type Snapshot struct {
	World pipeline.World
	// Missing says what could not be read and what that leaves out, one sentence each.
	Missing []string
}

// Read lists the four kinds cluster-wide. Where a cluster-wide list is forbidden, it reads the
// focus namespaces one by one instead (the namespaces of the pods a question is about), and
// records what is missing. Other errors end the read.
func Read(ctx context.Context, c Reader, focus ...string) (Snapshot, error) {
	var s Snapshot
	csps, err := c.ListClusterSecurityPolicies(ctx)
	switch {
	case apierrors.IsForbidden(err):
		s.Missing = append(s.Missing, "ClusterSecurityPolicies: "+forbidden(err)+"; the Security and Baseline tiers are left out, so verdicts may be wrong (the view ClusterRole reads them: microseg-policy-viewer is aggregated into it)")
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		s.Missing = append(s.Missing, "ClusterSecurityPolicies: the CRD is not installed in this cluster")
	case err != nil:
		return s, fmt.Errorf("listing ClusterSecurityPolicies: %w", err)
	default:
		s.World.ClusterSecurityPolicies = csps
	}
	nss, err := c.ListNamespaces(ctx)
	switch {
	case apierrors.IsForbidden(err):
		s.Missing = append(s.Missing, "Namespaces: "+forbidden(err)+"; reading the focus namespaces one by one")
		for _, name := range focus {
			ns, err := c.GetNamespace(ctx, name)
			if err != nil {
				s.Missing = append(s.Missing, fmt.Sprintf("Namespace %s: %s; its labels are unknown, so namespace selectors may not match it", name, describeErr(err)))
				ns = &corev1.Namespace{}
				ns.Name, ns.Labels = name, map[string]string{"kubernetes.io/metadata.name": name}
			}
			s.World.Namespaces = append(s.World.Namespaces, *ns)
		}
	case err != nil:
		return s, fmt.Errorf("listing Namespaces: %w", err)
	default:
		s.World.Namespaces = nss
	}
	err = eachScope(ctx, &s, "Pods", focus, func(namespace string) error {
		l, err := c.ListPods(ctx, namespace)
		s.World.Pods = append(s.World.Pods, l...)
		return err
	})
	if err != nil {
		return s, err
	}
	err = eachScope(ctx, &s, "NetworkPolicies", focus, func(namespace string) error {
		l, err := c.ListNetworkPolicies(ctx, namespace)
		s.World.NetworkPolicies = append(s.World.NetworkPolicies, l...)
		return err
	})
	return s, err
}

// eachScope lists a namespaced kind cluster-wide, or the focus namespaces one by one when that is
// forbidden, recording what is missing.
func eachScope(ctx context.Context, s *Snapshot, kind string, focus []string, list func(namespace string) error) error {
	err := list("")
	switch {
	case err == nil:
		return nil
	case !apierrors.IsForbidden(err):
		return fmt.Errorf("listing %s: %w", kind, err)
	}
	namespaces := slices.Compact(slices.Sorted(slices.Values(focus)))
	s.Missing = append(s.Missing, fmt.Sprintf("%s of every namespace: %s; read in %s only, so pods elsewhere are left out (a rule that names them by address may then look different)",
		kind, forbidden(err), strings.Join(namespaces, ", ")))
	for _, ns := range namespaces {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := list(ns); err != nil {
			if !apierrors.IsForbidden(err) {
				return fmt.Errorf("listing %s in %s: %w", kind, ns, err)
			}
			s.Missing = append(s.Missing, fmt.Sprintf("%s in namespace %s: %s", kind, ns, forbidden(err)))
		}
	}
	return nil
}

func forbidden(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Message != "" {
		return "forbidden (" + status.Status().Message + ")"
	}
	return "forbidden"
}

func describeErr(err error) string {
	if apierrors.IsForbidden(err) {
		return forbidden(err)
	}
	return err.Error()
}
