package nsxsim

import (
	"strconv"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Realization of Policy intents. A write is realized Options.PolicyRealizationDelay after it was
// stored (UNREALIZED until then), or fails to realize (ERROR with an alarm) while a
// RealizationFault matches its path. The dataplane evaluates the stored intent at once: the
// delay is visible only through these endpoints (and a group's state).

// RealizationFault makes matching intents realize with ERROR and an alarm, as a host that cannot
// apply a rule would, until the fault is removed.
type RealizationFault struct {
	// PathPrefix matches intent paths, e.g. "/infra/domains/default/security-policies/".
	PathPrefix string `json:"path_prefix"`
	Message    string `json:"message,omitempty"`
	ErrorCode  int64  `json:"error_code,omitempty"`
}

func (f *faultInjector) realizationFault(path string) *RealizationFault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.cfg.RealizationErrors {
		rf := f.cfg.RealizationErrors[i]
		if strings.HasPrefix(path, rf.PathPrefix) {
			if rf.Message == "" {
				rf.Message = "Realization of the intent failed on the enforcement point (simulated)."
			}
			return &rf
		}
	}
	return nil
}

// realizationState is REALIZED, UNREALIZED or ERROR for a live object.
func (s *Server) realizationState(o *pobj) (string, *RealizationFault) {
	if rf := s.faults.realizationFault(o.path); rf != nil {
		return nsxclient.StateError, rf
	}
	if s.now().Before(o.writtenAt.Add(s.opts.PolicyRealizationDelay)) {
		return nsxclient.StateUnrealized, nil
	}
	return nsxclient.StateRealized, nil
}

// handleRealizedEntities is GET /infra/realized-state/realized-entities?intent_path=: the one
// entity the simulator realizes per intent.
func (s *Server) handleRealizedEntities(c *call) reply {
	o, err := s.intent(c)
	if err != nil {
		return fail(err)
	}
	state, rf := s.realizationState(o)
	r := o.resource()
	e := nsxclient.RealizedEntity{
		ID: r.UniqueID, DisplayName: r.DisplayName, ResourceType: "GenericPolicyRealizedResource", Path: o.path,
		State: state, EntityType: policyKinds[o.kind].entityType, IntentPaths: []string{o.path},
		RealizationSpecificIdentifier: r.UniqueID, PublishStatus: consolidated(state), Revision: r.Revision,
	}
	if rf != nil {
		e.Alarms = []nsxclient.RealizedAlarm{{Message: rf.Message, ErrorDetails: &nsxclient.RealizedErrorDetails{
			ErrorCode: rf.ErrorCode, ErrorMessage: rf.Message, ModuleName: modulePolicy}}}
	}
	page, perr := s.parsePage(c.query, 0)
	if perr != nil {
		return fail(perr)
	}
	return ok(paginate([]nsxclient.RealizedEntity{e}, page))
}

// handleRealizedStatus is GET /infra/realized-state/status?intent_path=.
func (s *Server) handleRealizedStatus(c *call) reply {
	o, err := s.intent(c)
	if err != nil {
		return fail(err)
	}
	state, _ := s.realizationState(o)
	return ok(nsxclient.ConsolidatedRealizedStatus{
		IntentPath: o.path, IntentVersion: strconv.FormatInt(*o.resource().Revision, 10), PublishStatus: state,
		ConsolidatedStatus: &nsxclient.ConsolidatedStatus{ConsolidatedStatus: consolidated(state)},
	})
}

func consolidated(state string) string {
	switch state {
	case nsxclient.StateRealized:
		return "SUCCESS"
	case nsxclient.StateError:
		return "ERROR"
	}
	return "IN_PROGRESS"
}

// intent finds the live object named by ?intent_path=.
func (s *Server) intent(c *call) (*pobj, *apiError) {
	path := c.query.Get("intent_path")
	if path == "" {
		return nil, errPolicyInvalid("intent_path", "the intent_path query parameter is required")
	}
	s.st.pol.sweep(s.now())
	o := s.st.pol.live(path)
	if o == nil {
		return nil, errPolicyNotFound(path)
	}
	return o, nil
}
