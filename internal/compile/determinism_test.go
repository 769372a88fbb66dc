package compile

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// shuffled returns a copy of the input with every list in another order.
func shuffled(in Input, seed uint64) Input {
	r := rand.New(rand.NewPCG(seed, 42))
	out := in
	out.ClusterSecurityPolicies = append(out.ClusterSecurityPolicies[:0:0], in.ClusterSecurityPolicies...)
	out.NetworkPolicies = append(out.NetworkPolicies[:0:0], in.NetworkPolicies...)
	out.Namespaces = append(out.Namespaces[:0:0], in.Namespaces...)
	out.Pods = append(out.Pods[:0:0], in.Pods...)
	r.Shuffle(len(out.ClusterSecurityPolicies), func(i, j int) {
		out.ClusterSecurityPolicies[i], out.ClusterSecurityPolicies[j] = out.ClusterSecurityPolicies[j], out.ClusterSecurityPolicies[i]
	})
	r.Shuffle(len(out.NetworkPolicies), func(i, j int) {
		out.NetworkPolicies[i], out.NetworkPolicies[j] = out.NetworkPolicies[j], out.NetworkPolicies[i]
	})
	r.Shuffle(len(out.Namespaces), func(i, j int) { out.Namespaces[i], out.Namespaces[j] = out.Namespaces[j], out.Namespaces[i] })
	r.Shuffle(len(out.Pods), func(i, j int) { out.Pods[i], out.Pods[j] = out.Pods[j], out.Pods[i] })
	return out
}

func marshal(t testing.TB, in Input) []byte {
	t.Helper()
	m, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDeterministic: the same input in any order gives byte-identical JSON, compile after compile
// (maps inside the Kubernetes objects are iterated in a new random order every time).
func TestDeterministic(t *testing.T) {
	inputs := map[string]Input{"reference": referenceScenario(t), "pass": goldenPassWorld()}
	for seed := range uint64(40) {
		w := randomWorld(seed)
		if seed%2 == 1 {
			w.in.Settings = tinySettings()
		}
		inputs["random-"+string(rune('a'+seed%26))+string(rune('0'+seed/26))] = w.in
	}
	for name, in := range inputs {
		want := marshal(t, in)
		for seed := range uint64(5) {
			if got := marshal(t, shuffled(in, seed)); string(got) != string(want) {
				t.Fatalf("%s: shuffled input (seed %d) compiles differently", name, seed)
			}
		}
	}
}
