package compile

import (
	"net/netip"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/microseg/microseg/internal/ncptags"
)

// namespaceNameLabel is set by the API server on every namespace to the namespace's name.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// snapshot is the indexed view of the namespaces and pods the compiler sees. Pods are numbered
// by their position in (namespace, name) order; pod sets are sorted slices of those numbers, so
// every set operation is deterministic.
type snapshot struct {
	nsNames  []string            // sorted
	nsLabels []map[string]string // by namespace index
	nsIndex  map[string]int32
	pods     []pod
	podsByNS [][]int32 // by namespace index, ascending
	allPods  []int32
	// hazards say where tag criteria on pod labels would not be exact (see tagHazards).
	nsHazards     []tagHazards // by namespace index
	globalHazards tagHazards
	// forgers are the pods with a label in a reserved tag scope (see forgery.go), ascending.
	forgers []int32
}

// pod is one live pod: not host-network, not finished (Succeeded/Failed pods may have handed their
// IP to another pod already, and NCP removes their ports).
type pod struct {
	ns     int32
	name   string
	labels map[string]string
	ips    []netip.Addr // sorted, unique
	ports  []containerPort
	// reserved are the keys of the pod's labels in a reserved tag scope, sorted; portTags (set
	// only then) are every tag its logical port may carry, forged ones included.
	reserved []string
	portTags []ncptags.Tag
}

// containerPort is a named container port, the target of a named port.
type containerPort struct {
	name   string
	proto  corev1.Protocol
	number int32
}

// isLive reports whether a pod takes part in policy: it has (or will have) an NCP logical port.
// Host-network pods share the node's address and have no port of their own; finished pods no
// longer have one.
func isLive(p *corev1.Pod) bool {
	if p.Spec.HostNetwork {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// newSnapshot indexes the namespaces and pods; layout is NCP's tag layout under the NSX limits
// in force, cluster the value of its ncp/cluster tag.
func newSnapshot(namespaces []corev1.Namespace, pods []corev1.Pod, cluster string, layout ncptags.Limits) *snapshot {
	s := &snapshot{nsIndex: map[string]int32{}}
	labelsByNS := map[string]map[string]string{}
	for i := range namespaces {
		ns := &namespaces[i]
		labelsByNS[ns.Name] = ns.Labels
	}
	// A pod whose namespace the snapshot lacks still gets a namespace (with only its name label),
	// so that it can be matched by name.
	for i := range pods {
		if _, ok := labelsByNS[pods[i].Namespace]; !ok {
			labelsByNS[pods[i].Namespace] = nil
		}
	}
	for name := range labelsByNS {
		s.nsNames = append(s.nsNames, name)
	}
	sort.Strings(s.nsNames)
	for i, name := range s.nsNames {
		s.nsIndex[name] = int32(i)
		labels := make(map[string]string, len(labelsByNS[name])+1)
		for k, v := range labelsByNS[name] {
			labels[k] = v
		}
		// The API server always sets this label to the namespace's name; enforce it so that
		// selectors on it work for inputs that lack it and cannot be fooled by a wrong value.
		labels[namespaceNameLabel] = name
		s.nsLabels = append(s.nsLabels, labels)
	}

	order := make([]int, 0, len(pods))
	for i := range pods {
		if isLive(&pods[i]) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		pa, pb := &pods[order[a]], &pods[order[b]]
		if pa.Namespace != pb.Namespace {
			return pa.Namespace < pb.Namespace
		}
		return pa.Name < pb.Name
	})
	s.podsByNS = make([][]int32, len(s.nsNames))
	for _, i := range order {
		p := &pods[i]
		if n := len(s.pods); n > 0 && s.pods[n-1].name == p.Name && s.nsNames[s.pods[n-1].ns] == p.Namespace {
			continue // a duplicate object: keep the first
		}
		idx := int32(len(s.pods))
		ns := s.nsIndex[p.Namespace]
		np := pod{ns: ns, name: p.Name, labels: p.Labels, ips: podIPs(p), ports: podPorts(p)}
		if np.reserved = ncptags.ReservedLabels(p.Labels); np.reserved != nil {
			np.portTags = layout.PossiblePortTags(cluster, ncptags.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels})
			s.forgers = append(s.forgers, idx)
		}
		s.pods = append(s.pods, np)
		s.podsByNS[ns] = append(s.podsByNS[ns], idx)
		s.allPods = append(s.allPods, idx)
	}
	s.computeHazards(layout)
	return s
}

// podIPs returns a pod's addresses from status.podIPs (or status.podIP), parsed and unique.
func podIPs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	add := func(s string) {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a.Unmap().WithZone(""))
		}
	}
	for _, ip := range p.Status.PodIPs {
		add(ip.IP)
	}
	if len(out) == 0 && p.Status.PodIP != "" {
		add(p.Status.PodIP)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(out)
}

