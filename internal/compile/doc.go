// Package compile is microseg's pure compiler: Kubernetes objects (ClusterSecurityPolicies,
// NetworkPolicies, Namespaces, Pods) in, an ir.Model of NSX-T DFW configuration out.
//
//	model, err := compile.Compile(compile.Input{ClusterID: "prod-a", ClusterSecurityPolicies: ...,
//		NetworkPolicies: ..., Namespaces: ..., Pods: ...})
//
// Compile does no I/O, reads no clock and never depends on map iteration order: the same input,
// in any order, gives a byte-identical model once marshalled. It fails only when the input as a
// whole is unusable (no cluster id, impossible Settings); an invalid policy gets
// ObjectResult.Accepted=false, an Invalid warning, and contributes nothing.
//
// Incremental (incremental.go) gives the same model for a changing input while compiling again
// only the namespaces (and the ClusterSecurityPolicies) a change reaches.
//
// # Semantics
//
// A connection S→D on (protocol, port) is allowed iff S's egress evaluation and D's ingress
// evaluation allow it. Each direction: Security-tier CSPs by (priority, name), rules in order,
// first match decides (Allow, Deny, Reject, or Pass = skip the rest of the tier); then the
// NetworkPolicies (if any selects the pod for this direction, the flow is allowed iff some rule
// allows it); then Baseline-tier CSPs the same way; then whatever NSX has below microseg.
//
// # Mapping onto the DFW
//
// Sections, top-down: one per Security CSP ("csp/<name>"), the developer tier packed into
// sections "np/<bucket>" (devtier.go: namespaces bucketed by a hash of their name, a bucket split
// past Settings.SectionFill rules; each namespace's allow rules, then its isolation rules,
// together), one per Baseline CSP. A section past MaxRulesPerSection continues in "<key>#2",
// "<key>#3"... Ingress rules are direction IN, applied to the protected pods, peers in sources;
// egress rules are direction OUT, applied to the selected pods, peers in destinations. Isolation is
// one DROP rule per namespace and direction applied to every pod a policy isolates there
// (isolation.go), after the namespace's allows, so unselected pods fall through to the Baseline
// tier. CSP Deny is DROP, Reject is REJECT, logged is kept.
//
// The output is kept small without changing what it means: a rule an earlier rule of the same
// evaluation (a tier, or a namespace of the developer tier) covers is left out, and a namespace's
// allow rules that differ in one field only are merged (shadow.go, merge.go; a merged rule lists
// its other source rules in Origin.Also). compiletest.MinimalRules states the fewest rules where
// that is known; the tests check the compiler reaches it.
//
// Every source rule is first turned into products (see product): family × self pods × peer
// addresses × services. The DFW's own evaluation at a port gives the "self" dimension for free: an
// IN rule at D's port only sees flows to D.
//
// # Pass
//
// The Manager API has no "skip to the next tier" action, so Pass is compiled away exactly: each
// later rule R of the same tier and direction is restricted to the flows outside every earlier
// Pass P (across policies of the tier). Products are subtracted one Pass product at a time:
//
//	R \ P = (R.fam \ P.fam) × R.self × R.peer × R.svc
//	      ∪ R.fam × (R.self \ P.self) × R.peer × R.svc
//	      ∪ R.fam × R.self × (R.peer \ P.peer) × R.svc
//	      ∪ R.fam × R.self × R.peer × (R.svc \ P.svc)
//
// (a flow of R outside P misses P in some dimension; the pieces may overlap, harmless as they share
// R's action). If R and P are disjoint in any dimension R stays as it is, groups included.
// Products with equal self and peer are merged (services unioned) after each step.
//
//   - Families: a peer covering all of IPv4 (or IPv6) becomes "any peer, ip_protocol IPV4" plus
//     the rest, so "Pass to 0.0.0.0/0" subtracts exactly.
//   - Self sets are pod sets: the difference is computed on the snapshot's pods. It keeps a tag
//     group when tags can express it (term-level difference: a term survives if every Pass term is
//     disjoint from it, disappears if one subsumes it; a cluster-wide term is split per namespace
//     when the Pass names namespaces); otherwise the exact set becomes an IPSet restriction.
//   - Peer sets are address sets: pods (all their addresses), CIDRs, and NSX groups. Pods and CIDRs
//     are subtracted exactly with CIDR arithmetic (go4.org/netipx); a pod losing only some of its
//     addresses keeps the others as plain addresses. "Any" minus P becomes the negated list
//     (sources_excluded / destinations_excluded) of P's peers, which stays exact for NSX groups.
//   - Services are exact sets over TCP/UDP/SCTP ports plus "every other protocol".
//   - NSX groups (nsxGroups peers): the compiler cannot see their members. A group minus itself
//     is empty; any-minus-group is exact (excluded list). Otherwise the compiler assumes that an
//     NSX group shares no address with this cluster's pods, with CIDR peers, or with differently
//     named NSX groups, and emits ExternalGroupMembershipUnknown on the restricted rule naming the
//     Pass rule. (Typical NSX groups hold VMs or physical servers, so the assumption usually holds;
//     when it does not, flows from group members that the rule's CIDRs also cover are decided by
//     the rule instead of being passed.)
//   - Budget: more than Settings.MaxPassPieces products for one rule is realized fail-closed: a
//     Deny/Reject keeps its whole match, an Allow is dropped (warning PassRestrictionTooComplex).
//     Either way nothing is allowed that the policies deny.
//
// # Named ports
//
// A named port resolves on the destination pod: container port with that name and protocol
// (TCP by default), app containers only. Ingress: the self pods are split by the number each pod
// gives the name, one product (so one or more DFW rules) per distinct number, applied to exactly
// the pods resolving to it; pods without the name match nothing. Egress: the destination peers are
// split the same way; only pods resolve names, so addresses outside the cluster's pods (CIDRs that
// cover no pod, NSX groups) never match a named port, and a pod inside a CIDR peer by only some of
// its addresses keeps just those. When every pod resolves to the same number the original set and
// its tag group are kept. Numeric and named ports resolving alike share one rule.
//
// # Groups
//
// Groups are content-addressed (key = kind prefix + hash of the normalised content, including the
// cluster id) and shared by every rule needing the same membership. A group that is not the tag
// group of an exact selector records why it exists (ir.Group.Reason), for ir.UsageOf. The model
// also records its busiest pod port (ir.PortLoad: the most rules whose applied_to holds one pod's
// port), which NSX bounds per vNIC (portload.go). Realization of a pod set:
//
//	pod set                                                  realized as
//	-----------------------------------------------------   ---------------------------------------
//	selector terms all exact, ≤ MaxCriteriaPerGroup terms    TagGroup (criteria ORed)
//	exact, more terms                                        TagGroups of ≤5 criteria in NestedGroups
//	                                                         (≤500 members each, up to MaxGroupNesting
//	                                                         levels; past that or past MaxSelectorTerms
//	                                                         criteria: like an inexact set below)
//	NotIn / DoesNotExist / In "" / >3 label conditions /     as a peer: IPSet(s) of pod addresses;
//	  label key >128 chars or "ncp/…" / case-variant          as applied_to: tag superset (dropped
//	  spellings in scope / >27 labels on a pod in scope /     conditions) plus the IPSet as address
//	  named-port split / non-tag difference /                 restriction (destinations of IN rules,
//	  criteria a forged identity label matches (below)        sources of OUT rules)
//	no pod has an address (inexact set)                      the rule is not emitted (matches nothing)
//
// A term is one NSGroupComplexExpression: ncp/cluster=<id> AND ncp/project=<ns> (or "ncp/pod
// exists" for every namespace, which keeps node ports out) AND up to three label tags (scope=key,
// tag=value, or scope only for Exists). Namespace selectors are resolved by the compiler to the
// matching namespace names, since ports carry no namespace labels; an empty namespace selector is
// "every namespace" (one cluster-wide term). applied_tos never hold IPSets (NSX ignores an NSGroup
// with IPSets there). CIDRs become IPv4Address/IPv6Address literal refs (at most
// MaxLiteralAddresses per peer, else IPSets of ranges). IPSets are per family and hold at most
// MaxIPSetEntries entries (split into several refs). Tag-based groups need no NSX write when pods
// come and go; IPSets do, hence tags whenever they are exact.
//
// # Limits
//
// Nothing valid is ever rejected because of an NSX limit: rules are split past MaxRefsPerField
// per field (positive lists only; a negated list is collapsed into one NestedGroup, since
// NOT(A ∪ B) is not NOT A ∪ NOT B) and past MaxServicesPerRule services; port lists are split at
// MaxPortsPerEntry per L4PortSet entry; sections at MaxRulesPerSection; criteria and members as
// above. Split rules of one source rule are numbered "<rule key>/<n>". ir.Check verifies the output
// against the limits.
//
// # Inexact cases (always reported, never silent)
//
//   - SCTP (SCTPPortsNotExpressible): L4PortSetNSService carries TCP and UDP only. SCTP on every
//     port is exact (IPProtocolNSService 132). SCTP on some ports is fail-closed: an Allow is not
//     realized for SCTP, a Deny/Reject covers every SCTP port.
//   - NSX groups (ExternalGroupMembershipUnknown): the disjointness assumption above, for Pass
//     restrictions, and named ports never match NSX group members (assumed not to be pods).
//   - Pass budget (PassRestrictionTooComplex): fail-closed, as above.
//
// # Pods and namespaces
//
// Host-network pods and finished pods (Succeeded, Failed) take no part: they have no NCP port of
// their own and their addresses may belong to another pod. Pods without addresses are members of
// tag groups (harmless, and right as soon as NCP gives them one) and absent from IPSets. Every
// namespace carries kubernetes.io/metadata.name=<name> as the API server sets it (added when an
// input lacks it); a pod whose namespace is missing gets a namespace with only that label.
//
// # NCP assumptions
//
// Pod ports carry ncp/cluster, ncp/project=<namespace>, ncp/pod=<name> and one tag per label
// (scope=key, tag=value), 30 tags at most (so at most 27 labels survive; with more, label tags are
// not trusted in that namespace), keys truncated to 128 characters (such keys are not used); the
// layout is internal/ncptags', shared with the NCP emulator. Tags may match case-insensitively
// (NSX ≥ 3): a label condition is used only if no pod in scope spells the key or pair differently
// up to case. Cluster ids are assumed unique up to case.
//
// # Forged identity labels
//
// NCP copies every label, so a pod labelled ncp/project=z1 in namespace x1 carries a second,
// forged project tag, and a criterion "ncp/project=z1 AND app=service-c" would match it. The
// compiler trusts no tag form a forged tag could fool (forgery.go): before a tag group realizes a
// rule's subjects or peers, every pod with a label in a reserved scope (ncptags.IsReservedScope,
// any ncp/… key, case-insensitively) is matched against the group's criteria with every tag its
// port may carry, case folded; if one matches without being in the set, the set is realized like
// an inexact one (table above): peers by the IPSet of their pods' addresses, subjects by the tag
// group restricted to their pods' addresses. That is exact for the pods compiled, in both tiers,
// both directions, after Pass differences and named-port splits, and for negated (excluded) peer
// lists. Warnings (ForgedIdentityLabel) go on every rule affected and on the pod. Selectors on
// reserved keys are never tag criteria. What the compiler cannot do: see pods of other clusters
// that share the NSX Manager (their forged ncp/cluster tags can match this cluster's groups), or
// close the window between a pod getting its forged tags and the next sync; the admission policy
// of config/admission refuses such labels at the API server (docs/security.md).
package compile
