package policyapi_test

import (
	"testing"

	"github.com/microseg/microseg/nsxclient"
)

const dom = nsxclient.DefaultDomain

func group(id string, exprs ...nsxclient.PolicyExpression) nsxclient.PolicyGroup {
	return nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ID: id}, Expression: exprs}
}

func portTag(scope, tag string) nsxclient.PolicyExpression {
	return nsxclient.TagEquals(nsxclient.MemberSegmentPort, scope, tag)
}

func gpath(id string) string { return nsxclient.GroupPath(dom, id) }

type ruleOpt func(*nsxclient.PolicyRule)

// rule is a rule from ANY to ANY on any service unless options say otherwise.
func rule(id, action string, seq int64, opts ...ruleOpt) nsxclient.PolicyRule {
	r := nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: id}, Action: action, SequenceNumber: seq,
		SourceGroups: []string{nsxclient.AnyPath}, DestinationGroups: []string{nsxclient.AnyPath}, Services: []string{nsxclient.AnyPath}}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func from(paths ...string) ruleOpt { return func(r *nsxclient.PolicyRule) { r.SourceGroups = paths } }
func to(paths ...string) ruleOpt {
	return func(r *nsxclient.PolicyRule) { r.DestinationGroups = paths }
}
func in() ruleOpt { return func(r *nsxclient.PolicyRule) { r.Direction = nsxclient.DirectionIn } }
func appliedTo(paths ...string) ruleOpt {
	return func(r *nsxclient.PolicyRule) { r.Scope = paths }
}
func tcp(ports ...string) ruleOpt {
	return func(r *nsxclient.PolicyRule) {
		r.ServiceEntries = append(r.ServiceEntries, nsxclient.L4PortSetEntry(nsxclient.L4ProtocolTCP, ports...))
	}
}

func policy(id, category string, seq int64, rules ...nsxclient.PolicyRule) nsxclient.SecurityPolicy {
	return nsxclient.SecurityPolicy{PolicyResource: nsxclient.PolicyResource{ID: id, DisplayName: id}, Category: category,
		SequenceNumber: seq, Rules: rules}
}

// segmentPort is a pod's port as NCP in Policy mode creates it: a CHILD attachment behind the
// node's VIF, tagged with the pod's labels.
func segmentPort(id, ip string, tags ...nsxclient.Tag) nsxclient.SegmentPort {
	return nsxclient.SegmentPort{PolicyResource: nsxclient.PolicyResource{ID: id, DisplayName: id, Tags: tags},
		Attachment:      &nsxclient.PortAttachment{ID: "vif-" + id, Type: nsxclient.AttachmentChild, ContextID: "node-vif", TrafficTag: 10},
		AddressBindings: []nsxclient.PortAddressBindingEntry{{IPAddress: ip}}}
}

func tag(scope, value string) nsxclient.Tag { return nsxclient.Tag{Scope: scope, Tag: value} }

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// get fails the test on err and returns v.
func get[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