// podPorts lists the named container ports of a pod's (app) containers, in spec order.
func podPorts(p *corev1.Pod) []containerPort {
	var out []containerPort
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == "" {
				continue
			}
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out = append(out, containerPort{name: cp.Name, proto: proto, number: cp.ContainerPort})
		}
	}
	return out
}

// resolvePort returns the number a named port has on pod i for the protocol, or 0.
func (s *snapshot) resolvePort(i int32, proto corev1.Protocol, name string) int32 {
	for _, cp := range s.pods[i].ports {
		if cp.name == name && cp.proto == proto {
			return cp.number
		}
	}
	return 0
}

// podsOf returns the pods of the given namespaces (nil means every namespace), ascending.
func (s *snapshot) podsOf(namespaces []int32) []int32 {
	if namespaces == nil {
		return s.allPods
	}
	if len(namespaces) == 1 {
		return s.podsByNS[namespaces[0]]
	}
	var out []int32
	for _, ns := range namespaces {
		out = append(out, s.podsByNS[ns]...)
	}
	slices.Sort(out)
	return out
}

// ipsOf returns the addresses of a set of pods.
func (s *snapshot) ipsOf(members []int32) []netip.Addr {
	var out []netip.Addr
	for _, i := range members {
		out = append(out, s.pods[i].ips...)
	}
	return out
}

// tagHazards describe where NCP's label tags cannot be trusted to reproduce a label selector.
type tagHazards struct {
	// overLabelled: some pod has more labels than fit next to NCP's own tags (30 tags per port),
	// so NCP must have dropped some label tags.
	overLabelled bool
	// keySpellings and pairSpellings hold, per case-folded label key and key=value pair, the
	// spellings pods use: NSX ≥ 3 matches tags case-insensitively, so a criterion app=db would
	// also select a pod labelled app=Db.
	keySpellings  map[string][]string
	pairSpellings map[string][]string
}

func (s *snapshot) computeHazards(layout ncptags.Limits) {
	s.nsHazards = make([]tagHazards, len(s.nsNames))
	global := newHazardBuilder(layout)
	for ns := range s.nsNames {
		b := newHazardBuilder(layout)
		for _, i := range s.podsByNS[ns] {
			b.addPod(s.pods[i].labels)
			global.addPod(s.pods[i].labels)
		}
		s.nsHazards[ns] = b.finish()
	}
	s.globalHazards = global.finish()
}

// hazardBuilder collects the distinct spellings of every case-folded label key and pair.
type hazardBuilder struct {
	layout       ncptags.Limits
	overLabelled bool
	keys, pairs  map[string]map[string]bool // folded form → spellings
}

func newHazardBuilder(layout ncptags.Limits) *hazardBuilder {
	return &hazardBuilder{layout: layout, keys: map[string]map[string]bool{}, pairs: map[string]map[string]bool{}}
}

func (b *hazardBuilder) addPod(labels map[string]string) {
	if len(labels) > b.layout.MaxLabelTags() {
		b.overLabelled = true
	}
	for k, v := range labels {
		// NCP truncates a key longer than the scope limit; the truncated spelling is what NSX
		// compares, so it competes with other keys of that spelling.
		tk := b.layout.Scope(k)
		note(b.keys, strings.ToLower(tk), tk)
		note(b.pairs, strings.ToLower(tk)+"="+strings.ToLower(v), tk+"="+v)
	}
}

func note(m map[string]map[string]bool, folded, spelling string) {
	set := m[folded]
	if set == nil {
		set = map[string]bool{}
		m[folded] = set
	}
	set[spelling] = true
}

// finish keeps, per case-folded key and pair, the spellings the pods use.
func (b *hazardBuilder) finish() tagHazards {
	h := tagHazards{overLabelled: b.overLabelled, keySpellings: flatten(b.keys), pairSpellings: flatten(b.pairs)}
	return h
}

func flatten(m map[string]map[string]bool) map[string][]string {
	out := make(map[string][]string, len(m))
	for folded, set := range m {
		list := make([]string, 0, len(set))
		for s := range set {
			list = append(list, s)
		}
		out[folded] = list
	}
	return out
}

// ambiguousKey reports whether a pod spells key k differently but equal up to case.
func (h *tagHazards) ambiguousKey(k string) bool {
	return otherSpelling(h.keySpellings[strings.ToLower(k)], k)
}

// ambiguousPair reports whether a pod spells k=v differently but equal up to case.
func (h *tagHazards) ambiguousPair(k, v string) bool {
	return otherSpelling(h.pairSpellings[strings.ToLower(k)+"="+strings.ToLower(v)], k+"="+v)
}

func otherSpelling(spellings []string, s string) bool {
	for _, x := range spellings {
		if x != s {
			return true
		}
	}
	return false
}
