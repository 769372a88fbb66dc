package pipeline

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/internal/reference"
	"github.com/microseg/microseg/internal/testenv"
)

// The forged-identity world: the reference scenario plus testdata/forgery (see its README): pods
// that carry labels in NCP's identity scopes, and policies in which a pod's namespace decides
// something in every position a tag group takes.

// The pods of testdata/forgery/spoofers.yaml, with the labels they forge.
var (
	spoofer      = PodRef{"x1", "spoofer"}               // ncp/project=z1, app=service-c
	spooferCase  = PodRef{"x1", "spoofer-case"}          // ncp/Project=z1, app=service-c
	spooferD     = PodRef{"x1", "spoofer-d"}             // ncp/project=z1, app=service-d
	spooferPod   = PodRef{"x1", "spoofer-pod"}           // ncp/pod=service-c-0, app=service-c
	spooferOwn   = PodRef{"x1", "spoofer-cluster"}       // ncp/cluster=<this cluster>, app=service-c
	spooferOther = PodRef{"x1", "spoofer-other-cluster"} // ncp/cluster=another-cluster, ncp/project=z1
	spooferA     = PodRef{"z1", "spoofer-a"}             // ncp/project=x1, app=service-a
	// Every spoofer of x1 runs a pod that z1's identity would let through somewhere.
	x1Spoofers = []PodRef{spoofer, spooferCase, spooferD, spooferPod, spooferOwn, spooferOther}
)

// Addresses outside the cluster that policies of the world name.
const (
	partnerAPI = "192.0.2.10"    // only z1 may reach it (Security tier, subject by namespace)
	monitoring = "203.0.113.5"   // only z1 is scraped (Security tier, subject by namespace)
	reporting  = "198.51.100.20" // only z1 may reach it (Baseline tier, subject by namespace)
)

func forgeryWorld(t *testing.T) World {
	return worldFrom(t, "config/samples", "internal/pipeline/testdata/forgery")
}

// worldFrom reads the manifests under these directories of the project.
func worldFrom(t *testing.T, dirs ...string) World {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(dirs))
	for i, d := range dirs {
		paths[i] = filepath.Join(root, filepath.FromSlash(d))
	}
	objs, err := manifest.ReadPaths(paths...)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// withoutReservedLabels is the world as the compiler saw it before it checked for forged labels:
// it took pod labels never to override NCP's tags, which is compiling as if they were not there.
func withoutReservedLabels(w World) World {
	out := w
	out.Pods = slices.Clone(w.Pods)
	for i := range out.Pods {
		p := &out.Pods[i]
		p.Labels = maps.Clone(p.Labels)
		for _, k := range ncptags.ReservedLabels(p.Labels) {
			delete(p.Labels, k)
		}
	}
	return out
}

type prober struct {
	t   *testing.T
	ctx context.Context
	r   *Realized
}

