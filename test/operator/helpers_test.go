package operator_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/microseg/microseg/internal/reference"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/internal/nsxsync/manager"
	"github.com/microseg/microseg/internal/testenv"
	"github.com/microseg/microseg/nsxclient"
)

// samples reads config/samples, namespaces first.
func samples() []*unstructured.Unstructured {
	root, err := testenv.ProjectRoot()
	Expect(err).NotTo(HaveOccurred())
	objs, err := manifest.ReadPaths(filepath.Join(root, "config", "samples"))
	Expect(err).NotTo(HaveOccurred())
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
	return objs
}

// sample returns one object of config/samples.
func sample(kind, name string) *unstructured.Unstructured {
	for _, o := range samples() {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	panic("no sample " + kind + "/" + name)
}

// namespaceOf is where each service of the reference scenario runs.
var namespaceOf = reference.Namespace

// referenceTable is the reference table (internal/reference): every other pair of services is denied too.
var referenceTable = func() map[[2]string]bool {
	out := map[[2]string]bool{}
	for _, row := range reference.Table {
		out[[2]string{row.From, row.To}] = row.Allowed
	}
	return out
}()

// tableWith is the reference table with some rows changed.
func tableWith(changes map[[2]string]bool) map[[2]string]bool {
	out := map[[2]string]bool{}
	for k, v := range referenceTable {
		out[k] = v
	}
	for k, v := range changes {
		out[k] = v
	}
	return out
}

// checkTable traces every row of the table for every pair of the services' current pods on TCP
// 8080 through the simulator's DFW, and says which pairs disagree. A pod without its logical port
// yet is an error too (the emulator has not caught up).
func checkTable(ctx context.Context, table map[[2]string]bool) error {
	ports, addrs := podEndpoints()
	var wrong []string
	for row, want := range table {
		srcs, err := podsOf(ctx, row[0])
		if err != nil {
			return err
		}
		dsts, err := podsOf(ctx, row[1])
		if err != nil {
			return err
		}
		for _, s := range srcs {
			for _, d := range dsts {
				if ports[s] == "" || ports[d] == "" {
					return fmt.Errorf("no logical port yet for %s or %s", s, d)
				}
				res, err := sim.Traceflow(ctx, dataplane.Flow{SrcPortID: ports[s], SrcIP: addrs[s], DstPortID: ports[d], DstIP: addrs[d], Protocol: "TCP", DstPort: 8080})
				if err != nil {
					return err
				}
				if res.Allowed != want {
					wrong = append(wrong, fmt.Sprintf("%s → %s allowed=%v, want %v (source: %s %s, destination: %s %s)",
						s, d, res.Allowed, want, res.Source.SectionName, res.Source.RuleName, res.Destination.SectionName, res.Destination.RuleName))
				}
			}
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		return errors.New(strings.Join(wrong, "\n"))
	}
	return nil
}

// podsOf lists the pods of a service ("namespace/name"), failing while any of them is not running
// with an address.
func podsOf(ctx context.Context, service string) ([]string, error) {
	list := &corev1.PodList{}
	if err := k8s.List(ctx, list, client.InNamespace(namespaceOf[service]), client.MatchingLabels{"app": service}); err != nil {
		return nil, err
	}
	var out []string
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			return nil, fmt.Errorf("pod %s/%s is terminating", p.Namespace, p.Name)
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			return nil, fmt.Errorf("pod %s/%s is not running with an address", p.Namespace, p.Name)
		}
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out, nil
}

// scale sets a Deployment's replicas and waits until exactly that many of its pods run.
func scale(ctx context.Context, service string, replicas int32) {
	d := sample("Deployment", service)
	Expect(k8s.Get(ctx, client.ObjectKeyFromObject(d), d)).To(Succeed())
	Expect(unstructured.SetNestedField(d.Object, int64(replicas), "spec", "replicas")).To(Succeed())
	Expect(k8s.Update(ctx, d)).To(Succeed())
	Eventually(func() ([]string, error) { return podsOf(ctx, service) }).WithTimeout(longWait).Should(HaveLen(int(replicas)))
	Expect(emu.WaitForSync(ctx)).To(Succeed())
}

// csp reads a ClusterSecurityPolicy.
func csp(ctx context.Context, name string) (*securityv1alpha1.ClusterSecurityPolicy, error) {
	p := &securityv1alpha1.ClusterSecurityPolicy{}
	return p, k8s.Get(ctx, client.ObjectKey{Name: name}, p)
}

// kstatusCurrent applies the kstatus rules Flux and Argo CD use to decide that a resource is
// Current: the status is for the current generation (at the top and on every condition), Ready
// is True, and neither Reconciling nor Stalled is True.
func kstatusCurrent(p *securityv1alpha1.ClusterSecurityPolicy) error {
	st := p.Status
	if st.ObservedGeneration != p.Generation {
		return fmt.Errorf("%s: status.observedGeneration %d, metadata.generation %d", p.Name, st.ObservedGeneration, p.Generation)
	}
	for _, c := range st.Conditions {
		if c.ObservedGeneration != p.Generation {
			return fmt.Errorf("%s: condition %s has observedGeneration %d, want %d", p.Name, c.Type, c.ObservedGeneration, p.Generation)
		}
	}
	for _, t := range []string{securityv1alpha1.ConditionReconciling, securityv1alpha1.ConditionStalled} {
		if meta.IsStatusConditionTrue(st.Conditions, t) {
			return fmt.Errorf("%s: %s is True: %s", p.Name, t, meta.FindStatusCondition(st.Conditions, t).Message)
		}
	}
	if !meta.IsStatusConditionTrue(st.Conditions, securityv1alpha1.ConditionReady) {
		return fmt.Errorf("%s: not Ready: %+v", p.Name, st.Conditions)
	}
	return nil
}

// allCurrent checks kstatusCurrent on every ClusterSecurityPolicy.
func allCurrent(ctx context.Context) error {
	list := &securityv1alpha1.ClusterSecurityPolicyList{}
	if err := k8s.List(ctx, list); err != nil {
		return err
	}
	if len(list.Items) == 0 {
		return errors.New("no ClusterSecurityPolicy")
	}
	var errs []error
	for i := range list.Items {
		errs = append(errs, kstatusCurrent(&list.Items[i]))
	}
	return errors.Join(errs...)
}

// firewallWrites counts the simulator's write calls to firewall sections, rules, NSGroups and
// IPSets, whether they succeeded or not: the NCP emulator's logical-port writes are not counted.
func firewallWrites() int64 {
	var n int64
	for endpoint, st := range sim.Stats().Endpoints {
		method, path, _ := strings.Cut(endpoint, " ")
		if method == "GET" || strings.Contains(path, "action=list_with_rules") {
			continue
		}
		if strings.Contains(path, "/firewall/") || strings.Contains(path, "/ns-groups") || strings.Contains(path, "/ip-sets") {
			n += st.Calls
		}
	}
	return n
}

// firewallReads counts the simulator's reads of firewall sections (every sync lists them).
func firewallReads() int64 {
	return sim.Stats().Endpoints["GET /api/v1/firewall/sections"].Calls
}

// ownedState is what NSX holds of the test cluster's microseg objects, as the sync path reads it
// (the Manager backend's state and its owned-object index).
type ownedState struct {
	sections map[string]nsxclient.FirewallSection // by key tag (guards left out)
	rules    map[string][]nsxclient.FirewallRule  // by section id (guards included)
	groups   map[string]string                    // id → key tag (NSGroups and IPSets)
	nested   map[string][]string                  // NSGroup id → member group ids
}

func readOwned(ctx context.Context) ownedState {
	b, err := manager.Over(admin, manager.Config{ClusterID: clusterID})
	Expect(err).NotTo(HaveOccurred())
	var read nsxsync.State
	// A sync in progress may delete a section (a guard) between the listing of the sections and
	// the read of its rules: read again.
	Eventually(ctx, func() (err error) {
		read, err = b.Read(ctx, nsxsync.ReadFull)
		return err
	}).Should(Succeed())
	full, x := read.(*manager.State), read.Owned()
	st := ownedState{sections: map[string]nsxclient.FirewallSection{}, rules: map[string][]nsxclient.FirewallRule{},
		groups: map[string]string{}, nested: map[string][]string{}}
	guards := x.Guards()
	for _, s := range full.Sections {
		if key, ok := x.SectionKey(s.Section.ID); ok {
			st.sections[key] = s.Section
			st.rules[s.Section.ID] = s.Rules
		} else if slices.Contains(guards, s.Section.ID) {
			st.rules[s.Section.ID] = s.Rules
		}
	}
	for _, id := range x.Groups() {
		st.groups[id], _ = x.GroupKey(id)
	}
	for _, g := range full.NSGroups {
		for _, m := range g.Members {
			st.nested[g.ID] = append(st.nested[g.ID], m.Value)
		}
	}
	return st
}

// sectionOf is the key of the section a ClusterSecurityPolicy compiles to (the policy's own key).
func sectionOf(csp string) string {
	return ir.ObjectRef{Kind: ir.KindClusterSecurityPolicy, Name: csp}.Key()
}

// referenced is every owned group some owned rule uses, directly or as a nested member.
func (st ownedState) referenced() map[string]bool {
	out := map[string]bool{}
	var mark func(id string)
	mark = func(id string) {
		if _, owned := st.groups[id]; !owned || out[id] {
			return
		}
		out[id] = true
		for _, m := range st.nested[id] {
			mark(m)
		}
	}
	for _, rules := range st.rules {
		for _, r := range rules {
			for _, refs := range [][]nsxclient.ResourceReference{r.AppliedTos, r.Sources, r.Destinations} {
				for _, ref := range refs {
					mark(ref.TargetID)
				}
			}
		}
	}
	return out
}

// metricValue reads a counter or gauge without labels from controller-runtime's registry.
func metricValue(name string) float64 { return labelled(name, "", "") }

// eventsAbout lists the reasons of the events.k8s.io Events regarding one object.
func eventsAbout(ctx context.Context, namespace, name string) ([]string, error) {
	list := &eventsv1.EventList{}
	if err := k8s.List(ctx, list, client.InNamespace(namespace)); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Type+"/"+e.Reason)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// podEndpoints maps each pod ("namespace/name") the NCP emulator gave a port to the port's id and
// the pod's first address.
func podEndpoints() (ports, addrs map[string]string) {
	ports, addrs = map[string]string{}, map[string]string{}
	for _, p := range emu.Ports() {
		ports[p.Pod.String()] = p.PortID
		if len(p.IPs) > 0 {
			addrs[p.Pod.String()] = p.IPs[0].String()
		}
	}
	return ports, addrs
}
