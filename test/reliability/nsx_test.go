package reliability_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/internal/ncpemu"
	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/internal/nsxsim/dataplane"
	"github.com/microseg/microseg/internal/nsxsync/policy"
	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/simnsx"
	"github.com/microseg/microseg/nsxclient"
)

const cluster = "reliability"

// nsxWorld is one simulated NSX manager: the pod ports of a world as NCP lays them out for the API
// (logical ports, or segment ports in Policy mode), other users' objects around microseg's, and
// an administrator's client (NCP's and the security team's, never microseg's).
type nsxWorld struct {
	t     testing.TB
	ctx   context.Context
	api   string
	nsx   *simnsx.NSX
	sim   *nsxsim.Server
	admin *nsxclient.Client
	// ports are the pods' NCP ports by pod UID, with the pod each was made for.
	ports map[types.UID]portOf
	// anchor is the hand-made section microseg's block sits below (Manager API).
	anchor string
	// foreign is the _revision of every object of other users, which microseg must never change.
	foreign map[string]int64
}

type portOf struct {
	id  string
	pod corev1.Pod
}

// startNSX starts a simulator (over TLS when tls is set: dropped connections need a socket) with
// other users' objects: on the Manager API a hand-made section above microseg's block (the
// anchor, with a DROP) and one below (only ALLOWs, as the Manager guard's assumption wants); on
// the Policy API other users' policies above, between and below microseg's bands, with denies.
func startNSX(t testing.TB, api string, tls bool, simOpts nsxsim.Options) *nsxWorld {
	t.Helper()
	if simOpts.Seed == 0 {
		simOpts.Seed = 17
	}
	transport := simnsx.InProcess
	if tls {
		transport = simnsx.TLS
	}
	n := simnsx.StartT(t, simnsx.Options{Transport: transport, Sim: simOpts, Client: func(c *nsxclient.Config) {
		c.MaxRetries, c.RetryBaseDelay, c.RetryMaxDelay, c.MaxRetryAfter = 20, time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
	}})
	w := &nsxWorld{t: t, ctx: context.Background(), api: api, nsx: n, sim: n.Sim, admin: n.Client, ports: map[types.UID]portOf{}}
	if api == policy.API {
		seg := layout.Segment(ncpemu.Config{ClusterName: cluster, API: ncpemu.APIPolicy})
		if err := w.admin.Policy().PatchSegment(w.ctx, seg); err != nil {
			t.Fatal(err)
		}
		w.addForeignPolicies()
	} else {
		w.addHandMadeSections()
	}
	w.foreign = w.foreignRevisions()
	return w
}

func (w *nsxWorld) addHandMadeSections() {
	w.t.Helper()
	add := func(name string, rule nsxclient.FirewallRule, pos nsxclient.Position) string {
		rule.DisplayName = name + "-rule"
		out, err := w.admin.CreateSectionWithRules(w.ctx, nsxclient.FirewallSectionRuleList{
			FirewallSection: nsxclient.FirewallSection{ManagedResource: nsxclient.ManagedResource{DisplayName: name,
				Tags: []nsxclient.Tag{{Scope: "owner", Tag: "security-team"}}}, SectionType: nsxclient.SectionLayer3, Stateful: true},
			Rules: []nsxclient.FirewallRule{rule},
		}, pos)
		if err != nil {
			w.t.Fatal(err)
		}
		return out.ID
	}
	w.anchor = add("hand-made-above", nsxclient.FirewallRule{Action: "DROP", Direction: "IN_OUT",
		Sources:  []nsxclient.ResourceReference{{TargetType: "IPv4Address", TargetID: "10.20.0.3"}},
		Services: []nsxclient.FirewallService{nsxclient.L4PortSet("TCP", "443")}}, nsxclient.Top())
	add("hand-made-below", nsxclient.FirewallRule{Action: "ALLOW", Direction: "IN_OUT",
		Services: []nsxclient.FirewallService{nsxclient.L4PortSet("UDP", "53")}}, nsxclient.Bottom())
}

