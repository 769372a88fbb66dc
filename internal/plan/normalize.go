package plan

import (
	"slices"
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Comparison of desired and current objects works on fingerprints: canonical strings of the
// fields microseg writes. Server-owned fields (ids, _revision, timestamps, priority, section_id,
// rule_count, target_display_name, is_valid, member_count, ...) are left out, defaults NSX fills
// in are normalised (direction IN_OUT, ip_protocol IPV4_IPV6, tag_op EQUALS), and lists whose
// order NSX does not define semantically (tags, references, services, ports, group members and
// criteria, IP addresses) are sorted. Two objects with the same fingerprint behave the same in the
// DFW and look the same to an administrator, so an unchanged configuration plans no write, and
// anything an administrator changed — whether or not they touched the hash tag — is repaired.

// fingerprint builds a canonical string; every value is length-prefixed, so no content can
// imitate a separator.
type fingerprint struct{ b strings.Builder }

func (f *fingerprint) str(v string) {
	var n [20]byte
	f.b.Write(strconv.AppendInt(n[:0], int64(len(v)), 10))
	f.b.WriteByte(':')
	f.b.WriteString(v)
}

func (f *fingerprint) flag(v bool) {
	if v {
		f.b.WriteByte('1')
	} else {
		f.b.WriteByte('0')
	}
}

// set writes a list as a sorted set (the input is not modified).
func (f *fingerprint) set(vs []string) {
	if len(vs) > 1 && !slices.IsSorted(vs) {
		vs = slices.Clone(vs)
		slices.Sort(vs)
	}
	f.b.WriteByte('[')
	for _, v := range vs {
		f.str(v)
	}
	f.b.WriteByte(']')
}

func (f *fingerprint) String() string { return f.b.String() }

func tagStrings(tags []nsxclient.Tag) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = t.Scope + "=" + t.Tag
	}
	return out
}

func refStrings(refs []nsxclient.ResourceReference) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.TargetType + "|" + r.TargetID
	}
	return out
}

func serviceString(s nsxclient.FirewallService) string {
	if s.Service == nil {
		return "ref|" + s.TargetType + "|" + s.TargetID
	}
	var f fingerprint
	e := s.Service
	f.str(e.ResourceType)
	f.str(e.L4Protocol)
	f.set(e.SourcePorts)
	f.set(e.DestinationPorts)
	f.str(e.Protocol)
	for _, p := range []*int64{e.ICMPType, e.ICMPCode, e.ProtocolNumber} {
		if p == nil {
			f.str("-")
		} else {
			f.str(strconv.FormatInt(*p, 10))
		}
	}
	return f.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// sectionFP covers a section's attributes (not its rules).
func sectionFP(s *nsxclient.FirewallSection) string {
	var f fingerprint
	f.str(s.DisplayName)
	f.str(s.Description)
	f.set(tagStrings(s.Tags))
	f.str(s.SectionType)
	f.flag(s.Stateful)
	f.set(refStrings(s.AppliedTos))
	f.flag(s.TCPStrict)
	return f.String()
}

// ruleFP covers everything of a rule microseg writes.
func ruleFP(r *nsxclient.FirewallRule) string {
	var f fingerprint
	f.str(r.DisplayName)
	f.str(r.Description)
	f.str(r.Action)
	f.str(orDefault(r.Direction, nsxclient.DirectionInOut))
	f.str(orDefault(r.IPProtocol, nsxclient.IPProtocolIPv4IPv6))
	f.set(refStrings(r.Sources))
	f.flag(r.SourcesExcluded)
	f.set(refStrings(r.Destinations))
	f.flag(r.DestinationsExcluded)
	svcs := make([]string, len(r.Services))
	for i, s := range r.Services {
		svcs[i] = serviceString(s)
	}
	f.set(svcs)
	f.set(refStrings(r.AppliedTos))
	f.flag(r.Logged)
	f.flag(r.Disabled)
	f.str(r.Notes)
	f.str(r.RuleTag)
	return f.String()
}

func exprString(e nsxclient.NSGroupExpression) string {
	var f fingerprint
	f.str(e.ResourceType)
	switch e.ResourceType {
	case nsxclient.ExprTag:
		f.str(e.TargetType)
		f.str(e.Scope)
		f.str(orDefault(e.ScopeOp, "EQUALS"))
		f.str(e.Tag)
		f.str(orDefault(e.TagOp, "EQUALS"))
	case nsxclient.ExprComplex:
		f.set(exprStrings(e.Expressions))
	default:
		f.str(e.TargetType)
		f.str(e.TargetProperty)
		f.str(e.Op)
		f.str(e.Value)
	}
	return f.String()
}

func exprStrings(es []nsxclient.NSGroupExpression) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = exprString(e)
	}
	return out
}

func metaFP(f *fingerprint, m *nsxclient.ManagedResource) {
	f.str(m.DisplayName)
	f.str(m.Description)
	f.set(tagStrings(m.Tags))
}

// nsGroupContentFP covers what decides membership; nsGroupFP adds name, description and tags.
func nsGroupContentFP(g *nsxclient.NSGroup) string {
	var f fingerprint
	f.set(exprStrings(g.Members))
	f.set(exprStrings(g.MembershipCriteria))
	return f.String()
}

func nsGroupFP(g *nsxclient.NSGroup) string {
	var f fingerprint
	metaFP(&f, &g.ManagedResource)
	f.str(nsGroupContentFP(g))
	return f.String()
}

func ipSetContentFP(s *nsxclient.IPSet) string {
	var f fingerprint
	f.set(s.IPAddresses)
	return f.String()
}

func ipSetFP(s *nsxclient.IPSet) string {
	var f fingerprint
	metaFP(&f, &s.ManagedResource)
	f.str(ipSetContentFP(s))
	return f.String()
}
