package nsxclient

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// revisionNSX is a fake section whose _revision bumps on every rule write and which, like NSX
// 2.4+, rejects a rule create whose _revision is not the section's current one (409).
// concurrentWrites makes another writer bump the revision just before each of the first N creates.
type revisionNSX struct {
	*fakeNSX
	mu               sync.Mutex
	revision         int64
	concurrentWrites int
	sentRevisions    []int64
}

func newRevisionNSX(t *testing.T, concurrentWrites int) *revisionNSX {
	s := &revisionNSX{revision: 5, concurrentWrites: concurrentWrites}
	s.fakeNSX = newFakeNSX(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		s.mu.Lock()
		defer s.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, FirewallSection{ManagedResource: ManagedResource{ID: "sec-1", Revision: s.revision}})
		case http.MethodPost:
			if s.concurrentWrites > 0 {
				s.concurrentWrites--
				s.revision++
			}
			var rules []FirewallRule
			if r.URL.Query().Get("action") == "create_multiple" {
				var l FirewallRuleList
				_ = json.Unmarshal(body, &l)
				rules = l.Rules
			} else {
				var one FirewallRule
				_ = json.Unmarshal(body, &one)
				rules = []FirewallRule{one}
			}
			for _, rule := range rules {
				s.sentRevisions = append(s.sentRevisions, rule.Revision)
				if rule.Revision != s.revision {
					writeNSXError(w, http.StatusConflict, 0, "The object was modified by somebody else")
					return
				}
			}
			s.revision++
			if len(rules) == 1 && r.URL.Query().Get("action") == "" {
				writeJSON(w, 200, FirewallRule{ID: "1001", Revision: 0, Action: rules[0].Action})
				return
			}
			writeJSON(w, 200, FirewallRuleList{Rules: rules})
		}
	})
	return s
}

func TestCreateRuleAtLatestRevisionRereadsOnConflict(t *testing.T) {
	s := newRevisionNSX(t, 2)
	got, err := s.client().CreateRuleAtLatestRevision(context.Background(), "sec-1", FirewallRule{Action: ActionAllow, Revision: 999}, Bottom())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "1001" {
		t.Errorf("rule = %+v", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Tries with 5 (bumped to 6 by the other writer), 6 (bumped to 7), then 7.
	if want := []int64{5, 6, 7}; !reflect.DeepEqual(s.sentRevisions, want) {
		t.Errorf("revisions sent = %v, want %v", s.sentRevisions, want)
	}
	var methods []string
	for _, r := range s.requests() {
		methods = append(methods, r.Method)
		if r.Method == http.MethodPost && r.Query.Get("operation") != "insert_bottom" {
			t.Errorf("position lost on retry: %v", r.Query)
		}
	}
	if want := "GET POST GET POST GET POST"; strings.Join(methods, " ") != want {
		t.Errorf("requests = %s, want %s", strings.Join(methods, " "), want)
	}
}

func TestCreateRuleAtLatestRevisionIsBounded(t *testing.T) {
	s := newRevisionNSX(t, 1000) // the section never stops changing
	_, err := s.client(func(c *Config) { c.MaxStaleRevisionRetries = 2 }).
		CreateRuleAtLatestRevision(context.Background(), "sec-1", FirewallRule{Action: ActionAllow}, Top())
	if !IsStaleRevision(err) {
		t.Fatalf("want a stale-revision error, got %v", err)
	}
	if !strings.Contains(err.Error(), "gave up after 3 tries") {
		t.Errorf("error does not say how often it tried: %v", err)
	}
	posts := 0
	for _, r := range s.requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	if posts != 3 {
		t.Errorf("%d creates, want 3", posts)
	}
}

func TestCreateRuleLeavesStaleRevisionToTheCaller(t *testing.T) {
	s := newRevisionNSX(t, 0)
	_, err := s.client().CreateRule(context.Background(), "sec-1", FirewallRule{Action: ActionAllow, Revision: 4}, Top())
	if !IsStaleRevision(err) {
		t.Fatalf("want ErrStaleRevision, got %v", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (no hidden re-read)", n)
	}
}

func TestCreateRulesAtLatestRevisionSetsEveryRule(t *testing.T) {
	s := newRevisionNSX(t, 1)
	rules := []FirewallRule{{Action: ActionAllow}, {Action: ActionDrop}}
	got, err := s.client().CreateRulesAtLatestRevision(context.Background(), "sec-1", rules, Top())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("got %d rules", len(got))
	}
	if rules[0].Revision != 0 || rules[1].Revision != 0 {
		t.Error("the caller's slice was modified")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want := []int64{5, 6, 6}; !reflect.DeepEqual(s.sentRevisions, want) {
		t.Errorf("revisions sent = %v, want %v", s.sentRevisions, want)
	}
}

func TestInlineL4PortSetRoundTrips(t *testing.T) {
	rule := FirewallRule{Action: ActionAllow, Services: []FirewallService{
		L4PortSet(L4ProtocolTCP, "80", "8000-8080"),
		L4PortSet(L4ProtocolUDP, "53"),
	}}
	b, err := json.Marshal(rule.Services)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"service":{"resource_type":"L4PortSetNSService","l4_protocol":"TCP","destination_ports":["80","8000-8080"]}},` +
		`{"service":{"resource_type":"L4PortSetNSService","l4_protocol":"UDP","destination_ports":["53"]}}]`
	if !jsonEqual(t, b, want) {
		t.Errorf("wire form = %s\nwant        %s", b, want)
	}

	// Through the client: NSX echoes the rule back, and it must decode to the same services.
	f := newFakeNSX(t, func(w http.ResponseWriter, _ *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	got, err := f.client().CreateRule(context.Background(), "sec-1", rule, Top())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Services, rule.Services) {
		t.Errorf("services after the round trip = %+v", got.Services)
	}
}

func TestStaticMember(t *testing.T) {
	got := StaticMember(TargetLogicalPort, "lp-1")
	want := NSGroupExpression{ResourceType: ExprSimple, TargetType: TargetLogicalPort, TargetProperty: "id", Op: "EQUALS", Value: "lp-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("StaticMember = %+v", got)
	}
}
