package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/testenv"
)

type scenario struct {
	c client.Client
}

func newScenario(env *testenv.Env) (*scenario, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := securityv1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	return &scenario{c: c}, nil
}

// apply creates every object of the directory, namespaces first.
func (s *scenario) apply(ctx context.Context, dir string) error {
	objs, err := manifest.ReadPaths(dir)
	if err != nil {
		return err
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
	for _, o := range objs {
		if err := s.c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), name(o), err)
		}
	}
	return nil
}

func (s *scenario) waitForPods(ctx context.Context, want int) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		pods := &corev1.PodList{}
		if err := s.c.List(ctx, pods); err != nil {
			return err
		}
		if len(pods.Items) >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-controller-manager created %d of %d pods in 60s", len(pods.Items), want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (s *scenario) print(ctx context.Context, out io.Writer) error {
	csps := &securityv1alpha1.ClusterSecurityPolicyList{}
	if err := s.c.List(ctx, csps); err != nil {
		return err
	}
	nps := &networkingv1.NetworkPolicyList{}
	if err := s.c.List(ctx, nps); err != nil {
		return err
	}
	pods := &corev1.PodList{}
	if err := s.c.List(ctx, pods); err != nil {
		return err
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nCLUSTERSECURITYPOLICY\tTIER\tPRIORITY\tINGRESS RULES\tEGRESS RULES")
	for _, p := range csps.Items {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", p.Name, p.Spec.Tier, p.Spec.Priority, len(p.Spec.Ingress), len(p.Spec.Egress))
	}
	fmt.Fprintln(w, "\nNETWORKPOLICY\tNAMESPACE\tPOD SELECTOR")
	for _, p := range nps.Items {
		fmt.Fprintf(w, "%s\t%s\t%v\n", p.Name, p.Namespace, p.Spec.PodSelector.MatchLabels)
	}
	fmt.Fprintln(w, "\nPOD\tNAMESPACE\tLABELS")
	for _, p := range pods.Items {
		fmt.Fprintf(w, "%s\t%s\t%v\n", p.Name, p.Namespace, p.Labels)
	}
	return w.Flush()
}

func name(o *unstructured.Unstructured) string {
	if o.GetNamespace() != "" {
		return o.GetNamespace() + "/" + o.GetName()
	}
	return o.GetName()
}
