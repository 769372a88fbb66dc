package policy

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Objects are compared by the content microseg writes, normalized: server-owned fields
// (_revision, paths, timestamps, rule_id, _protection, a group's realization state…) are
// ignored; fields NSX fills with a default when omitted read as that default (direction IN_OUT,
// ip_protocol IPV4_IPV6, stateful true, an empty list as ["ANY"]); unordered lists (tags, group
// and scope paths, IP addresses, service entries) are sorted. An object someone edited in NSX is
// rewritten even when its tags were left alone; an unchanged one never is.

// fingerprint renders normalized content as a string.
func fingerprint(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("policy backend: " + err.Error()) // plain data, cannot fail
	}
	return string(b)
}

type tagFP struct{ Scope, Tag string }

func tagsFP(tags []nsxclient.Tag) []tagFP {
	out := make([]tagFP, len(tags))
	for i, t := range tags {
		out[i] = tagFP{t.Scope, t.Tag}
	}
	slices.SortFunc(out, func(a, b tagFP) int { return cmp.Or(strings.Compare(a.Scope, b.Scope), strings.Compare(a.Tag, b.Tag)) })
	return out
}

// anyList normalizes a list where empty means ANY: sorted, ANY upper case.
func anyList(in []string) []string {
	if len(in) == 0 || len(in) == 1 && strings.EqualFold(in[0], nsxclient.AnyPath) {
		return []string{nsxclient.AnyPath}
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

type metaFP struct {
	DisplayName, Description string
	Tags                     []tagFP
}

func metaOf(r nsxclient.PolicyResource) metaFP {
	return metaFP{DisplayName: r.DisplayName, Description: r.Description, Tags: tagsFP(r.Tags)}
}

// groupFP is the comparable form of a group: its metadata and its expression.
func groupFP(g nsxclient.PolicyGroup) string {
	return fingerprint(struct {
		Meta metaFP
		Expr []nsxclient.PolicyExpression
	}{metaOf(g.PolicyResource), exprFP(g.Expression)})
}

// groupContentFP is the comparable form of what a group matches.
func groupContentFP(g nsxclient.PolicyGroup) string { return fingerprint(exprFP(g.Expression)) }

func exprFP(in []nsxclient.PolicyExpression) []nsxclient.PolicyExpression {
	out := make([]nsxclient.PolicyExpression, len(in))
	for i, e := range in {
		e.ID = ""
		e.IPAddresses = sortedCopy(e.IPAddresses)
		e.Paths = sortedCopy(e.Paths)
		e.Expressions = exprFP(e.Expressions)
		if e.ResourceType == nsxclient.ExprCondition && e.ScopeOperator == nsxclient.OperatorEquals {
			e.ScopeOperator = "" // EQUALS is the default
		}
		out[i] = e
	}
	return out
}

func sortedCopy(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

// policyFP is the comparable form of a security policy's own attributes (not its rules).
func policyFP(p nsxclient.SecurityPolicy) string {
	stateful := p.Stateful == nil || *p.Stateful
	return fingerprint(struct {
		Meta     metaFP
		Category string
		Seq      int64
		Stateful bool
		Scope    []string
		Locked   bool
	}{metaOf(p.PolicyResource), p.Category, p.SequenceNumber, stateful, anyList(p.Scope), p.Locked})
}

// placementFP is what decides where a policy's rules are evaluated: its category, sequence number
// and scope (a policy scope overrides its rules').
func placementFP(p nsxclient.SecurityPolicy) string {
	return fingerprint(struct {
		Category string
		Seq      int64
		Scope    []string
	}{p.Category, p.SequenceNumber, anyList(p.Scope)})
}

type entryFP struct {
	Type, L4Protocol, Protocol string
	Dst, Src                   []string
	ProtocolNumber             *int64
	ICMPType, ICMPCode         *int64
}

// ruleFP is the comparable form of a rule, its sequence number included.
func ruleFP(r nsxclient.PolicyRule) string {
	return fingerprint(struct {
		Meta        metaFP
		Match       string
		Seq         int64
		Tag, Notes  string
		Logged, Off bool
	}{metaOf(r.PolicyResource), ruleMatchFP(r), r.SequenceNumber, r.Tag, r.Notes, r.Logged, r.Disabled})
}

// ruleMatchFP is what a rule matches and does: its action and match fields, not its identity,
// position, logging or state. Guard rules are deduplicated by it.
func ruleMatchFP(r nsxclient.PolicyRule) string {
	entries := make([]entryFP, len(r.ServiceEntries))
	for i, e := range r.ServiceEntries {
		entries[i] = entryFP{Type: e.ResourceType, L4Protocol: e.L4Protocol, Protocol: e.Protocol,
			Dst: sortedCopy(e.DestinationPorts), Src: sortedCopy(e.SourcePorts), ProtocolNumber: e.ProtocolNumber,
			ICMPType: e.ICMPType, ICMPCode: e.ICMPCode}
	}
	slices.SortFunc(entries, func(a, b entryFP) int { return strings.Compare(fingerprint(a), fingerprint(b)) })
	direction := cmp.Or(r.Direction, "IN_OUT")
	proto := cmp.Or(r.IPProtocol, "IPV4_IPV6")
	return fingerprint(struct {
		Action, Direction, IPProtocol string
		Src, Dst, Services, Scope     []string
		SrcExcl, DstExcl              bool
		Entries                       []entryFP
	}{r.Action, direction, proto, anyList(r.SourceGroups), anyList(r.DestinationGroups), anyList(r.Services), anyList(r.Scope),
		r.SourcesExcluded, r.DestinationsExcluded, entries})
}
