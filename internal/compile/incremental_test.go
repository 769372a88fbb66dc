package compile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/compile/compiletest"
	"github.com/microseg/microseg/internal/ir"
)

// TestIncrementalEqualsCompile drives an Incremental through random event sequences on the
// semantic tests' random worlds (pods, namespaces, NetworkPolicies and ClusterSecurityPolicies
// added, changed and removed, forged identity labels now and then, small NSX limits on odd seeds)
// and checks after every event that its model marshals to the same bytes as Compile's for the
// world after the event.
func TestIncrementalEqualsCompile(t *testing.T) {
	seeds, events := uint64(150), 40
	if testing.Short() {
		seeds = 40
	}
	var total, reused, cspReused int
	for seed := range seeds {
		n, r, c := checkIncremental(t, seed, events)
		total, reused, cspReused = total+n, reused+r, cspReused+c
	}
	// The comparison means something only if the compiler did reuse parts.
	if reused == 0 || cspReused == 0 {
		t.Fatalf("no namespace (%d) or ClusterSecurityPolicy part (%d) was ever reused", reused, cspReused)
	}
	t.Logf("%d seeds, %d compiles compared; %d namespace parts reused, the ClusterSecurityPolicies reused %d times",
		seeds, total, reused, cspReused)
}

// FuzzIncremental is TestIncrementalEqualsCompile steered by the fuzzer: the world and its
// events come from the bytes.
func FuzzIncremental(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("incremental compile: pods come and go, policies change"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := byteGen(data)
		checkIncrementalWith(t, g, g2world(g), 20, false)
	})
}

func checkIncremental(t *testing.T, seed uint64, events int) (compiles, reused, cspReused int) {
	g := randGen(seed)
	w := g2world(g)
	return checkIncrementalWith(t, g, w, events, seed%2 == 1)
}

func checkIncrementalWith(t *testing.T, g gen, w testWorld, events int, smallLimits bool) (compiles, reused, cspReused int) {
	t.Helper()
	in := w.in
	if smallLimits {
		in.Settings = Settings{Limits: ir.Limits{MaxRulesPerSection: 3, MaxRefsPerField: 2, MaxIPSetEntries: 2,
			MaxCriteriaPerGroup: 2, MaxGroupMembers: 2}, SectionFill: 2}
	}
	inc := NewIncremental()
	compare := func(step string, ch Changes) {
		t.Helper()
		want, err := Compile(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := inc.Compile(in, ch)
		if err != nil {
			t.Fatal(err)
		}
		wb, _ := json.Marshal(want)
		gb, _ := json.Marshal(got)
		if !bytes.Equal(wb, gb) {
			t.Fatalf("%s: the incremental model differs from Compile's\n%s", step, firstDifference(wb, gb))
		}
		st := inc.Stats()
		compiles++
		reused += st.Reused
		if !st.ClusterPolicies {
			cspReused++
		}
	}
	compare("initial", Changes{All: true})
	for i := range events {
		var ch Changes
		var what string
		in, ch, what = randomEvent(g, in)
		compare(fmt.Sprintf("event %d (%s)", i, what), ch)
	}
	return compiles, reused, cspReused
}

// randomEvent changes one object of the world and says what changed.
func randomEvent(g gen, in Input) (Input, Changes, string) {
	nsNames := namespaceNames(in)
	randomNS := func() string {
		if len(nsNames) == 0 || g.chance(0.05) {
			return fmt.Sprintf("ns%d", g.n(6))
		}
		return pick(g, nsNames...)
	}
	nsIndex := func(name string) int { // the generator names namespaces ns0, ns1, ...
		n, err := strconv.Atoi(strings.TrimPrefix(name, "ns"))
		if err != nil {
			panic(fmt.Sprintf("a generated namespace is named %q", name))
		}
		return n
	}
	switch x := g.n(12); {
	case x < 2: // a pod added
		ns := randomNS()
		p := g.pod(nsIndex(ns), 10+g.n(40), "c1")
		if g.chance(0.05) {
			p.Labels = map[string]string{"ncp/project": pick(g, nsNames...), "app": "web"}
		}
		in.Pods = append(slices.Clip(in.Pods), p)
		return in, Changes{Pods: []string{ns}}, "pod added " + ns + "/" + p.Name
	case x < 3 && len(in.Pods) > 0: // a pod removed
		i := g.n(len(in.Pods))
		ns := in.Pods[i].Namespace
		in.Pods = slices.Delete(slices.Clone(in.Pods), i, i+1)
		return in, Changes{Pods: []string{ns}}, "pod removed in " + ns
	case x < 5 && len(in.Pods) > 0: // a pod relabelled (or finished, or given other addresses)
		i := g.n(len(in.Pods))
		old := in.Pods[i]
		p := g.pod(nsIndex(old.Namespace), 0, "c1")
		p.Name = old.Name
		if g.chance(0.5) {
			p.Status = old.Status
		}
		if g.chance(0.1) {
			p.Status.Phase = corev1.PodSucceeded
		}
		in.Pods = slices.Clone(in.Pods)
		in.Pods[i] = p
		return in, Changes{Pods: []string{old.Namespace}}, "pod changed " + old.Namespace + "/" + old.Name
	case x < 6: // a namespace added, relabelled or removed
		ns := randomNS()
		in.Namespaces = slices.DeleteFunc(slices.Clone(in.Namespaces), func(n corev1.Namespace) bool { return n.Name == ns })
		if g.chance(0.8) {
			in.Namespaces = append(in.Namespaces, namespace(ns, pick(g, "env=prod", "env=dev,team=a", "team=b", "")))
		}
		return in, Changes{Pods: []string{ns}}, "namespace changed " + ns
	case x < 9: // a NetworkPolicy added or edited
		np := g.networkPolicy(g.n(7), 5)
		in.NetworkPolicies = replaceNP(in.NetworkPolicies, np)
		return in, Changes{NetworkPolicies: []string{np.Namespace}}, "np changed " + np.Namespace + "/" + np.Name
	case x < 10 && len(in.NetworkPolicies) > 0: // a NetworkPolicy removed
		i := g.n(len(in.NetworkPolicies))
		ns := in.NetworkPolicies[i].Namespace
		in.NetworkPolicies = slices.Delete(slices.Clone(in.NetworkPolicies), i, i+1)
		return in, Changes{NetworkPolicies: []string{ns}}, "np removed in " + ns
	case x < 11: // a ClusterSecurityPolicy added or edited
		p := g.clusterPolicy(g.n(6))
		in.ClusterSecurityPolicies = slices.DeleteFunc(slices.Clone(in.ClusterSecurityPolicies),
			func(q securityv1alpha1.ClusterSecurityPolicy) bool { return q.Name == p.Name })
		in.ClusterSecurityPolicies = append(in.ClusterSecurityPolicies, p)
		return in, Changes{ClusterSecurityPolicies: true}, "csp changed " + p.Name
	case len(in.ClusterSecurityPolicies) > 0: // a ClusterSecurityPolicy removed
		i := g.n(len(in.ClusterSecurityPolicies))
		in.ClusterSecurityPolicies = slices.Delete(slices.Clone(in.ClusterSecurityPolicies), i, i+1)
		return in, Changes{ClusterSecurityPolicies: true}, "csp removed"
	}
	return in, Changes{}, "nothing"
}

func namespaceNames(in Input) []string {
	var out []string
	for _, n := range in.Namespaces {
		out = append(out, n.Name)
	}
	return out
}

func replaceNP(list []networkingv1.NetworkPolicy, np networkingv1.NetworkPolicy) []networkingv1.NetworkPolicy {
	out := slices.DeleteFunc(slices.Clone(list), func(x networkingv1.NetworkPolicy) bool {
		return x.Namespace == np.Namespace && x.Name == np.Name
	})
	return append(out, np)
}

// firstDifference shows where two encodings part.
func firstDifference(a, b []byte) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-300)
	return fmt.Sprintf("compile:     …%s\nincremental: …%s", a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
}