func (p prober) pods(src, dst PodRef, proto string, port int) Verdict {
	p.t.Helper()
	v, err := p.r.Probe(p.ctx, src, dst, proto, port, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

func (p prober) ips(src, dst, proto string, port int) Verdict {
	p.t.Helper()
	v, err := p.r.ProbeIP(p.ctx, src, dst, proto, port)
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

func (p prober) addr(pod PodRef) string {
	p.t.Helper()
	a := p.r.Addresses(pod)
	if len(a) == 0 {
		p.t.Fatalf("%s has no address", pod)
	}
	return a[0]
}

// expectSide checks one side of a verdict: its action and the object and rule that decided.
func expectSide(t *testing.T, what string, s Side, action, object, rule string) {
	t.Helper()
	if s.Action != action || s.Object != object || s.Rule != rule {
		t.Errorf("%s: %s by %q rule %q (tier %s); want %s by %q rule %q", what, s.Action, s.Object, s.Rule, s.Tier, action, object, rule)
	}
}

// TestForgedIdentityLabelsGainNothing runs the forged-identity world through the real pipeline
// (compile → plan → apply into the simulator, whose ports the NCP emulator's layout tags with every
// label → Traceflow) and checks that no spoofer is taken for another namespace's pod in either
// tier or direction, as a peer or as a subject, while the pods it imitates keep their access —
// on either NSX API (in Policy mode the forged labels land on the pods' segment ports).
func TestForgedIdentityLabelsGainNothing(t *testing.T) {
	for _, api := range []string{APIManager, APIPolicy} {
		t.Run(api, func(t *testing.T) { forgedIdentityLabelsGainNothing(t, api) })
	}
}

func forgedIdentityLabelsGainNothing(t *testing.T, api string) {
	ctx := context.Background()
	w := forgeryWorld(t)
	r, err := Run(ctx, w, Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	p := prober{t, ctx, r}
	const port = reference.ServedPort

	t.Run("the reference table still holds", func(t *testing.T) {
		for _, row := range reference.Table {
			for i := range 2 {
				for j := range 2 {
					src := PodRef{reference.Namespace[row.From], fmt.Sprintf("%s-%d", row.From, i)}
					dst := PodRef{reference.Namespace[row.To], fmt.Sprintf("%s-%d", row.To, j)}
					if v := p.pods(src, dst, "TCP", port); v.Allowed != row.Allowed {
						t.Errorf("%s → %s: allowed=%v, want %v", src, dst, v.Allowed, row.Allowed)
					}
				}
			}
		}
	})

	t.Run("the spoofers of x1 reach none of z1's pods and not the vault, on any port", func(t *testing.T) {
		var targets []PodRef
		for _, dst := range r.Pods() {
			if dst.Namespace == "z1" || dst.Namespace == "w1" {
				targets = append(targets, dst)
			}
		}
		for _, src := range x1Spoofers {
			for _, dst := range targets {
				for _, svc := range []struct {
					proto string
					port  int
				}{{"TCP", port}, {"TCP", 80}, {"TCP", 443}, {"UDP", 53}, {"SCTP", port}} {
					if v := p.pods(src, dst, svc.proto, svc.port); v.Allowed {
						t.Errorf("%s → %s %s/%d allowed (egress %+v, ingress %+v)", src, dst, svc.proto, svc.port, v.Egress, v.Ingress)
					}
				}
			}
		}
	})

	t.Run("Security tier, ingress peer: service-d rejects the spoofer, accepts service-c", func(t *testing.T) {
		for _, src := range x1Spoofers {
			v := p.pods(src, PodRef{"z1", "service-d-0"}, "TCP", port)
			expectSide(t, src.String()+" → service-d ingress", v.Ingress, "REJECT", "ClusterSecurityPolicy/protect-service-d", "ingress/reject-everyone-else")
		}
		v := p.pods(PodRef{"z1", "service-c-1"}, PodRef{"z1", "service-d-0"}, "TCP", port)
		expectSide(t, "service-c → service-d ingress", v.Ingress, "ALLOW", "ClusterSecurityPolicy/protect-service-d", "ingress/allow-service-c")
	})

	t.Run("Security tier, Pass (excluded list): a forged replica of service-d is not passed on", func(t *testing.T) {
		v := p.pods(spooferD, PodRef{"z1", "service-d-1"}, "TCP", port)
		expectSide(t, "spoofer-d → service-d ingress", v.Ingress, "REJECT", "ClusterSecurityPolicy/protect-service-d", "ingress/reject-everyone-else")
		v = p.pods(PodRef{"z1", "service-d-0"}, PodRef{"z1", "service-d-1"}, "TCP", port)
		if v.Ingress.Tier == "Security" {
			t.Errorf("service-d's own replica is decided in the Security tier (%+v); the Pass should hand it on", v.Ingress)
		}
	})

	t.Run("Security tier, egress peer: service-a may not send to the spoofer, may to service-c", func(t *testing.T) {
		for _, dst := range []PodRef{spoofer, spooferCase, spooferOther} {
			v := p.pods(PodRef{"x1", "service-a-0"}, dst, "TCP", port)
			expectSide(t, "service-a → "+dst.String()+" egress", v.Egress, "DROP", "ClusterSecurityPolicy/service-a-egress", "egress/nothing-else")
		}
		v := p.pods(PodRef{"x1", "service-a-0"}, PodRef{"z1", "service-c-0"}, "TCP", port)
		expectSide(t, "service-a → service-c egress", v.Egress, "ALLOW", "ClusterSecurityPolicy/service-a-egress", "egress/to-service-c")
	})

	t.Run("Security tier, subject by namespace: only z1 reaches the partner API and is scraped", func(t *testing.T) {
		for _, src := range x1Spoofers {
			v := p.ips(p.addr(src), partnerAPI, "TCP", 443)
			expectSide(t, src.String()+" → partner API egress", v.Egress, "DROP", "ClusterSecurityPolicy/partner-api-only-z1", "egress/deny-partner-api")
			v = p.ips(monitoring, p.addr(src), "TCP", port)
			expectSide(t, "monitoring → "+src.String()+" ingress", v.Ingress, "DROP", "ClusterSecurityPolicy/monitoring-only-z1", "ingress/deny-monitoring")
		}
		c := p.addr(PodRef{"z1", "service-c-0"})
		expectSide(t, "service-c → partner API egress", p.ips(c, partnerAPI, "TCP", 443).Egress, "ALLOW", "ClusterSecurityPolicy/z1-partner-api", "egress/allow-partner-api")
		expectSide(t, "monitoring → service-c ingress", p.ips(monitoring, c, "TCP", port).Ingress, "ALLOW", "ClusterSecurityPolicy/z1-monitoring", "ingress/allow-monitoring")
	})

	t.Run("Baseline tier, peer and subject by namespace: only z1 reaches the vault and the reporting service", func(t *testing.T) {
		vault := PodRef{"w1", "vault-0"}
		for _, src := range x1Spoofers {
			v := p.pods(src, vault, "TCP", port)
			expectSide(t, src.String()+" → vault ingress", v.Ingress, "DROP", "ClusterSecurityPolicy/baseline-vault", "ingress/deny-other-pods")
			v = p.ips(p.addr(src), reporting, "TCP", 443)
			expectSide(t, src.String()+" → reporting egress", v.Egress, "DROP", "ClusterSecurityPolicy/baseline-reporting-only-z1", "egress/deny-reporting")
		}
		v := p.pods(PodRef{"z1", "service-c-0"}, vault, "TCP", port)
		expectSide(t, "service-c → vault ingress", v.Ingress, "ALLOW", "ClusterSecurityPolicy/baseline-vault", "ingress/allow-z1")
		v = p.ips(p.addr(PodRef{"z1", "service-c-0"}), reporting, "TCP", 443)
		expectSide(t, "service-c → reporting egress", v.Egress, "ALLOW", "ClusterSecurityPolicy/baseline-z1-reporting", "egress/allow-reporting")
	})

	t.Run("Developer tier, ingress peer: service-c's NetworkPolicy does not take z1's spoofer for service-a", func(t *testing.T) {
		for i := range 2 {
			dst := PodRef{"z1", fmt.Sprintf("service-c-%d", i)}
			v := p.pods(spooferA, dst, "TCP", port)
			expectSide(t, "spoofer-a → "+dst.Name+" ingress", v.Ingress, "DROP", "NetworkPolicy/z1/service-c-from-a-and-b", "isolate/ingress")
			v = p.pods(PodRef{"x1", "service-a-1"}, dst, "TCP", port)
			expectSide(t, "service-a → "+dst.Name+" ingress", v.Ingress, "ALLOW", "NetworkPolicy/z1/service-c-from-a-and-b", "ingress/0")
		}
	})

	t.Run("every rule a spoofer affected says so, and every spoofer is named", func(t *testing.T) {
		onRules, onPods := forgeryWarnings(r.Model)
		for _, want := range []string{
			"ClusterSecurityPolicy/protect-service-d ingress/allow-service-c", "ClusterSecurityPolicy/protect-service-d ingress/reject-everyone-else",
			"ClusterSecurityPolicy/service-a-egress egress/to-service-c", "ClusterSecurityPolicy/z1-partner-api egress/allow-partner-api",
			"ClusterSecurityPolicy/z1-monitoring ingress/allow-monitoring", "ClusterSecurityPolicy/baseline-vault ingress/allow-z1",
			"ClusterSecurityPolicy/baseline-z1-reporting egress/allow-reporting", "NetworkPolicy/z1/service-c-from-a-and-b ingress/0",
		} {
			if !slices.Contains(onRules, want) {
				t.Errorf("no ForgedIdentityLabel warning on %s; warned: %v", want, onRules)
			}
		}
		var all []string
		for _, s := range append(slices.Clone(x1Spoofers), spooferA) {
			all = append(all, s.String())
		}
		slices.Sort(all)
		if !slices.Equal(onPods, all) {
			t.Errorf("ForgedIdentityLabel on pods %v; want %v", onPods, all)
		}
	})
}

// forgeryWarnings lists the rules ("<object> <rule>") and the pods the model warns about.
func forgeryWarnings(m *ir.Model) (rules, pods []string) {
	for _, w := range m.Warnings {
		switch {
		case w.Code != ir.WarnForgedIdentityLabel:
		case w.Object.Kind == ir.KindPod:
			pods = append(pods, w.Object.Namespace+"/"+w.Object.Name)
		default:
			rules = append(rules, w.Object.String()+" "+w.Rule)
		}
	}
	slices.Sort(pods)
	return slices.Compact(rules), slices.Compact(pods)
}