// addForeignPolicies: an Environment policy above microseg's (it drops web → db on 5432), one
// between the Security band and the Application category (it drops api → web on 80), and an
// Application policy between the developer and the Baseline bands (it rejects db → api on 53).
func (w *nsxWorld) addForeignPolicies() {
	w.t.Helper()
	p := w.admin.Policy()
	group := func(app string) string {
		id := "team-" + app
		if err := p.PatchGroup(w.ctx, nsxclient.DefaultDomain, nsxclient.PolicyGroup{PolicyResource: nsxclient.PolicyResource{ID: id},
			Expression: []nsxclient.PolicyExpression{nsxclient.TagEquals(nsxclient.MemberSegmentPort, "app", app)}}); err != nil {
			w.t.Fatal(err)
		}
		return nsxclient.GroupPath(nsxclient.DefaultDomain, id)
	}
	web, api, db := group("web"), group("api"), group("db")
	rule := func(id, action, dir, scope, src, dst string, entry nsxclient.ServiceEntry) nsxclient.PolicyRule {
		return nsxclient.PolicyRule{PolicyResource: nsxclient.PolicyResource{ID: id}, Action: action, Direction: dir,
			SourceGroups: []string{src}, DestinationGroups: []string{dst}, Scope: []string{scope},
			Services: []string{nsxclient.AnyPath}, ServiceEntries: []nsxclient.ServiceEntry{entry}, SequenceNumber: 1}
	}
	for _, sp := range []nsxclient.SecurityPolicy{
		{PolicyResource: nsxclient.PolicyResource{ID: "zone-top"}, Category: nsxclient.CategoryEnvironment, SequenceNumber: 50,
			Rules: []nsxclient.PolicyRule{rule("deny-web-db", "DROP", "IN", db, web, db, nsxclient.L4PortSetEntry("TCP", "5432"))}},
		{PolicyResource: nsxclient.PolicyResource{ID: "zone-mid"}, Category: nsxclient.CategoryEnvironment, SequenceNumber: 250000,
			Rules: []nsxclient.PolicyRule{rule("deny-api-web", "DROP", "OUT", api, api, web, nsxclient.L4PortSetEntry("TCP", "80"))}},
		{PolicyResource: nsxclient.PolicyResource{ID: "app-mid"}, Category: nsxclient.CategoryApplication, SequenceNumber: 399999,
			Rules: []nsxclient.PolicyRule{rule("reject-db-api", "REJECT", "IN", api, db, api, nsxclient.L4PortSetEntry("UDP", "53"))}},
	} {
		if err := p.PatchSecurityPolicy(w.ctx, nsxclient.DefaultDomain, sp); err != nil {
			w.t.Fatal(err)
		}
	}
}

