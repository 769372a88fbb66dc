package dataplane

import (
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// policyWorld builds snapshots with Policy objects: segment ports (each realized as a logical
// port of the same id), groups, security policies, and optionally Manager sections.
type policyWorld struct {
	snap Snapshot
}

func newPolicyWorld() *policyWorld {
	return &policyWorld{snap: Snapshot{
		Ports:    map[string]nsxclient.LogicalPort{},
		Sections: []SectionWithRules{defaultSection(actionAllow)},
		Policy: &PolicySnapshot{Groups: map[string]nsxclient.PolicyGroup{}, Segments: map[string]nsxclient.Segment{},
			SegmentPorts: map[string]SegmentPortInfo{}},
	}}
}

// segment adds a segment with tags "scope=tag".
func (w *policyWorld) segment(id string, tags ...string) {
	s := nsxclient.Segment{}
	s.ID, s.Path, s.DisplayName, s.Tags = id, "/infra/segments/"+id, id, tagList(tags...)
	w.snap.Policy.Segments[s.Path] = s
}

// port adds segment port id on segment seg with one address; it returns its path.
func (w *policyWorld) port(seg, id, ip string, tags ...string) string {
	path := "/infra/segments/" + seg + "/ports/" + id
	sp := nsxclient.SegmentPort{AddressBindings: []nsxclient.PortAddressBindingEntry{{IPAddress: ip}}}
	sp.ID, sp.Path, sp.DisplayName, sp.Tags = id, path, id, tagList(tags...)
	w.snap.Ports[id] = lport(id, seg, []string{ip}, tags...)
	w.snap.Policy.SegmentPorts[path] = SegmentPortInfo{Port: sp, SegmentPath: "/infra/segments/" + seg, LogicalPortID: id}
	return path
}

// managerPort adds a logical port created through the Manager API (no segment port).
func (w *policyWorld) managerPort(id, ip string, tags ...string) {
	w.snap.Ports[id] = lport(id, "mp-switch", []string{ip}, tags...)
}

func (w *policyWorld) group(id string, exprs ...nsxclient.PolicyExpression) string {
	g := nsxclient.PolicyGroup{Expression: exprs}
	g.ID, g.Path = id, nsxclient.GroupPath("default", id)
	w.snap.Policy.Groups[g.Path] = g
	return g.Path
}

func (w *policyWorld) policy(id, category string, seq int64, scope []string, rules ...nsxclient.PolicyRule) {
	p := nsxclient.SecurityPolicy{Category: category, SequenceNumber: seq, Scope: scope}
	p.ID, p.Path, p.DisplayName = id, nsxclient.SecurityPolicyPath("default", id), id
	for i := range rules {
		rules[i].Path = nsxclient.RulePath("default", id, rules[i].ID)
		rules[i].DisplayName = rules[i].ID
	}
	w.snap.Policy.Policies = append(w.snap.Policy.Policies, PolicyWithRules{Policy: p, Rules: rules})
}

type pruleOpt func(*nsxclient.PolicyRule)

// prule is a Policy rule: any → any on any service unless options say otherwise.
func prule(id, action string, seq int64, opts ...pruleOpt) nsxclient.PolicyRule {
	r := nsxclient.PolicyRule{Action: action, SequenceNumber: seq, SourceGroups: []string{"ANY"},
		DestinationGroups: []string{"ANY"}, Services: []string{"ANY"}}
	r.ID = id
	for _, o := range opts {
		o(&r)
	}
	return r
}

func src(paths ...string) pruleOpt { return func(r *nsxclient.PolicyRule) { r.SourceGroups = paths } }
func dst(paths ...string) pruleOpt {
	return func(r *nsxclient.PolicyRule) { r.DestinationGroups = paths }
}
func pscope(paths ...string) pruleOpt {
	return func(r *nsxclient.PolicyRule) { r.Scope = paths }
}
func pdir(d string) pruleOpt { return func(r *nsxclient.PolicyRule) { r.Direction = d } }
func tcpPorts(ports ...string) pruleOpt {
	return func(r *nsxclient.PolicyRule) {
		r.ServiceEntries = append(r.ServiceEntries, nsxclient.L4PortSetEntry("TCP", ports...))
	}
}

// decided renders who decided each side: "<policy>/<rule>:ACTION", a Manager "ruleID:ACTION", or
// "default:ACTION".
func decided(v SideVerdict) string {
	if v.API == "policy" {
		return lastSeg(v.SectionID) + "/" + lastSeg(v.RuleID) + ":" + v.Action
	}
	return verdict(v)
}

func lastSeg(p string) string { return p[strings.LastIndex(p, "/")+1:] }

func (w *policyWorld) trace(srcIP, dstIP string, port int) Result {
	res, err := Trace(w.snap, Flow{SrcIP: srcIP, DstIP: dstIP, Protocol: "TCP", DstPort: port})
	if err != nil {
		panic(err)
	}
	return res
}
