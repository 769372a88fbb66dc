package nsxapi_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/microseg/microseg/internal/nsxsim"
	"github.com/microseg/microseg/nsxclient"
)

// TestNSGroupCRUDWithEveryExpressionKind writes tag, complex and simple expressions, reads them
// back, replaces them (PUT) and deletes the group.
func TestNSGroupCRUDWithEveryExpressionKind(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		ipset := try(h.c.CreateIPSet(ctx, namedIPSet("external", "198.51.100.0/24"))).must(t)
		body := namedGroup("web")
		body.Description = "pods of service web in namespace shop"
		body.Tags = []nsxclient.Tag{{Scope: "microseg/cluster", Tag: "c1"}}
		body.MembershipCriteria = []nsxclient.NSGroupExpression{
			allOf(portTagExpr("ncp/project", "shop"), portTagExpr("app", "web")),
			portTagExpr("role", "frontend"),
		}
		body.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetIPSet, ipset.ID)}
		created := try(h.c.CreateNSGroup(ctx, body)).must(t)
		if created.ID == "" || created.ResourceType != "NSGroup" || created.Revision != 0 || created.MemberCount != 1 {
			t.Errorf("created %+v", created)
		}

		got := try(h.c.GetNSGroup(ctx, created.ID)).must(t)
		if len(got.MembershipCriteria) != 2 || len(got.MembershipCriteria[0].Expressions) != 2 ||
			got.MembershipCriteria[0].Expressions[1].Tag != "web" || got.MembershipCriteria[1].Scope != "role" {
			t.Errorf("criteria read back as %+v", got.MembershipCriteria)
		}
		if len(got.Members) != 1 || got.Members[0].Value != ipset.ID || got.Members[0].TargetResource != nil {
			t.Errorf("members read back as %+v (target_resource only with populate_references)", got.Members)
		}

		got.MembershipCriteria = []nsxclient.NSGroupExpression{portTagExpr("app", "web-v2")}
		got.Members = nil
		got.DisplayName = "web-v2"
		updated := try(h.c.UpdateNSGroup(ctx, *got)).must(t)
		if updated.Revision != 1 || updated.DisplayName != "web-v2" || len(updated.Members) != 0 || len(updated.MembershipCriteria) != 1 {
			t.Errorf("after PUT: %+v", updated)
		}

		mustOK(t, h.c.DeleteNSGroup(ctx, created.ID, false))
		if _, err := h.c.GetNSGroup(ctx, created.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("deleted group: want ErrNotFound, got %v", err)
		}
		if err := h.c.DeleteNSGroup(ctx, created.ID, false); !nsxclient.IsNotFound(err) {
			t.Errorf("deleting twice: want ErrNotFound, got %v", err)
		}
	})
}

// TestNSGroupStaticMembers adds and removes static members without a revision.
func TestNSGroupStaticMembers(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		g := try(h.c.CreateNSGroup(ctx, namedGroup("static"))).must(t)
		inner := try(h.c.CreateNSGroup(ctx, namedGroup("inner"))).must(t)
		ipset := try(h.c.CreateIPSet(ctx, namedIPSet("ips", "10.9.0.1"))).must(t)
		port := try(h.c.CreateLogicalPort(ctx, podPort("p", "ls-1", "10.9.0.2"))).must(t)

		members := []nsxclient.NSGroupExpression{
			nsxclient.StaticMember(nsxclient.TargetIPSet, ipset.ID),
			nsxclient.StaticMember(nsxclient.TargetLogicalPort, port.ID),
			nsxclient.StaticMember(nsxclient.TargetNSGroup, inner.ID),
		}
		added := try(h.c.AddNSGroupMembers(ctx, g.ID, members)).must(t)
		if added.MemberCount != 3 || added.Revision != 1 {
			t.Errorf("after ADD_MEMBERS: member_count %d, revision %d", added.MemberCount, added.Revision)
		}
		again := try(h.c.AddNSGroupMembers(ctx, g.ID, members[:1])).must(t)
		if again.MemberCount != 3 {
			t.Errorf("adding a present member twice: member_count %d, want 3 (membership is a set)", again.MemberCount)
		}
		removed := try(h.c.RemoveNSGroupMembers(ctx, g.ID, members[1:2])).must(t)
		if removed.MemberCount != 2 || slices.ContainsFunc(removed.Members, func(m nsxclient.NSGroupExpression) bool { return m.Value == port.ID }) {
			t.Errorf("after REMOVE_MEMBERS: %+v", removed.Members)
		}
		try(h.c.RemoveNSGroupMembers(ctx, g.ID, nil)).must(t) // an empty list is a valid no-op
		if _, err := h.c.RemoveNSGroupMembers(ctx, "no-such-group", members[:1]); !nsxclient.IsNotFound(err) {
			t.Errorf("REMOVE_MEMBERS on a missing group: want ErrNotFound, got %v", err)
		}
		tagMember := []nsxclient.NSGroupExpression{portTagExpr("app", "web")}
		if _, err := h.c.AddNSGroupMembers(ctx, g.ID, tagMember); apiError(t, err).ErrorCode != nsxclient.ErrCodeFieldValidation {
			t.Errorf("a tag expression as a static member: want a field validation error, got %v", err)
		}

		all := try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{PopulateReferences: true})).must(t)
		i := slices.IndexFunc(all, func(x nsxclient.NSGroup) bool { return x.ID == g.ID })
		if i < 0 {
			t.Fatalf("group %s not listed", g.ID)
		}
		for _, m := range all[i].Members {
			if m.TargetResource == nil || m.TargetResource.IsValid == nil || !*m.TargetResource.IsValid || m.TargetResource.TargetDisplayName == "" {
				t.Errorf("populate_references: member %s has target_resource %+v", m.Value, m.TargetResource)
			}
		}
	})
}

