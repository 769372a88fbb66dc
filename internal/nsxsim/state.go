package nsxsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/microseg/microseg/nsxclient"
)

// state is everything the manager stores. All access happens under Server.mu.
type state struct {
	clock Clock
	rng   *rand.Rand

	// generation increases on every write; the dataplane cache compares it.
	generation uint64

	nextRuleID int64

	sections     map[string]*nsxclient.FirewallSection
	sectionOrder map[string][]string                  // section_type → ids in evaluation order; default last
	rules        map[string][]*nsxclient.FirewallRule // section id → rules in evaluation order
	ruleSection  map[string]string                    // rule id → section id

	groups *store[nsxclient.NSGroup]
	ipsets *store[nsxclient.IPSet]
	ports  *store[nsxclient.LogicalPort]

	defaultSection map[string]string // section_type → id of the default section

	pol *policyState // the Policy API's tree (policy_state.go)
	// policyTieBreakSeed is Options.PolicyTieBreakSeed, for the dataplane snapshot.
	policyTieBreakSeed uint64
}

// Default-section names as a fresh NSX-T manager shows them.
const (
	defaultL3SectionName = "Default Layer3 Section"
	defaultL3RuleName    = "Default Layer3 Rule"
	defaultL2SectionName = "Default Layer2 Section"
	defaultL2RuleName    = "Default Layer2 Rule"
	systemUser           = "system"
	firstRuleID          = 1000 // rule ids are increasing numeric strings, as NSX gives them
)

func newState(seed uint64, clock Clock, policyTieBreakSeed uint64) *state {
	st := &state{
		clock:          clock,
		rng:            rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		nextRuleID:     firstRuleID,
		sections:       map[string]*nsxclient.FirewallSection{},
		sectionOrder:   map[string][]string{},
		rules:          map[string][]*nsxclient.FirewallRule{},
		ruleSection:    map[string]string{},
		groups:         newStore[nsxclient.NSGroup](),
		ipsets:         newStore[nsxclient.IPSet](),
		ports:          newStore[nsxclient.LogicalPort](),
		defaultSection: map[string]string{},
	}
	st.addDefaultSection(nsxclient.SectionLayer3, defaultL3SectionName, defaultL3RuleName, true)
	st.addDefaultSection(nsxclient.SectionLayer2, defaultL2SectionName, defaultL2RuleName, false)
	st.pol = newPolicyState(seed)
	st.policyTieBreakSeed = policyTieBreakSeed
	st.installPolicyDefaults()
	return st
}

// addDefaultSection creates the per-layer default section holding one ALLOW IN_OUT rule.
func (st *state) addDefaultSection(layer, name, ruleName string, stateful bool) {
	sec := &nsxclient.FirewallSection{SectionType: layer, Stateful: stateful, IsDefault: true, EnforcedOn: enforcedOnVIF}
	sec.DisplayName = name
	st.stampCreate(&sec.ManagedResource, "FirewallSection", systemUser)
	st.sections[sec.ID] = sec
	st.sectionOrder[layer] = append(st.sectionOrder[layer], sec.ID)
	st.defaultSection[layer] = sec.ID
	rule := &nsxclient.FirewallRule{
		DisplayName: ruleName,
		Action:      nsxclient.ActionAllow,
		Direction:   nsxclient.DirectionInOut,
		IPProtocol:  nsxclient.IPProtocolIPv4IPv6,
		IsDefault:   true,
	}
	st.assignRuleID(rule, sec.ID)
	st.rules[sec.ID] = []*nsxclient.FirewallRule{rule}
}

func (st *state) nowMillis() int64 { return st.clock.Now().UnixMilli() }

// newUUID draws a version-4 UUID from the seeded generator, so ids repeat across runs with the
// same seed (golden tests).
func (st *state) newUUID() string { return uuidFrom(st.rng) }

// uuidFrom draws a version-4 UUID from rng.
func uuidFrom(rng *rand.Rand) string {
	var b [16]byte
	binary := func(i int, v uint64) {
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	binary(0, rng.Uint64())
	binary(8, rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// stampCreate fills the server-owned fields of a new managed object.
func (st *state) stampCreate(m *nsxclient.ManagedResource, resourceType, user string) {
	now := st.nowMillis()
	m.ID = st.newUUID()
	if m.DisplayName == "" {
		m.DisplayName = m.ID // NSX defaults display_name to the id (vendor spec)
	}
	m.ResourceType = resourceType
	m.Revision = 0
	m.CreateTime, m.LastModifiedTime = now, now
	m.CreateUser, m.LastModifiedUser = user, user
	m.SystemOwned = false
	m.Protection = "NOT_PROTECTED"
}

// stampUpdate carries the server-owned fields from old to m and bumps the revision.
func (st *state) stampUpdate(m *nsxclient.ManagedResource, old nsxclient.ManagedResource, user string) {
	m.ID = old.ID
	if m.DisplayName == "" {
		m.DisplayName = old.ID
	}
	m.ResourceType = old.ResourceType
	m.Revision = old.Revision + 1
	m.CreateTime, m.CreateUser = old.CreateTime, old.CreateUser
	m.LastModifiedTime, m.LastModifiedUser = st.nowMillis(), user
	m.SystemOwned = old.SystemOwned
	m.Protection = old.Protection
}

// touch records a modification of m without changing its content (rule changes bump the section).
func (st *state) touch(m *nsxclient.ManagedResource, user string) {
	m.Revision++
	m.LastModifiedTime, m.LastModifiedUser = st.nowMillis(), user
}

func (st *state) assignRuleID(r *nsxclient.FirewallRule, sectionID string) {
	st.nextRuleID++
	r.ID = strconv.FormatInt(st.nextRuleID, 10)
	r.ResourceType = "FirewallRule"
	r.SectionID = sectionID
	r.Revision = 0
	st.ruleSection[r.ID] = sectionID
}

// changed marks the state as written, invalidating the compiled dataplane.
func (st *state) changed() { st.generation++ }

// sectionRule finds a rule of a section.
func (st *state) sectionRule(sectionID, ruleID string) (int, *nsxclient.FirewallRule) {
	for i, r := range st.rules[sectionID] {
		if r.ID == ruleID {
			return i, r
		}
	}
	return -1, nil
}

// store keeps one kind of managed object by id, listed in creation order.
type store[T any] struct {
	byID  map[string]*T
	order []string
}

func newStore[T any]() *store[T] { return &store[T]{byID: map[string]*T{}} }

func (s *store[T]) get(id string) (*T, bool) {
	v, ok := s.byID[id]
	return v, ok
}

func (s *store[T]) put(id string, v *T) {
	if _, ok := s.byID[id]; !ok {
		s.order = append(s.order, id)
	}
	s.byID[id] = v
}

func (s *store[T]) remove(id string) {
	if _, ok := s.byID[id]; !ok {
		return
	}
	delete(s.byID, id)
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
}

// list returns the objects in creation order.
func (s *store[T]) list() []*T {
	out := make([]*T, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.byID[id])
	}
	return out
}
