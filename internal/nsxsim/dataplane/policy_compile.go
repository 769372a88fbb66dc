package dataplane

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// The Policy API's DFW, compiled: security policies in evaluation order, each with its
// applied-to ports and its enabled rules.
//
// Order: by category (Emergency, Infrastructure, Environment, Application, then policies without
// a category; Ethernet policies hold layer-2 rules and never filter IP flows), then by
// sequence_number (lower first), then, for equal numbers, by path or by a seeded hash of it
// (PolicySnapshot.TieBreakSeed). Rules by sequence_number with the same tie-break. All of it is
// evaluated before the Manager API's sections.

// categoryRank orders categories; 0 means "not evaluated for IP flows".
func categoryRank(category string) int {
	switch category {
	case nsxclient.CategoryEmergency:
		return 1
	case nsxclient.CategoryInfrastructure:
		return 2
	case nsxclient.CategoryEnvironment:
		return 3
	case nsxclient.CategoryApplication:
		return 4
	case "":
		return 5
	}
	return 0
}

const rankApplication = 4

// policyPlane is the compiled Policy DFW.
type policyPlane struct {
	groups   map[string]*pgroup
	policies []compiledPolicy
	// firstApp is the index of the first policy a JUMP_TO_APPLICATION resumes at (the first
	// Application policy, or what follows Application when there is none).
	firstApp int
}

// compiledPolicy is one security policy ready to evaluate.
type compiledPolicy struct {
	path, name, category string
	rank                 int
	seq                  int64
	key                  uint64 // tie-break
	// appliesTo is the policy's scope as ports; nil means every port.
	appliesTo portSet
	rules     []compiledRule
}

func (dp *Dataplane) compilePolicy(ps *PolicySnapshot) {
	dp.attachSegmentPorts(ps)
	pg := &policyGroups{dp: dp, snap: ps, done: map[string]*pgroup{}, inProgress: map[string]bool{}, segPorts: map[string]portSet{}}
	for _, sp := range slices.Sorted(maps.Keys(ps.SegmentPorts)) {
		info := ps.SegmentPorts[sp]
		if i, ok := dp.portIndex[sp]; ok {
			set := pg.segPorts[info.SegmentPath]
			if set == nil {
				set = newPortSet(len(dp.ports))
				pg.segPorts[info.SegmentPath] = set
			}
			set.add(i)
		}
	}
	pg.indexTags()
	plane := &policyPlane{groups: map[string]*pgroup{}}
	for _, path := range slices.Sorted(maps.Keys(ps.Groups)) {
		plane.groups[path] = pg.get(path)
	}
	for _, pw := range ps.Policies {
		p := pw.Policy
		rank := categoryRank(p.Category)
		if rank == 0 || p.IsDefault {
			continue
		}
		cp := compiledPolicy{path: p.Path, name: p.DisplayName, category: p.Category, rank: rank, seq: p.SequenceNumber,
			key: tieKey(ps.TieBreakSeed, p.Path)}
		scoped := !isAnyList(p.Scope)
		if scoped {
			cp.appliesTo = plane.scopePorts(p.Scope, len(dp.ports))
		}
		rules := slices.Clone(pw.Rules)
		slices.SortFunc(rules, func(a, b nsxclient.PolicyRule) int {
			return cmp.Or(cmp.Compare(a.SequenceNumber, b.SequenceNumber),
				cmp.Compare(tieKey(ps.TieBreakSeed, a.Path), tieKey(ps.TieBreakSeed, b.Path)), strings.Compare(a.Path, b.Path))
		})
		for _, r := range rules {
			if cr, ok := dp.compilePolicyRule(plane, r, scoped); ok {
				cp.rules = append(cp.rules, cr)
			}
		}
		plane.policies = append(plane.policies, cp)
	}
	slices.SortFunc(plane.policies, func(a, b compiledPolicy) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.seq, b.seq), cmp.Compare(a.key, b.key), strings.Compare(a.path, b.path))
	})
	plane.firstApp = len(plane.policies)
	for i, p := range plane.policies {
		if p.rank >= rankApplication {
			plane.firstApp = i
			break
		}
	}
	dp.policy = plane
}