// TestNSGroupListFollowsShortPages creates more than the 50 NSGroups NSX puts in one page,
// whatever page_size says, and lists them all.
func TestNSGroupListFollowsShortPages(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		var want []string
		for i := range 57 {
			name := fmt.Sprintf("group-%02d", i)
			try(h.c.CreateNSGroup(ctx, namedGroup(name))).must(t)
			want = append(want, name)
		}
		h.calls.reset()
		all := try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})).must(t)
		got := make([]string, len(all))
		for i, g := range all {
			got[i] = g.DisplayName
		}
		equalStrings(t, "every group, in creation order", got, want)
		if pages := len(h.calls.to("GET /ns-groups")); pages != 2 {
			t.Errorf("57 groups took %d pages, want 2 (50 + 7)", pages)
		}
	}, withSim(func(o *nsxsim.Options) { o.DefaultPageSize = 1000 }))
}

// TestNSGroupEffectiveMembers resolves criteria and static members to ports and addresses, page
// by page.
func TestNSGroupEffectiveMembers(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		var webPorts []string
		for i, ip := range []string{"10.0.0.10", "10.0.0.20", "10.0.0.30", "10.0.0.40", "10.0.0.50"} {
			p := podPort(fmt.Sprintf("web-%d", i), "ls-shop", ip, "ncp/project=shop", "app=web")
			webPorts = append(webPorts, try(h.c.CreateLogicalPort(ctx, p)).must(t).ID)
		}
		dualStack := podPort("web-v6", "ls-shop", "10.0.0.60", "ncp/project=shop", "app=web")
		dualStack.AddressBindings = append(dualStack.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: "fd00::60"})
		webPorts = append(webPorts, try(h.c.CreateLogicalPort(ctx, dualStack)).must(t).ID)
		try(h.c.CreateLogicalPort(ctx, podPort("db", "ls-shop", "10.0.0.99", "ncp/project=shop", "app=db"))).must(t)
		try(h.c.CreateLogicalPort(ctx, podPort("web-elsewhere", "ls-dev", "10.0.1.10", "ncp/project=dev", "app=web"))).must(t)
		ipset := try(h.c.CreateIPSet(ctx, namedIPSet("partners", "192.168.1.0/24"))).must(t)

		body := namedGroup("shop-web")
		body.MembershipCriteria = []nsxclient.NSGroupExpression{allOf(portTagExpr("ncp/project", "shop"), portTagExpr("app", "web"))}
		body.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetIPSet, ipset.ID)}
		g := try(h.c.CreateNSGroup(ctx, body)).must(t)

		refs := try(h.c.ListNSGroupEffectiveLogicalPortMembers(ctx, g.ID)).must(t)
		var ports []string
		for _, r := range refs {
			if r.TargetType != nsxclient.TargetLogicalPort || r.IsValid == nil || !*r.IsValid {
				t.Errorf("effective port member %+v", r)
			}
			ports = append(ports, r.TargetID)
		}
		slices.Sort(webPorts)
		equalStrings(t, "effective logical ports (shop AND web; not db, not dev)", ports, webPorts)

		ips := try(h.c.ListNSGroupEffectiveIPAddressMembers(ctx, g.ID)).must(t)
		equalStrings(t, "effective IP addresses", ips,
			[]string{"10.0.0.10", "10.0.0.20", "10.0.0.30", "10.0.0.40", "10.0.0.50", "10.0.0.60", "192.168.1.0/24", "fd00::60"})

		empty := try(h.c.CreateNSGroup(ctx, namedGroup("empty"))).must(t)
		if got := try(h.c.ListNSGroupEffectiveIPAddressMembers(ctx, empty.ID)).must(t); len(got) != 0 {
			t.Errorf("an empty group has addresses %q", got)
		}
		if _, err := h.c.ListNSGroupEffectiveLogicalPortMembers(ctx, "no-such-group"); !nsxclient.IsNotFound(err) {
			t.Errorf("effective ports of a missing group: want ErrNotFound, got %v", err)
		}
		if _, err := h.c.ListNSGroupEffectiveIPAddressMembers(ctx, "no-such-group"); !nsxclient.IsNotFound(err) {
			t.Errorf("effective addresses of a missing group: want ErrNotFound, got %v", err)
		}
	})
}