// foreignRevisions reads the _revision of every section or security policy microseg does not own.
func (w *nsxWorld) foreignRevisions() map[string]int64 {
	w.t.Helper()
	out := map[string]int64{}
	if w.api == policy.API {
		sps, err := w.admin.Policy().ListSecurityPolicies(w.ctx, nsxclient.DefaultDomain, nsxclient.ListSecurityPoliciesOptions{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, sp := range sps {
			if !ownership.Owned(sp.Tags, cluster) {
				out["policy "+sp.ID] = revisionOf(sp.Revision)
			}
		}
		return out
	}
	secs, err := w.admin.ListSections(w.ctx, nsxclient.ListSectionsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range secs {
		if !ownership.Owned(s.Tags, cluster) {
			out["section "+s.DisplayName] = s.Revision
		}
	}
	return out
}

func revisionOf(r *int64) int64 {
	if r == nil {
		return -1
	}
	return *r
}

// syncPorts makes the pod ports match the world's running pods, as NCP does: a port for each new
// pod, new tags for a relabeled one, and no port for a deleted one.
func (w *nsxWorld) syncPorts(wd *world) {
	w.t.Helper()
	cfg := ncpemu.Config{ClusterName: cluster, API: w.api}
	live := map[types.UID]bool{}
	for _, p := range wd.podsByName() {
		live[p.UID] = true
		have, ok := w.ports[p.UID]
		if ok && maps.Equal(have.pod.Labels, p.Labels) {
			continue
		}
		addrs := []netip.Addr{netip.MustParseAddr(p.Status.PodIP)}
		var id string
		if w.api == policy.API {
			sp := layout.SegmentPortForPod(cfg, &p, addrs)
			if err := w.admin.Policy().PatchSegmentPort(w.ctx, layout.Segment(cfg).ID, sp); err != nil {
				w.t.Fatal(err)
			}
			id = sp.ID
		} else {
			lp := layout.PortForPod(cfg, &p, addrs)
			if ok {
				cur, err := w.admin.GetLogicalPort(w.ctx, have.id)
				if err != nil {
					w.t.Fatal(err)
				}
				cur.Tags = lp.Tags
				if _, err := w.admin.UpdateLogicalPort(w.ctx, *cur); err != nil {
					w.t.Fatal(err)
				}
				id = have.id
			} else {
				created, err := w.admin.CreateLogicalPort(w.ctx, lp)
				if err != nil {
					w.t.Fatal(err)
				}
				id = created.ID
			}
		}
		w.ports[p.UID] = portOf{id: id, pod: p}
	}
	for uid, port := range w.ports {
		if live[uid] {
			continue
		}
		var err error
		if w.api == policy.API {
			err = w.admin.Policy().DeleteSegmentPort(w.ctx, layout.Segment(cfg).ID, port.id)
		} else {
			err = w.admin.DeleteLogicalPort(w.ctx, port.id, true)
		}
		if err != nil {
			w.t.Fatal(err)
		}
		delete(w.ports, uid)
	}
}

// flow is one connection between two pods (by address) on a test port.
type flow struct {
	src, dst string // pod addresses
	l4
}

func (f flow) String() string { return fmt.Sprintf("%s→%s %s/%d", f.src, f.dst, f.proto, f.port) }

// flows is every ordered pair of the world's pods on every test port: every port a policy names.
func flows(wd *world) []flow {
	var out []flow
	for _, s := range wd.pods {
		for _, d := range wd.pods {
			if s.UID == d.UID {
				continue
			}
			for _, p := range testPorts {
				out = append(out, flow{src: s.Status.PodIP, dst: d.Status.PodIP, l4: p})
			}
		}
	}
	return out
}

func (w *nsxWorld) trace(f flow) dataplane.Result {
	res, err := w.sim.Traceflow(w.ctx, dataplane.Flow{SrcIP: f.src, DstIP: f.dst, Protocol: f.proto, DstPort: f.port})
	if err != nil {
		w.t.Fatalf("traceflow %s: %v", f, err)
	}
	return res
}

// verdicts traces every flow.
func (w *nsxWorld) verdicts(fs []flow) map[flow]bool {
	out := make(map[flow]bool, len(fs))
	for _, f := range fs {
		out[f] = w.trace(f).Allowed
	}
	return out
}

// inventory counts microseg's objects in NSX by kind and key, read with the administrator's
// client and nothing of microseg's code but the tag vocabulary: sections (or security
// policies), the rules in them (by the key in their notes or tags), and groups. A count above
// one is a duplicate; a key the reference realization of the model does not have is an orphan.
func (w *nsxWorld) inventory() map[string]int {
	w.t.Helper()
	if w.api == policy.API {
		return w.policyInventory()
	}
	out := map[string]int{}
	secs, err := w.admin.ListSections(w.ctx, nsxclient.ListSectionsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range secs {
		if !ownership.Owned(s.Tags, cluster) {
			continue
		}
		key := ownership.TagValue(s.Tags, ownership.TagKey)
		if ownership.IsGuard(s.Tags) {
			key = "guard " + key
		}
		out["section "+key]++
		rules, err := w.admin.ListRules(w.ctx, s.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range rules {
			rk, ok := ownership.RuleKeyFromNotes(r.Notes)
			if !ok {
				rk = "(no key: " + r.DisplayName + ")"
			}
			out["rule "+key+" / "+rk]++
		}
	}
	groups, err := w.admin.ListNSGroups(w.ctx, nsxclient.ListNSGroupsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, g := range groups {
		if ownership.Owned(g.Tags, cluster) {
			out["nsgroup "+ownership.TagValue(g.Tags, ownership.TagKey)]++
		}
	}
	ipsets, err := w.admin.ListIPSets(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range ipsets {
		if ownership.Owned(s.Tags, cluster) {
			out["ipset "+ownership.TagValue(s.Tags, ownership.TagKey)]++
		}
	}
	return out
}

func (w *nsxWorld) policyInventory() map[string]int {
	out := map[string]int{}
	p := w.admin.Policy()
	sps, err := p.ListSecurityPolicies(w.ctx, nsxclient.DefaultDomain, nsxclient.ListSecurityPoliciesOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, sp := range sps {
		if !ownership.Owned(sp.Tags, cluster) {
			continue
		}
		key := ownership.TagValue(sp.Tags, ownership.TagKey)
		if ownership.IsGuard(sp.Tags) {
			key = "guard " + key
		}
		out["policy "+key]++
		rules, err := p.ListRules(w.ctx, nsxclient.DefaultDomain, sp.ID, nsxclient.PolicyListOptions{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range rules {
			rk := ownership.TagValue(r.Tags, ownership.TagKey)
			if !ownership.Owned(r.Tags, cluster) {
				rk = "(not owned: " + r.ID + ")"
			}
			out["rule "+key+" / "+rk]++
		}
	}
	groups, err := p.ListGroups(w.ctx, nsxclient.DefaultDomain, nsxclient.ListGroupsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, g := range groups {
		if ownership.Owned(g.Tags, cluster) {
			out["group "+ownership.TagValue(g.Tags, ownership.TagKey)]++
		}
	}
	return out
}

// inventoryDiff says how got differs from want: duplicates, orphans (in NSX, not in the model's
// realization) and missing objects.
func inventoryDiff(got, want map[string]int) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(got)) {
		switch {
		case got[k] > 1:
			out = append(out, fmt.Sprintf("duplicated ×%d: %s", got[k], k))
		case want[k] == 0:
			out = append(out, "orphaned: "+k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got[k] == 0 {
			out = append(out, "missing: "+k)
		}
	}
	return out
}

// checkForeign fails when an object of another user changed.
func (w *nsxWorld) checkForeign() {
	w.t.Helper()
	if now := w.foreignRevisions(); !maps.Equal(now, w.foreign) {
		w.t.Errorf("other users' objects changed: before %v, after %v", w.foreign, now)
	}
}

// baseTransport is a fresh connection pool to the simulator for one process, closed when the
// process goes away.
func (w *nsxWorld) baseTransport() http.RoundTripper {
	if w.nsx.Server == nil {
		return simnsx.HandlerTransport{Handler: w.sim}
	}
	return w.nsx.Server.Client().Transport.(*http.Transport).Clone()
}

// ownedIDs lists microseg's objects by the simulator's kind names, with the IDs the simulator's
// concurrent edits match (Manager IDs, Policy paths): the targets of the soak's concurrent edits,
// which must not touch other users' objects (their revisions are checked).
func (w *nsxWorld) ownedIDs() map[string][]string {
	w.t.Helper()
	out := map[string][]string{}
	if w.api == policy.API {
		p := w.admin.Policy()
		sps, err := p.ListSecurityPolicies(w.ctx, nsxclient.DefaultDomain, nsxclient.ListSecurityPoliciesOptions{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, sp := range sps {
			if !ownership.Owned(sp.Tags, cluster) {
				continue
			}
			out[nsxsim.KindSecurityPolicy] = append(out[nsxsim.KindSecurityPolicy], nsxclient.SecurityPolicyPath(nsxclient.DefaultDomain, sp.ID))
			rules, err := p.ListRules(w.ctx, nsxclient.DefaultDomain, sp.ID, nsxclient.PolicyListOptions{})
			if err != nil {
				w.t.Fatal(err)
			}
			for _, r := range rules {
				out[nsxsim.KindPolicyRule] = append(out[nsxsim.KindPolicyRule], nsxclient.RulePath(nsxclient.DefaultDomain, sp.ID, r.ID))
			}
		}
		groups, err := p.ListGroups(w.ctx, nsxclient.DefaultDomain, nsxclient.ListGroupsOptions{})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, g := range groups {
			if ownership.Owned(g.Tags, cluster) {
				out[nsxsim.KindPolicyGroup] = append(out[nsxsim.KindPolicyGroup], nsxclient.GroupPath(nsxclient.DefaultDomain, g.ID))
			}
		}
		return out
	}
	secs, err := w.admin.ListSections(w.ctx, nsxclient.ListSectionsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, s := range secs {
		if !ownership.Owned(s.Tags, cluster) {
			continue
		}
		out[nsxsim.KindSection] = append(out[nsxsim.KindSection], s.ID)
		rules, err := w.admin.ListRules(w.ctx, s.ID)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, r := range rules {
			out[nsxsim.KindRule] = append(out[nsxsim.KindRule], r.ID)
		}
	}
	groups, err := w.admin.ListNSGroups(w.ctx, nsxclient.ListNSGroupsOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, g := range groups {
		if ownership.Owned(g.Tags, cluster) {
			out[nsxsim.KindNSGroup] = append(out[nsxsim.KindNSGroup], g.ID)
		}
	}
	return out
}
