package dataplane

import "github.com/microseg/microseg/nsxclient"

const (
	actionAllow  = nsxclient.ActionAllow
	actionDrop   = nsxclient.ActionDrop
	actionReject = nsxclient.ActionReject
	actionJump   = nsxclient.ActionJumpToApplication
)

// compiledSection is a DFW section with its enabled rules, ready to evaluate.
type compiledSection struct {
	id, name  string
	isDefault bool
	// appliesTo restricts the whole section to these ports; nil means every port.
	appliesTo portSet
	rules     []compiledRule
}

// compiledRule is one enabled DFW rule, ready to evaluate.
type compiledRule struct {
	id, name, action string
	isDefault        bool
	inbound          bool // evaluated at the destination port (IN, IN_OUT)
	outbound         bool // evaluated at the source port (OUT, IN_OUT)
	ipv4, ipv6       bool
	// appliesTo restricts the rule to these ports; nil means every port the section covers.
	appliesTo      portSet
	sources, dests addrMatcher
	anyService     bool
	services       []serviceMatcher
}

func (dp *Dataplane) compileSections(snap *Snapshot) {
	for _, sw := range snap.Sections {
		s := sw.Section
		// Guess: only LAYER3 sections filter IP flows; an unset type is taken as LAYER3.
		if s.SectionType != "" && s.SectionType != nsxclient.SectionLayer3 {
			continue
		}
		cs := compiledSection{
			id:        s.ID,
			name:      s.DisplayName,
			isDefault: s.IsDefault,
			appliesTo: dp.compileAppliedTo(s.AppliedTos),
		}
		for _, r := range sw.Rules {
			if cr, ok := dp.compileRule(r, len(s.AppliedTos) > 0); ok {
				cs.rules = append(cs.rules, cr)
			}
		}
		dp.sections = append(dp.sections, cs)
	}
}

// compileRule compiles an enabled rule; ok is false for rules that can never decide a flow
// (disabled, or an action that is not a DFW filtering action).
func (dp *Dataplane) compileRule(r nsxclient.FirewallRule, sectionHasAppliedTo bool) (compiledRule, bool) {
	if r.Disabled {
		return compiledRule{}, false
	}
	switch r.Action {
	case actionAllow, actionDrop, actionReject:
	default:
		return compiledRule{}, false
	}
	cr := compiledRule{
		id:         r.ID,
		name:       r.DisplayName,
		action:     r.Action,
		isDefault:  r.IsDefault,
		sources:    dp.compileAddrMatcher(r.Sources, r.SourcesExcluded),
		dests:      dp.compileAddrMatcher(r.Destinations, r.DestinationsExcluded),
		anyService: len(r.Services) == 0,
	}
	setDirection(&cr, r.Direction)
	setIPProtocol(&cr, r.IPProtocol)
	// The section's applied_tos, when set, override the rule's.
	if !sectionHasAppliedTo {
		cr.appliesTo = dp.compileAppliedTo(r.AppliedTos)
	}
	for _, s := range r.Services {
		cr.services = append(cr.services, dp.compileService(s))
	}
	return cr, true
}

// matches reports whether the rule decides flow f at port index port; outbound selects the
// source-side evaluation.
func (r *compiledRule) matches(f *resolvedFlow, port int, outbound bool) bool {
	if outbound && !r.outbound || !outbound && !r.inbound {
		return false
	}
	if f.is4 && !r.ipv4 || !f.is4 && !r.ipv6 {
		return false
	}
	if r.appliesTo != nil && !r.appliesTo.has(port) {
		return false
	}
	if !r.sources.matches(f.srcKey, f.is4) || !r.dests.matches(f.dstKey, f.is4) {
		return false
	}
	if r.anyService {
		return true
	}
	for i := range r.services {
		if r.services[i].matches(f) {
			return true
		}
	}
	return false
}

// setDirection sets where a rule is evaluated: at the destination port (IN), at the source port
// (OUT), or both (IN_OUT, the default).
func setDirection(cr *compiledRule, direction string) {
	switch direction {
	case "", nsxclient.DirectionInOut:
		cr.inbound, cr.outbound = true, true
	case nsxclient.DirectionIn:
		cr.inbound = true
	case nsxclient.DirectionOut:
		cr.outbound = true
	}
}

// setIPProtocol sets the address families a rule applies to (both by default).
func setIPProtocol(cr *compiledRule, proto string) {
	switch proto {
	case "", nsxclient.IPProtocolIPv4IPv6:
		cr.ipv4, cr.ipv6 = true, true
	case nsxclient.IPProtocolIPv4:
		cr.ipv4 = true
	case nsxclient.IPProtocolIPv6:
		cr.ipv6 = true
	}
}
