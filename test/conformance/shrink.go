package conformance

import (
	"context"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/test/conformance/oracle"
)

// Shrink reduces a world to a small one in which the flow still shows the same disagreement in
// direction d (microseg and the oracle give the same verdicts as in the original). It removes
// objects, rules, peers, ports, pods, namespaces and labels one at a time, greedily, until
// nothing more can go or the budget runs out.
func Shrink(ctx context.Context, o *oracle.Oracle, w pipeline.World, opts pipeline.Options, f Flow, d direction, budget time.Duration) (pipeline.World, Outcome) {
	deadline := time.Now().Add(budget)
	var want Outcome
	still := func(c pipeline.World) (Outcome, bool) {
		norm, err := Normalize(c)
		if err != nil {
			return Outcome{}, false
		}
		out, _, err := Compare(ctx, o, norm, opts, []Flow{f})
		if err != nil || len(out) != 1 {
			return Outcome{}, false
		}
		oc := out[0]
		return oc, oc.Status[d] == Disagree && oc.Oracle[d] == want.Oracle[d] && oc.MicrosegAllows(d) == want.MicrosegAllows(d)
	}
	norm, _ := Normalize(w)
	out, _, err := Compare(ctx, o, norm, opts, []Flow{f})
	if err != nil || len(out) != 1 || out[0].Status[d] != Disagree {
		return w, Outcome{}
	}
	want = out[0]
	cur, best := norm, want
	for progress := true; progress && time.Now().Before(deadline); {
		progress = false
		for _, cand := range candidates(cur, f) {
			if time.Now().After(deadline) {
				break
			}
			if oc, ok := still(cand); ok {
				cur, best, progress = cand, oc, true
				break
			}
		}
	}
	cur, _ = Normalize(cur)
	return cur, best
}