// TestIncrementalCompilesOnlyWhatChanged: on Antrea's benchmark world (policies that see their
// own namespace only) a pod or NetworkPolicy change compiles that one namespace, and a
// ClusterSecurityPolicy change none.
func TestIncrementalCompilesOnlyWhatChanged(t *testing.T) {
	w := compiletest.AntreaWorld(20)
	in := Input{ClusterID: "c1", Namespaces: w.Namespaces, Pods: w.Pods, NetworkPolicies: w.NetworkPolicies}
	inc := NewIncremental()
	step := func(what string, ch Changes, compiled int, csp bool) {
		t.Helper()
		got, err := inc.Compile(in, ch)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustCompile(t, in); toJSON(t, got) != toJSON(t, want) {
			t.Fatalf("%s: the incremental model differs from Compile's", what)
		}
		if st := inc.Stats(); st.Compiled != compiled || st.ClusterPolicies != csp {
			t.Errorf("%s: %+v, want %d namespaces compiled (ClusterSecurityPolicies: %v)", what, st, compiled, csp)
		}
	}
	step("first compile", Changes{All: true}, 20, true)
	in.Pods = slices.Clone(in.Pods)
	in.Pods[0].Labels = map[string]string{"app-2": "scale-2"}
	step("pod relabelled", Changes{Pods: []string{in.Pods[0].Namespace}}, 1, true)
	in.NetworkPolicies = slices.Clone(in.NetworkPolicies)
	in.NetworkPolicies[4].Spec.Ingress = nil
	step("NetworkPolicy edited", Changes{NetworkPolicies: []string{in.NetworkPolicies[4].Namespace}}, 1, false)
	in.ClusterSecurityPolicies = []securityv1alpha1.ClusterSecurityPolicy{compiletest.CSP("deny", securityv1alpha1.TierSecurity, 1,
		compiletest.SubjectNamespaces(nil))}
	step("ClusterSecurityPolicy added", Changes{ClusterSecurityPolicies: true}, 0, true)
	step("nothing", Changes{}, 0, false)
}
