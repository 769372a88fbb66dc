package compile

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ir"
	"github.com/microseg/microseg/internal/ncptags"
)

// Forged identity tags. NCP copies every pod label onto the pod's logical port, so a tenant who
// labels a pod of x1 ncp/project=z1 gives its port a second project tag, and a criterion
// "ncp/project=z1 AND app=service-c" matches it. The compiler therefore never trusts a tag form
// blindly: before a tag group realizes a pod set (the applied_to of a rule's subjects, or a rule's
// peers), every pod with a label in a reserved scope (a "forger", see ncptags) is checked against
// the form's criteria with all the tags its port may carry, case folded as NSX ≥ 3 may. A forger
// that is not in the set but matches a criterion is an impostor, and the set is then realized the
// way inexact sets are: subjects by the tag group restricted to their pods' addresses, peers by
// IPSets of their pods' addresses. That is exact (neither fail-open nor fail-closed) for the
// snapshot compiled; a warning names the pod, the label and the rule.

// impostors returns the forgers outside s whose logical port may match a criterion of s's tag
// form.
func (c *compiler) impostors(s podSet) []int32 {
	if len(c.snap.forgers) == 0 || s.form == nil || c.settings.trustForgeableTags {
		return nil
	}
	key := canonicalTerms(s.form.terms)
	matching, ok := c.forgeryCache[key]
	if !ok {
		hit := map[int32]bool{}
		for _, t := range s.form.terms {
			criterion := c.termTags(t)
			for _, i := range c.snap.forgers {
				if !hit[i] && ncptags.Satisfies(c.snap.pods[i].portTags, criterion) {
					hit[i] = true
				}
			}
		}
		for _, i := range c.snap.forgers { // ascending
			if hit[i] {
				matching = append(matching, i)
			}
		}
		c.forgeryCache[key] = matching
	}
	return diffSorted(matching, s.members)
}

// trustedTags reports whether s's tag form may realize s: it is exact, has criteria, and no pod
// outside s can match them through forged tags. When impostors would match, it warns on the rule
// (role says whether s holds the rule's subjects or its peers) and returns false. why is the
// reason the tags are not trusted.
func (c *compiler) trustedTags(s podSet, role string, ctx *ruleCtx) (trusted bool, why ir.GroupReason) {
	if !s.exact() || len(s.form.terms) == 0 {
		return false, s.reason()
	}
	imps := c.impostors(s)
	if len(imps) == 0 {
		return true, ""
	}
	them := "it"
	if len(imps) > 1 {
		them = "them"
	}
	remedy := "the peers are matched by their pods' addresses (IPSets) instead"
	if role == roleSubjects {
		remedy = "the rule stays applied to that group but only to the addresses of its subject pods"
	}
	ctx.warn(ir.WarnForgedIdentityLabel, fmt.Sprintf("%s: NCP copies labels onto the pod's logical port as tags, so the tag group "+
		"of this rule's %s (%s) would match %s too; %s. Remove such labels; the admission policy in config/admission refuses them",
		c.describeForgers(imps), role, describeTerms(s.form.terms), them, remedy))
	for _, i := range imps {
		if c.forgeryHits[i] == nil {
			c.forgeryHits[i] = map[string]bool{}
		}
		c.forgeryHits[i][ctx.obj.String()+" "+ctx.rule] = true
	}
	return false, ir.ReasonForged
}

// Roles of a pod set in a rule, for messages.
const (
	roleSubjects = "subjects"
	rolePeers    = "peers"
)

// maxNamed is how many pods, labels or rules a message names before it counts the rest.
const maxNamed = 3

// describeForgers names the pods and their reserved labels:
// "pod x1/spoofer (ncp/project=z1) has labels in a tag scope NCP reserves for its own identity tags".
func (c *compiler) describeForgers(pods []int32) string {
	parts := make([]string, 0, min(len(pods), maxNamed))
	for _, i := range pods[:min(len(pods), maxNamed)] {
		parts = append(parts, c.podName(i)+" ("+c.reservedLabels(i)+")")
	}
	who, verb := "pod "+parts[0], "has"
	if len(pods) > 1 {
		who, verb = "pods "+strings.Join(parts, ", "), "have"
	}
	if len(pods) > maxNamed {
		who += fmt.Sprintf(" and %d more", len(pods)-maxNamed)
	}
	return who + " " + verb + " labels in a tag scope NCP reserves for its own identity tags"
}

func (c *compiler) podName(i int32) string {
	return c.snap.nsNames[c.snap.pods[i].ns] + "/" + c.snap.pods[i].name
}

// reservedLabels lists a pod's reserved labels as key=value.
func (c *compiler) reservedLabels(i int32) string {
	p := &c.snap.pods[i]
	kv := make([]string, len(p.reserved))
	for j, k := range p.reserved {
		kv[j] = k + "=" + p.labels[k]
	}
	return strings.Join(kv, ", ")
}

func describeTerms(terms []term) string {
	out := "pods " + describeTerm(terms[0])
	if len(terms) > 1 {
		out += fmt.Sprintf(" +%d more criteria", len(terms)-1)
	}
	return out
}

// warnForgers puts one warning on every pod with reserved labels: what NCP makes of them, and
// every rule whose groups they would have fooled.
func (c *compiler) warnForgers() {
	for _, i := range c.snap.forgers {
		p := &c.snap.pods[i]
		msg := fmt.Sprintf("labels %s use a tag scope NCP reserves for its own identity tags (%s…); NCP copies labels onto the "+
			"pod's logical port as tags, so NSX could take this pod for another namespace's, pod's or cluster's pod. ",
			c.reservedLabels(i), strings.Join(ncptags.ReservedScopePrefixes(), "…, "))
		rules := slices.Sorted(maps.Keys(c.forgeryHits[i]))
		switch {
		case len(rules) == 0:
			msg += "No group of this cluster's policies would match it"
		case len(rules) > maxNamed:
			msg += fmt.Sprintf("Groups of %d rules would have matched it (%s and %d more); they match by address instead",
				len(rules), strings.Join(rules[:maxNamed], "; "), len(rules)-maxNamed)
		default:
			msg += fmt.Sprintf("Groups of %d rules would have matched it (%s); they match by address instead", len(rules), strings.Join(rules, "; "))
		}
		if slices.ContainsFunc(p.reserved, func(k string) bool {
			return strings.EqualFold(k, ncptags.ScopeCluster) && !strings.EqualFold(p.labels[k], c.clusterID)
		}) {
			msg += "; another cluster sharing this NSX Manager could take the pod for one of its own, which microseg cannot prevent"
		}
		c.warnings.add(ir.Warning{Object: ir.ObjectRef{Kind: ir.KindPod, Namespace: c.snap.nsNames[p.ns], Name: p.name},
			Code: ir.WarnForgedIdentityLabel, Message: msg + ". Remove such labels; the admission policy in config/admission refuses them"})
	}
}
