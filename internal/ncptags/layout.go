package ncptags

import (
	"maps"
	"slices"
	"strings"
)

// The scopes of NCP's own identity tags on a pod's logical port.
const (
	ScopeCluster = "ncp/cluster" // the NCP cluster name
	ScopeProject = "ncp/project" // the pod's namespace
	ScopePod     = "ncp/pod"     // the pod's name
)

// OwnTags is how many identity tags NCP puts on a pod's port before the label tags.
const OwnTags = 3

// Tag is one NSX tag.
type Tag struct {
	Scope string
	Tag   string
}

// Pod is what NCP tags a pod's port from.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
}

// Limits are the NSX limits on tags that shape NCP's layout.
type Limits struct {
	MaxTags     int // tags per object (30)
	MaxScopeLen int // characters of a scope (128)
	MaxValueLen int // characters of a value (256)
}

// DefaultLimits are a real NSX Manager's.
var DefaultLimits = Limits{MaxTags: 30, MaxScopeLen: 128, MaxValueLen: 256}

// MaxLabelTags is how many label tags fit next to NCP's own.
func (l Limits) MaxLabelTags() int { return l.MaxTags - OwnTags }

// Scope is the scope NCP writes for a label key: the key, cut to MaxScopeLen. Kubernetes label keys
// are ASCII, so cutting bytes never splits a character.
func (l Limits) Scope(key string) string { return cut(key, l.MaxScopeLen) }

// Value is the tag value NCP writes for a label value (or a name), cut to MaxValueLen.
func (l Limits) Value(v string) string { return cut(v, l.MaxValueLen) }

// PortTags are the tags NCP puts on the pod's port: its own three, then one per label in key
// order, the highest keys dropped past MaxTags. The same pod always yields the same list.
func (l Limits) PortTags(cluster string, p Pod) []Tag {
	tags := l.PossiblePortTags(cluster, p)
	return tags[:min(len(tags), l.MaxTags)]
}

// PossiblePortTags is PortTags without the cut at MaxTags: every tag the port may carry whichever
// labels NCP drops past the limit. Use it to decide what a forged label could make a port match.
func (l Limits) PossiblePortTags(cluster string, p Pod) []Tag {
	tags := make([]Tag, 0, OwnTags+len(p.Labels))
	tags = append(tags,
		Tag{ScopeCluster, l.Value(cluster)},
		Tag{ScopeProject, l.Value(p.Namespace)},
		Tag{ScopePod, l.Value(p.Name)})
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		tags = append(tags, Tag{l.Scope(k), l.Value(p.Labels[k])})
	}
	return tags
}

// PortTags is DefaultLimits.PortTags.
func PortTags(cluster string, p Pod) []Tag { return DefaultLimits.PortTags(cluster, p) }

// Identity is the pod a port belongs to, as NCP's identity tags say.
type Identity struct {
	Cluster, Namespace, Pod string
}

// IdentityOf reads a port's NCP identity: the first ncp/cluster, ncp/project and ncp/pod tags.
// NCP writes its own tags before any label tag (see PortTags), so a forged label tag of the same
// scope comes later and is ignored. A scope the port lacks stays empty.
func IdentityOf(tags []Tag) Identity {
	var id Identity
	for _, t := range tags {
		var field *string
		switch t.Scope {
		case ScopeCluster:
			field = &id.Cluster
		case ScopeProject:
			field = &id.Namespace
		case ScopePod:
			field = &id.Pod
		default:
			continue
		}
		if *field == "" {
			*field = t.Tag
		}
	}
	return id
}

// Satisfies reports whether a port with these tags may match every condition of a tag criterion
// (scope and tag equal; an empty Tag means any value). Scopes and values are compared without
// regard to case: NSX ≥ 3 may match that way, so "may match" must assume it.
func Satisfies(port []Tag, criterion []Tag) bool {
	for _, want := range criterion {
		if !slices.ContainsFunc(port, func(t Tag) bool {
			return strings.EqualFold(t.Scope, want.Scope) && (want.Tag == "" || strings.EqualFold(t.Tag, want.Tag))
		}) {
			return false
		}
	}
	return true
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
