package dataplane

import (
	"fmt"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Builders for NSX objects, so that tests read like the configuration they describe.

// lport builds a logical port on switch sw with address bindings ips and tags "scope=tag".
func lport(id, sw string, ips []string, tags ...string) nsxclient.LogicalPort {
	p := nsxclient.LogicalPort{LogicalSwitchID: sw, AdminState: "UP"}
	p.ID, p.DisplayName, p.ResourceType = id, id, "LogicalPort"
	for _, ip := range ips {
		p.AddressBindings = append(p.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: ip})
	}
	p.Tags = tagList(tags...)
	return p
}

func tagList(tags ...string) []nsxclient.Tag {
	var out []nsxclient.Tag
	for _, t := range tags {
		scope, tag, _ := strings.Cut(t, "=")
		out = append(out, nsxclient.Tag{Scope: scope, Tag: tag})
	}
	return out
}

func portsByID(ports ...nsxclient.LogicalPort) map[string]nsxclient.LogicalPort {
	m := map[string]nsxclient.LogicalPort{}
	for _, p := range ports {
		m[p.ID] = p
	}
	return m
}

func ipset(id string, addrs []string, tags ...string) nsxclient.IPSet {
	s := nsxclient.IPSet{IPAddresses: addrs}
	s.ID, s.DisplayName, s.ResourceType, s.Tags = id, id, "IPSet", tagList(tags...)
	return s
}

func ipsetsByID(sets ...nsxclient.IPSet) map[string]nsxclient.IPSet {
	m := map[string]nsxclient.IPSet{}
	for _, s := range sets {
		m[s.ID] = s
	}
	return m
}

// portTag is an NSGroupTagExpression on LogicalPort with EQUALS.
func portTag(scope, tag string) nsxclient.NSGroupExpression {
	return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprTag, TargetType: nsxclient.TargetLogicalPort, Scope: scope, Tag: tag}
}

func allOf(exprs ...nsxclient.NSGroupExpression) nsxclient.NSGroupExpression {
	return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprComplex, Expressions: exprs}
}

// member is a static member: an NSGroupSimpleExpression id EQUALS value.
func member(targetType, id string) nsxclient.NSGroupExpression {
	return nsxclient.NSGroupExpression{ResourceType: nsxclient.ExprSimple, TargetType: targetType, TargetProperty: "id", Op: "EQUALS", Value: id}
}

func nsgroup(id string, members []nsxclient.NSGroupExpression, criteria ...nsxclient.NSGroupExpression) nsxclient.NSGroup {
	g := nsxclient.NSGroup{Members: members, MembershipCriteria: criteria}
	g.ID, g.DisplayName, g.ResourceType = id, id, "NSGroup"
	return g
}

func groupsByID(groups ...nsxclient.NSGroup) map[string]nsxclient.NSGroup {
	m := map[string]nsxclient.NSGroup{}
	for _, g := range groups {
		m[g.ID] = g
	}
	return m
}

func ref(targetType, id string) nsxclient.ResourceReference {
	return nsxclient.ResourceReference{TargetType: targetType, TargetID: id}
}

func invalidRef(targetType, id string) nsxclient.ResourceReference {
	r, valid := ref(targetType, id), false
	r.IsValid = &valid
	return r
}

func grp(id string) nsxclient.ResourceReference { return ref(nsxclient.TargetNSGroup, id) }

func l4(proto string, dstPorts ...string) nsxclient.FirewallService {
	return nsxclient.FirewallService{Service: &nsxclient.NSServiceElement{
		ResourceType: nsxclient.ServiceL4PortSet, L4Protocol: proto, DestinationPorts: dstPorts}}
}

func tcp(dstPorts ...string) nsxclient.FirewallService {
	return l4(nsxclient.L4ProtocolTCP, dstPorts...)
}

// ruleOpt adjusts a rule built by rule.
type ruleOpt func(*nsxclient.FirewallRule)

func rule(id, action string, opts ...ruleOpt) nsxclient.FirewallRule {
	r := nsxclient.FirewallRule{ID: id, DisplayName: "rule-" + id, Action: action}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func from(refs ...nsxclient.ResourceReference) ruleOpt {
	return func(r *nsxclient.FirewallRule) { r.Sources = refs }
}
func to(refs ...nsxclient.ResourceReference) ruleOpt {
	return func(r *nsxclient.FirewallRule) { r.Destinations = refs }
}
func services(s ...nsxclient.FirewallService) ruleOpt {
	return func(r *nsxclient.FirewallRule) { r.Services = s }
}
func ruleAppliedTo(refs ...nsxclient.ResourceReference) ruleOpt {
	return func(r *nsxclient.FirewallRule) { r.AppliedTos = refs }
}
func direction(d string) ruleOpt  { return func(r *nsxclient.FirewallRule) { r.Direction = d } }
func ipProtocol(p string) ruleOpt { return func(r *nsxclient.FirewallRule) { r.IPProtocol = p } }
func disabled() ruleOpt           { return func(r *nsxclient.FirewallRule) { r.Disabled = true } }
func sourcesExcluded() ruleOpt    { return func(r *nsxclient.FirewallRule) { r.SourcesExcluded = true } }
func destinationsExcluded() ruleOpt {
	return func(r *nsxclient.FirewallRule) { r.DestinationsExcluded = true }
}

func section(id string, appliedTo []nsxclient.ResourceReference, rules ...nsxclient.FirewallRule) SectionWithRules {
	s := nsxclient.FirewallSection{SectionType: nsxclient.SectionLayer3, Stateful: true, AppliedTos: appliedTo}
	s.ID, s.DisplayName, s.ResourceType = id, "section-"+id, "FirewallSection"
	return SectionWithRules{Section: s, Rules: rules}
}

// defaultSection is NSX's default Layer3 section: one default rule, any → any.
func defaultSection(action string) SectionWithRules {
	s := section("default", nil, rule("1", action))
	s.Section.IsDefault = true
	s.Rules[0].IsDefault = true
	return s
}

// verdict renders a side as "ruleID:ACTION", "default:ACTION" when no rule matched, or "-" when
// the side was not evaluated; compact enough for table tests.
func verdict(v SideVerdict) string {
	switch {
	case !v.Evaluated:
		return "-"
	case v.RuleID == "":
		return "default:" + v.Action
	}
	return fmt.Sprintf("%s:%s", v.RuleID, v.Action)
}
