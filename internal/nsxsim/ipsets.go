package nsxsim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// handleListIPSets is GET /ip-sets.
func (s *Server) handleListIPSets(c *call) reply {
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	sets := s.st.ipsets.list()
	all := make([]nsxclient.IPSet, len(sets))
	for i, set := range sets {
		all[i] = *set
	}
	out := paginate(all, page)
	for _, set := range out.Results {
		c.read(KindIPSet, set.ID)
	}
	return ok(out)
}

// handleCreateIPSet is POST /ip-sets (201).
func (s *Server) handleCreateIPSet(c *call) reply {
	st := s.st
	var in nsxclient.IPSet
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	if err := validateIPSet(in); err != nil {
		return fail(err)
	}
	set := writableIPSet(in)
	st.stampCreate(&set.ManagedResource, KindIPSet, c.user)
	st.ipsets.put(set.ID, set)
	st.changed()
	return created(*set)
}

// handleGetIPSet is GET /ip-sets/{id}.
func (s *Server) handleGetIPSet(c *call) reply {
	set, err := s.st.ipset(c.param("ip-set-id"))
	if err != nil {
		return fail(err)
	}
	c.read(KindIPSet, set.ID)
	return ok(*set)
}

// handleUpdateIPSet is PUT /ip-sets/{id}; stale or missing _revision is 412.
func (s *Server) handleUpdateIPSet(c *call) reply {
	st := s.st
	set, err := st.ipset(c.param("ip-set-id"))
	if err != nil {
		return fail(err)
	}
	if set, err = replaceObject(st, c, KindIPSet, set, ipsetMeta, validateIPSet, writableIPSet); err != nil {
		return fail(err)
	}
	return ok(*set)
}

// handleDeleteIPSet is DELETE /ip-sets/{id}?force=. Without force an IP set in an NSGroup or
// referenced by a rule is refused with 400/500030 (nsx-operator and terraform see 400/500030; the vendor spec also lists 409).
func (s *Server) handleDeleteIPSet(c *call) reply {
	st := s.st
	set, err := st.ipset(c.param("ip-set-id"))
	if err != nil {
		return fail(err)
	}
	return st.deleteUnlessReferenced(c, KindIPSet, nsxclient.TargetIPSet, set.ID, st.ipsets.remove)
}

// handleAddIP is POST /ip-sets/{id}?action=add_ip (201, echoes the element). An address already
// present is not added twice.
func (s *Server) handleAddIP(c *call) reply {
	return s.editIPs(c, func(ips []string, ip string) []string {
		if slices.Contains(ips, ip) {
			return ips
		}
		return append(ips, ip)
	})
}

// handleRemoveIP is POST /ip-sets/{id}?action=remove_ip (201). Removing an absent address is
// ignored (UNCONFIRMED; we chose idempotence).
func (s *Server) handleRemoveIP(c *call) reply {
	return s.editIPs(c, func(ips []string, ip string) []string {
		return slices.DeleteFunc(ips, func(x string) bool { return x == ip })
	})
}

func (s *Server) editIPs(c *call, edit func(ips []string, ip string) []string) reply {
	st := s.st
	set, err := st.ipset(c.param("ip-set-id"))
	if err != nil {
		return fail(err)
	}
	var in nsxclient.IPAddressElement
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	var f fieldErrors
	f.required("ip_address", in.IPAddress == "")
	if err := f.err(); err != nil {
		return fail(err)
	}
	candidate := *set
	candidate.IPAddresses = edit(slices.Clone(set.IPAddresses), in.IPAddress)
	if err := validateIPSet(candidate); err != nil {
		return fail(err)
	}
	set.IPAddresses = candidate.IPAddresses
	st.touch(&set.ManagedResource, c.user)
	st.changed()
	return created(nsxclient.IPAddressElement{IPAddress: in.IPAddress})
}

// handleIPSetMembers is GET /ip-sets/{id}/members: the addresses as IPAddressElements, paged.
func (s *Server) handleIPSetMembers(c *call) reply {
	set, err := s.st.ipset(c.param("ip-set-id"))
	if err != nil {
		return fail(err)
	}
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	all := make([]nsxclient.IPAddressElement, len(set.IPAddresses))
	for i, ip := range set.IPAddresses {
		all[i] = nsxclient.IPAddressElement{IPAddress: ip}
	}
	return ok(paginate(all, page))
}

// ipset finds an IPSet or returns NSX's 404.
func (st *state) ipset(id string) (*nsxclient.IPSet, *apiError) {
	set, found := st.ipsets.get(id)
	if !found {
		return nil, errNotFound(id)
	}
	return set, nil
}

func ipsetMeta(s *nsxclient.IPSet) *nsxclient.ManagedResource { return &s.ManagedResource }

func writableIPSet(in nsxclient.IPSet) *nsxclient.IPSet {
	set := &nsxclient.IPSet{IPAddresses: slices.Clone(in.IPAddresses)}
	set.DisplayName, set.Description, set.Tags = in.DisplayName, in.Description, slices.Clone(in.Tags)
	return set
}

// validateIPSet checks the entries (address, CIDR or range, at most 4000) and that the set is
// homogeneous, IPv4 or IPv6 (the vendor spec 2.5.1).
func validateIPSet(in nsxclient.IPSet) *apiError {
	var f fieldErrors
	f.managed(&in.ManagedResource)
	f.maxItems("ip_addresses", len(in.IPAddresses), maxIPSetEntries)
	families := map[bool]bool{}
	for _, entry := range in.IPAddresses {
		is4, err := parseAddressOrBlockOrRange(entry)
		if err != nil {
			f.add("ip_addresses: %v", err)
			continue
		}
		families[is4] = true
	}
	if len(families) > 1 {
		f.add("ip_addresses: an IPSet holds either IPv4 or IPv6 entries, not both")
	}
	return f.err()
}

// parseAddressOrBlockOrRange parses the spec's address-or-block-or-range format and tells whether
// the entry is IPv4.
func parseAddressOrBlockOrRange(s string) (bool, error) {
	if lo, hi, isRange := strings.Cut(s, "-"); isRange {
		a, errA := netip.ParseAddr(lo)
		b, errB := netip.ParseAddr(hi)
		if errA != nil || errB != nil || a.Is4() != b.Is4() || b.Less(a) {
			return false, fmt.Errorf("%q is not a valid IP range", s)
		}
		return a.Is4(), nil
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return false, fmt.Errorf("%q is not a valid CIDR", s)
		}
		return p.Addr().Is4(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false, fmt.Errorf("%q is not a valid IP address", s)
	}
	return a.Is4(), nil
}
