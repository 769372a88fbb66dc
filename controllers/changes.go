package controllers

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/compile"
)

// versions are the resourceVersions of the objects a compile read, by kind; the next sync
// compares them with what it lists to tell the incremental compiler what changed. The API server
// changes an object's resourceVersion on every write, so the comparison finds every change of
// the listed objects, whatever the order in which their events arrived: the compile stays
// exactly the full compile of the listed objects. (Pods are rewritten for reasons the compiler
// ignores, status conditions for instance; their namespace is then compiled again for nothing,
// which costs one namespace's policies.)
type versions struct {
	csps map[string]string
	nps  map[types.NamespacedName]string
	nss  map[string]string
	pods map[types.NamespacedName]string
}

// versionsOf records the resourceVersions of an input; ok is false when an object has none
// (then no comparison can be trusted).
func versionsOf(in compile.Input) (v versions, ok bool) {
	v = versions{csps: map[string]string{}, nps: map[types.NamespacedName]string{}, nss: map[string]string{},
		pods: map[types.NamespacedName]string{}}
	ok = true
	note := func(rv string) string {
		ok = ok && rv != ""
		return rv
	}
	for i := range in.ClusterSecurityPolicies {
		p := &in.ClusterSecurityPolicies[i]
		v.csps[p.Name] = note(p.ResourceVersion)
	}
	for i := range in.NetworkPolicies {
		p := &in.NetworkPolicies[i]
		v.nps[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}] = note(p.ResourceVersion)
	}
	for i := range in.Namespaces {
		n := &in.Namespaces[i]
		v.nss[n.Name] = note(n.ResourceVersion)
	}
	for i := range in.Pods {
		p := &in.Pods[i]
		v.pods[types.NamespacedName{Namespace: p.Namespace, Name: p.Name}] = note(p.ResourceVersion)
	}
	return v, ok
}

// changesSince is what changed from old to cur (added, changed or removed objects).
func changesSince(old, cur versions) compile.Changes {
	var ch compile.Changes
	if !maps.Equal(old.csps, cur.csps) {
		ch.ClusterSecurityPolicies = true
	}
	nps, pods := map[string]bool{}, map[string]bool{}
	diffKeys(old.nps, cur.nps, func(k types.NamespacedName) { nps[k.Namespace] = true })
	diffKeys(old.pods, cur.pods, func(k types.NamespacedName) { pods[k.Namespace] = true })
	diffKeys(old.nss, cur.nss, func(k string) { pods[k] = true })
	ch.NetworkPolicies = slices.Sorted(maps.Keys(nps))
	ch.Pods = slices.Sorted(maps.Keys(pods))
	return ch
}

// diffKeys calls changed for every key whose value differs between a and b (or that only one
// holds).
func diffKeys[K comparable](a, b map[K]string, changed func(K)) {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			changed(k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			changed(k)
		}
	}
}