// attachSegmentPorts marks the logical ports that are segment ports, and lets flows name them
// by path.
func (dp *Dataplane) attachSegmentPorts(ps *PolicySnapshot) {
	for _, path := range slices.Sorted(maps.Keys(ps.SegmentPorts)) {
		info := ps.SegmentPorts[path]
		i, ok := dp.portIndex[info.LogicalPortID]
		if !ok {
			continue
		}
		dp.ports[i].policyPath, dp.ports[i].segment = path, info.SegmentPath
		dp.ports[i].tags = slices.Clone(info.Port.Tags)
		dp.portIndex[path] = i
	}
}

// tieKey orders equal sequence numbers: 0 for all (then by path) without a seed, else a hash.
func tieKey(seed uint64, path string) uint64 {
	if seed == 0 {
		return 0
	}
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	_, _ = h.Write(b[:])
	_, _ = h.Write([]byte(path))
	return h.Sum64()
}

func isAnyList(list []string) bool {
	return len(list) == 0 || len(list) == 1 && strings.EqualFold(list[0], nsxclient.AnyPath)
}

// scopePorts returns the ports a scope (applied-to) list covers: its groups' member ports.
func (pl *policyPlane) scopePorts(scope []string, nports int) portSet {
	s := newPortSet(nports)
	for _, path := range scope {
		if g, ok := pl.groups[path]; ok {
			s.addAll(g.ports)
		}
	}
	return s
}

// compilePolicyRule compiles an enabled rule; the policy's scope, when set, replaces the rule's.
func (dp *Dataplane) compilePolicyRule(pl *policyPlane, r nsxclient.PolicyRule, policyScoped bool) (compiledRule, bool) {
	if r.Disabled {
		return compiledRule{}, false
	}
	switch r.Action {
	case actionAllow, actionDrop, actionReject, actionJump:
	default:
		return compiledRule{}, false
	}
	cr := compiledRule{
		id: r.Path, name: r.DisplayName, action: r.Action,
		sources: pl.addrMatcher(r.SourceGroups, r.SourcesExcluded),
		dests:   pl.addrMatcher(r.DestinationGroups, r.DestinationsExcluded),
	}
	setDirection(&cr, r.Direction)
	setIPProtocol(&cr, r.IPProtocol)
	if !policyScoped && !isAnyList(r.Scope) {
		cr.appliesTo = pl.scopePorts(r.Scope, len(dp.ports))
	}
	switch {
	case len(r.ServiceEntries) > 0:
		// With entries, only the entries match, whatever services says ("ANY" alongside
		// entries is how nsx-operator writes them).
		for i := range r.ServiceEntries {
			cr.services = append(cr.services, compileServiceEntry(&r.ServiceEntries[i]))
		}
	case isAnyList(r.Services):
		cr.anyService = true
	default:
		cr.services = []serviceMatcher{{}} // service objects are not modelled: match nothing
	}
	return cr, true
}

// addrMatcher compiles source_groups or destination_groups: ANY, group paths and literal
// addresses, CIDRs or ranges.
func (pl *policyPlane) addrMatcher(list []string, excluded bool) addrMatcher {
	if isAnyList(list) {
		return addrMatcher{any: true}
	}
	var sets []AddrSet
	for _, v := range list {
		if strings.HasPrefix(v, "/") {
			if g, ok := pl.groups[v]; ok {
				sets = append(sets, g.addrs)
			}
			continue
		}
		if r, ok := parseAddrEntry(v); ok {
			sets = append(sets, newAddrSet([]addrRange{r}))
		}
	}
	return addrMatcher{negate: excluded, set: unionAddrSets(sets...)}
}

// compileServiceEntry compiles an inline Policy service entry like its Manager counterpart.
func compileServiceEntry(e *nsxclient.ServiceEntry) serviceMatcher {
	el := nsxclient.NSServiceElement{L4Protocol: e.L4Protocol, SourcePorts: e.SourcePorts, DestinationPorts: e.DestinationPorts,
		Protocol: e.Protocol, ICMPType: e.ICMPType, ICMPCode: e.ICMPCode, ProtocolNumber: e.ProtocolNumber}
	switch e.ResourceType {
	case nsxclient.ServiceEntryL4PortSet:
		el.ResourceType = nsxclient.ServiceL4PortSet
	case nsxclient.ServiceEntryICMPType:
		el.ResourceType = nsxclient.ServiceICMPType
	case nsxclient.ServiceEntryIPProtocol:
		el.ResourceType = nsxclient.ServiceIPProtocol
	default:
		return serviceMatcher{}
	}
	return compileServiceElement(&el)
}