// candidates are the worlds one step smaller than w.
func candidates(w pipeline.World, f Flow) []pipeline.World {
	var out []pipeline.World
	clone := func() pipeline.World {
		var c pipeline.World
		for _, x := range w.Namespaces {
			c.Namespaces = append(c.Namespaces, *x.DeepCopy())
		}
		for _, x := range w.Pods {
			c.Pods = append(c.Pods, *x.DeepCopy())
		}
		for _, x := range w.NetworkPolicies {
			c.NetworkPolicies = append(c.NetworkPolicies, *x.DeepCopy())
		}
		for _, x := range w.ClusterSecurityPolicies {
			c.ClusterSecurityPolicies = append(c.ClusterSecurityPolicies, *x.DeepCopy())
		}
		return c
	}
	// whole objects
	for i := range w.ClusterSecurityPolicies {
		c := clone()
		c.ClusterSecurityPolicies = append(c.ClusterSecurityPolicies[:i], c.ClusterSecurityPolicies[i+1:]...)
		out = append(out, c)
	}
	for i := range w.NetworkPolicies {
		c := clone()
		c.NetworkPolicies = append(c.NetworkPolicies[:i], c.NetworkPolicies[i+1:]...)
		out = append(out, c)
	}
	for i, p := range w.Pods {
		if (pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}) == f.Src || (pipeline.PodRef{Namespace: p.Namespace, Name: p.Name}) == f.Dst {
			continue
		}
		c := clone()
		c.Pods = append(c.Pods[:i], c.Pods[i+1:]...)
		out = append(out, c)
	}
	for i, ns := range w.Namespaces {
		if ns.Name == f.Src.Namespace || ns.Name == f.Dst.Namespace {
			continue
		}
		c := clone()
		c.Namespaces = append(c.Namespaces[:i], c.Namespaces[i+1:]...)
		var pods []corev1.Pod
		for _, p := range c.Pods {
			if p.Namespace != ns.Name {
				pods = append(pods, p)
			}
		}
		c.Pods = pods
		var nps []networkingv1.NetworkPolicy
		for _, np := range c.NetworkPolicies {
			if np.Namespace != ns.Name {
				nps = append(nps, np)
			}
		}
		c.NetworkPolicies = nps
		out = append(out, c)
	}
	// rules
	for i, csp := range w.ClusterSecurityPolicies {
		for j := range csp.Spec.Ingress {
			c := clone()
			s := &c.ClusterSecurityPolicies[i].Spec
			s.Ingress = append(s.Ingress[:j], s.Ingress[j+1:]...)
			out = append(out, c)
		}
		for j := range csp.Spec.Egress {
			c := clone()
			s := &c.ClusterSecurityPolicies[i].Spec
			s.Egress = append(s.Egress[:j], s.Egress[j+1:]...)
			out = append(out, c)
		}
	}
	for i, np := range w.NetworkPolicies {
		for j := range np.Spec.Ingress {
			c := clone()
			s := &c.NetworkPolicies[i].Spec
			s.Ingress = append(s.Ingress[:j], s.Ingress[j+1:]...)
			out = append(out, c)
		}
		for j := range np.Spec.Egress {
			c := clone()
			s := &c.NetworkPolicies[i].Spec
			s.Egress = append(s.Egress[:j], s.Egress[j+1:]...)
			out = append(out, c)
		}
	}
	// peers and ports
	for i, csp := range w.ClusterSecurityPolicies {
		for j, r := range csp.Spec.Ingress {
			for k := range r.From {
				if len(r.From) > 1 {
					c := clone()
					rr := &c.ClusterSecurityPolicies[i].Spec.Ingress[j]
					rr.From = append(rr.From[:k], rr.From[k+1:]...)
					out = append(out, c)
				}
			}
			out = append(out, dropCSPPorts(clone, i, j, true, len(r.Ports))...)
		}
		for j, r := range csp.Spec.Egress {
			for k := range r.To {
				if len(r.To) > 1 {
					c := clone()
					rr := &c.ClusterSecurityPolicies[i].Spec.Egress[j]
					rr.To = append(rr.To[:k], rr.To[k+1:]...)
					out = append(out, c)
				}
			}
			out = append(out, dropCSPPorts(clone, i, j, false, len(r.Ports))...)
		}
	}
	for i, np := range w.NetworkPolicies {
		for j, r := range np.Spec.Ingress {
			for k := range r.From {
				c := clone()
				rr := &c.NetworkPolicies[i].Spec.Ingress[j]
				rr.From = append(rr.From[:k], rr.From[k+1:]...)
				if len(rr.From) == 0 {
					continue // an empty list would widen the rule to every source
				}
				out = append(out, c)
			}
			for k := range r.Ports {
				c := clone()
				rr := &c.NetworkPolicies[i].Spec.Ingress[j]
				rr.Ports = append(rr.Ports[:k], rr.Ports[k+1:]...)
				if len(rr.Ports) == 0 {
					continue
				}
				out = append(out, c)
			}
		}
		for j, r := range np.Spec.Egress {
			for k := range r.To {
				c := clone()
				rr := &c.NetworkPolicies[i].Spec.Egress[j]
				rr.To = append(rr.To[:k], rr.To[k+1:]...)
				if len(rr.To) == 0 {
					continue
				}
				out = append(out, c)
			}
			for k := range r.Ports {
				c := clone()
				rr := &c.NetworkPolicies[i].Spec.Egress[j]
				rr.Ports = append(rr.Ports[:k], rr.Ports[k+1:]...)
				if len(rr.Ports) == 0 {
					continue
				}
				out = append(out, c)
			}
		}
	}
	// labels and container ports
	for i, p := range w.Pods {
		for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
			c := clone()
			delete(c.Pods[i].Labels, k)
			out = append(out, c)
		}
		for ci, ctr := range p.Spec.Containers {
			for k := range ctr.Ports {
				c := clone()
				cc := &c.Pods[i].Spec.Containers[ci]
				cc.Ports = append(cc.Ports[:k], cc.Ports[k+1:]...)
				out = append(out, c)
			}
		}
		if len(p.Spec.InitContainers) > 0 {
			c := clone()
			c.Pods[i].Spec.InitContainers = nil
			out = append(out, c)
		}
	}
	for i, ns := range w.Namespaces {
		for _, k := range slices.Sorted(maps.Keys(ns.Labels)) {
			if k == namespaceNameLabel {
				continue
			}
			c := clone()
			delete(c.Namespaces[i].Labels, k)
			out = append(out, c)
		}
	}
	return out
}

func dropCSPPorts(clone func() pipeline.World, i, j int, in bool, n int) []pipeline.World {
	var out []pipeline.World
	for k := range n {
		if n == 1 {
			break // no ports would widen the rule to every port
		}
		c := clone()
		var ports *[]securityv1alpha1.Port
		if in {
			ports = &c.ClusterSecurityPolicies[i].Spec.Ingress[j].Ports
		} else {
			ports = &c.ClusterSecurityPolicies[i].Spec.Egress[j].Ports
		}
		*ports = append((*ports)[:k], (*ports)[k+1:]...)
		out = append(out, c)
	}
	return out
}