// TestNSGroupInUseAndForcedDelete: a referenced group is refused without force; with force it
// goes, and every reference to it reads back as is_valid=false.
func TestNSGroupInUseAndForcedDelete(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		inner := try(h.c.CreateNSGroup(ctx, namedGroup("inner"))).must(t)
		outerBody := namedGroup("outer")
		outerBody.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetNSGroup, inner.ID)}
		outer := try(h.c.CreateNSGroup(ctx, outerBody)).must(t)
		used := try(h.c.CreateNSGroup(ctx, namedGroup("used-by-rule"))).must(t)
		rule := allowRule("from-used")
		rule.Sources = []nsxclient.ResourceReference{groupRef(used.ID)}
		secBody := layer3Section("applied-to-used")
		secBody.AppliedTos = []nsxclient.ResourceReference{groupRef(used.ID)}
		sec := try(h.c.CreateSectionWithRules(ctx, withRules(secBody, rule), nsxclient.Top())).must(t)

		for _, id := range []string{inner.ID, used.ID} {
			err := h.c.DeleteNSGroup(ctx, id, false)
			if !nsxclient.IsInUse(err) {
				t.Fatalf("deleting referenced group %s without force: want ErrInUse, got %v", id, err)
			}
			if e := apiError(t, err); e.ErrorCode != nsxclient.ErrCodeResourceInUse || e.Message == "" {
				t.Errorf("in-use error: code %d, message %q", e.ErrorCode, e.Message)
			}
		}

		mustOK(t, h.c.DeleteNSGroup(ctx, used.ID, true))
		mustOK(t, h.c.DeleteNSGroup(ctx, inner.ID, true))
		if _, err := h.c.GetNSGroup(ctx, used.ID); !nsxclient.IsNotFound(err) {
			t.Errorf("force-deleted group: want ErrNotFound, got %v", err)
		}
		r := try(h.c.GetRule(ctx, sec.ID, sec.Rules[0].ID)).must(t)
		assertInvalidRef(t, "rule source", r.Sources, used.ID)
		assertInvalidRef(t, "section applied_to", try(h.c.GetSection(ctx, sec.ID)).must(t).AppliedTos, used.ID)
		assertInvalidRef(t, "list_with_rules source", try(h.c.ListSectionWithRules(ctx, sec.ID)).must(t).Rules[0].Sources, used.ID)

		groups := try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{PopulateReferences: true})).must(t)
		i := slices.IndexFunc(groups, func(g nsxclient.NSGroup) bool { return g.ID == outer.ID })
		if i < 0 || len(groups[i].Members) != 1 || groups[i].Members[0].TargetResource == nil {
			t.Fatalf("outer group after the forced delete of its member: %+v", groups)
		}
		if tr := groups[i].Members[0].TargetResource; tr.IsValid == nil || *tr.IsValid {
			t.Errorf("member reference to a force-deleted group: %+v, want is_valid=false", tr)
		}
	})
}

// TestNSGroupListMemberTypesFilter: ListNSGroupsOptions.MemberTypes documents "keeps only
// groups with members of these types".
func TestNSGroupListMemberTypesFilter(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	ipset := try(h.c.CreateIPSet(ctx, namedIPSet("ips", "10.1.1.1"))).must(t)
	withIPSet := namedGroup("with-ipset")
	withIPSet.Members = []nsxclient.NSGroupExpression{nsxclient.StaticMember(nsxclient.TargetIPSet, ipset.ID)}
	try(h.c.CreateNSGroup(ctx, withIPSet)).must(t)
	try(h.c.CreateNSGroup(ctx, namedGroup("empty"))).must(t)

	got := try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{MemberTypes: []string{nsxclient.TargetIPSet}})).must(t)
	var names []string
	for _, g := range got {
		names = append(names, g.DisplayName)
	}
	equalStrings(t, "groups with IPSet members", names, []string{"with-ipset"})
}

