package nsxsim

import (
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/nsxclient"
)

// policySnapshot is the Policy tree as the dataplane sees it: live objects only (an object being
// deleted no longer filters; the simulator evaluates intent, not realization).
func (st *state) policySnapshot() *dataplane.PolicySnapshot {
	ps := st.pol
	snap := &dataplane.PolicySnapshot{
		Groups:       map[string]nsxclient.PolicyGroup{},
		Segments:     map[string]nsxclient.Segment{},
		SegmentPorts: map[string]dataplane.SegmentPortInfo{},
		TieBreakSeed: st.policyTieBreakSeed,
	}
	for _, o := range ps.byKind(nsxclient.ResourceGroup) {
		snap.Groups[o.path] = *o.obj.(*nsxclient.PolicyGroup)
	}
	for _, o := range ps.byKind(nsxclient.ResourceSegment) {
		snap.Segments[o.path] = *o.obj.(*nsxclient.Segment)
	}
	for _, o := range ps.byKind(nsxclient.ResourceSegmentPort) {
		snap.SegmentPorts[o.path] = dataplane.SegmentPortInfo{Port: *o.obj.(*nsxclient.SegmentPort), SegmentPath: o.parent,
			LogicalPortID: ps.mirrored[o.path]}
	}
	for _, o := range ps.byKind(nsxclient.ResourceSecurityPolicy) {
		pw := dataplane.PolicyWithRules{Policy: *o.obj.(*nsxclient.SecurityPolicy)}
		for _, r := range ps.childrenOf(o.path, nsxclient.ResourceRule, false) {
			pw.Rules = append(pw.Rules, *r.obj.(*nsxclient.PolicyRule))
		}
		snap.Policies = append(snap.Policies, pw)
	}
	return snap
}

// handleGroupPortMembers is GET …/groups/{id}/members/segment-ports: the group's effective
// segment ports, paged.
func (s *Server) handleGroupPortMembers(c *call) reply {
	paths, _, err := s.policyMembers(c)
	if err != nil {
		return fail(err)
	}
	page, perr := s.parsePage(c.query, 0)
	if perr != nil {
		return fail(perr)
	}
	ports := make([]*nsxclient.SegmentPort, 0, len(paths))
	for _, p := range paths {
		if o := s.st.pol.live(p); o != nil {
			ports = append(ports, s.policyView(o, c.user).(*nsxclient.SegmentPort))
		}
	}
	return ok(paginate(ports, page))
}

// handleGroupIPMembers is GET …/groups/{id}/members/ip-addresses: the group's effective
// addresses (of its ports and its IP address expressions), paged.
func (s *Server) handleGroupIPMembers(c *call) reply {
	_, addrs, err := s.policyMembers(c)
	if err != nil {
		return fail(err)
	}
	page, perr := s.parsePage(c.query, 0)
	if perr != nil {
		return fail(perr)
	}
	return ok(paginate(addrs.Strings(), page))
}

func (s *Server) policyMembers(c *call) ([]string, dataplane.AddrSet, *apiError) {
	s.st.pol.sweep(s.now())
	path := objectPath(c)
	path = path[:len(path)-len("/members/")-len(lastSegment(path))]
	if s.st.pol.live(path) == nil {
		return nil, dataplane.AddrSet{}, errPolicyNotFound(path)
	}
	ports, addrs, _ := s.compiledDataplane().PolicyGroupMembers(path)
	return ports, addrs, nil
}

func lastSegment(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// PolicyGroupMembers returns the effective segment port paths of a Policy group, as the
// members/segment-ports API does; ok is false for an unknown group.
func (s *Server) PolicyGroupMembers(path string) (ports []string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.pol.live(path) == nil {
		return nil, false
	}
	ports, _, _ = s.compiledDataplane().PolicyGroupMembers(path)
	return ports, true
}
