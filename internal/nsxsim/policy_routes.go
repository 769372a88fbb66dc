package nsxsim

// policyRoutes are the Policy API endpoints the simulator serves, on the same server as the
// Manager API: same authentication, sessions, rate limit, faults, statistics and cost model.
func (s *Server) policyRoutes() []*route {
	const (
		infra    = policyPrefix + "/infra"
		domains  = infra + "/domains"
		domain   = domains + "/{domain-id}"
		groups   = domain + "/groups"
		group    = groups + "/{group-id}"
		policies = domain + "/security-policies"
		policy   = policies + "/{security-policy-id}"
		rules    = policy + "/rules"
		rule     = rules + "/{rule-id}"
		segments = infra + "/segments"
		segment  = segments + "/{segment-id}"
		ports    = segment + "/ports"
		port     = ports + "/{port-id}"
	)
	rs := []*route{
		{method: "GET", pattern: infra, handle: s.handleInfraGet},
		{method: "PATCH", pattern: infra, write: true, handle: s.handleInfraPatch},
		{method: "GET", pattern: infra + "/realized-state/realized-entities", handle: s.handleRealizedEntities},
		{method: "GET", pattern: infra + "/realized-state/status", handle: s.handleRealizedStatus},
		{method: "GET", pattern: group + "/members/segment-ports", handle: s.handleGroupPortMembers},
		{method: "GET", pattern: group + "/members/ip-addresses", handle: s.handleGroupIPMembers},
	}
	for _, list := range []string{domains, groups, policies, rules, segments, ports} {
		rs = append(rs, &route{method: "GET", pattern: list, handle: s.handlePolicyList})
	}
	for _, obj := range []string{domain, group, policy, rule, segment, port} {
		rs = append(rs,
			&route{method: "GET", pattern: obj, handle: s.handlePolicyGet},
			&route{method: "PATCH", pattern: obj, write: true, handle: s.handlePolicyPatch},
			&route{method: "PUT", pattern: obj, write: true, handle: s.handlePolicyPut},
			&route{method: "DELETE", pattern: obj, write: true, handle: s.handlePolicyDelete},
		)
	}
	return rs
}