// assertInvalidRef checks that refs holds a reference to id flagged is_valid=false.
func assertInvalidRef(t *testing.T, what string, refs []nsxclient.ResourceReference, id string) {
	t.Helper()
	for _, r := range refs {
		if r.TargetID == id {
			if r.IsValid == nil || *r.IsValid {
				t.Errorf("%s: reference to deleted %s reads is_valid=%v, want false", what, id, r.IsValid)
			}
			return
		}
	}
	t.Errorf("%s: the reference to %s disappeared (%+v); NSX keeps it and flags it invalid", what, id, refs)
}

// TestNSGroupExpressionLimits: membership criteria beyond NSX's limits are refused with a field
// validation error naming the problem. Most are invalid against the spec as well (declared); a
// CONTAINS tag match on ports and nested complex expressions are valid JSON that only NSX knows
// to refuse.
func TestNSGroupExpressionLimits(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	tag := portTagExpr("app", "web")
	contains := tag
	contains.TagOp = "CONTAINS"
	six := []nsxclient.NSGroupExpression{tag, tag, tag, tag, tag, tag}
	cases := []struct {
		name     string
		criteria []nsxclient.NSGroupExpression
		message  string // in NSX's error message
		spec     string // the spec violation the validators must report, if any
	}{
		{"CONTAINS on a port tag", []nsxclient.NSGroupExpression{contains}, "only EQUALS", ""},
		{"nested complex expressions", []nsxclient.NSGroupExpression{allOf(allOf(tag, tag), tag)}, "cannot be nested", ""},
		{"a complex expression of one", []nsxclient.NSGroupExpression{allOf(tag)}, "between 2 and 5",
			"membership_criteria[0].expressions: 1 items are fewer than minItems 2"},
		{"a complex expression of six", []nsxclient.NSGroupExpression{allOf(six...)}, "between 2 and 5",
			"membership_criteria[0].expressions: 6 items exceed maxItems 5"},
		{"six criteria", six, "maximum size 5", "membership_criteria: 6 items exceed maxItems 5"},
		{"an unknown target type", []nsxclient.NSGroupExpression{{ResourceType: nsxclient.ExprTag, TargetType: "Pod", Scope: "app"}},
			"target_type", `membership_criteria[0].target_type: value "Pod" not in enum`},
	}
	for _, c := range cases {
		if c.spec != "" {
			h.expectSpecViolation(c.spec)
		}
		g := namedGroup(c.name)
		g.MembershipCriteria = c.criteria
		_, err := h.c.CreateNSGroup(ctx, g)
		if e := apiError(t, err); e.StatusCode != 400 || e.ErrorCode != nsxclient.ErrCodeFieldValidation || !strings.Contains(e.Message, c.message) {
			t.Errorf("%s: want 400/255 mentioning %q, got %v", c.name, c.message, err)
		}
	}
	if groups := try(h.c.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})).must(t); len(groups) != 0 {
		t.Errorf("%d refused groups were created", len(groups))
	}
}

// TestListPagesOneAtATime reads the NSGroup and IPSet lists a page at a time, as the rolling
// verification does: result_count on the first page only, a cursor until the last page, and a
// cursor NSX does not know refused with a 400 (the verification then starts the list again).
func TestListPagesOneAtATime(t *testing.T) {
	eachAuthMode(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		for i := range 57 {
			try(h.c.CreateNSGroup(ctx, namedGroup(fmt.Sprintf("group-%02d", i)))).must(t)
		}
		first := try(h.c.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, "")).must(t)
		if len(first.Results) != 50 || first.ResultCount != 57 || first.Next == "" {
			t.Fatalf("first page: %d results, result_count %d, next %q", len(first.Results), first.ResultCount, first.Next)
		}
		last := try(h.c.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, first.Next)).must(t)
		if len(last.Results) != 7 || last.Next != "" || last.ResultCount != 0 {
			t.Fatalf("last page: %d results, result_count %d, next %q", len(last.Results), last.ResultCount, last.Next)
		}
		var apiErr *nsxclient.APIError
		if _, err := h.c.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, "no-such-cursor"); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 {
			t.Fatalf("an unknown cursor: %v", err)
		}
		try(h.c.CreateIPSet(ctx, nsxclient.IPSet{ManagedResource: nsxclient.ManagedResource{DisplayName: "set"}, IPAddresses: []string{"10.0.0.1"}})).must(t)
		sets := try(h.c.ListIPSetsPage(ctx, "")).must(t)
		if len(sets.Results) != 1 || sets.ResultCount != 1 || sets.Next != "" {
			t.Fatalf("IPSets: %+v", sets)
		}
	}, withSim(func(o *nsxsim.Options) { o.DefaultPageSize = 1000 }))
}
