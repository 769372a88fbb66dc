package nsxsim

import (
	"net/http"

	"github.com/microseg/microseg/nsxclient"
)

// The Policy API's Traceflow (traceflow_api.go has the rounds): a TraceflowConfig at
// /infra/traceflows/{id} names the segment port the packet is injected at; each PUT starts a new
// round (NSX calls it a full replace), whose state is read at …/status and observations at
// …/observations.

func (s *Server) policyRound(c *call) (*traceRound, *apiError) {
	s.traces.init()
	r, found := s.traces.policy[c.param("traceflow-id")]
	if !found {
		return nil, errPolicyNotFound(objectPath(c))
	}
	return r, nil
}

// handlePutTraceflowConfig is PUT /infra/traceflows/{id}: 200 with the stored config. Replacing
// one needs its current _revision, as for every Policy object.
func (s *Server) handlePutTraceflowConfig(c *call) reply {
	var in nsxclient.TraceflowConfig
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	id, path := c.param("traceflow-id"), objectPath(c)
	var f fieldErrors
	f.required("segment_port_path", in.SegmentPortPath == "")
	if in.ID != "" && in.ID != id {
		f.add("id %q differs from the id in the path %q", in.ID, id)
	}
	timeout := orDefaultInt(in.Timeout, policyTimeoutDefault)
	if timeout < policyTimeoutMin || timeout > policyTimeoutMax {
		f.add("timeout has invalid value %d; it must be between %d and %d seconds", timeout, policyTimeoutMin, policyTimeoutMax)
	}
	if err := f.err(); err != nil {
		return fail(err)
	}
	flow, err := packetFlow(in.Packet)
	if err != nil {
		return fail(err)
	}
	s.st.pol.sweep(s.now())
	port := s.st.pol.live(in.SegmentPortPath)
	lport, mirrored := s.st.pol.mirrored[in.SegmentPortPath]
	if port == nil || port.kind != nsxclient.ResourceSegmentPort || !mirrored {
		return fail(errTraceflowSource(in.SegmentPortPath))
	}
	s.traces.init()
	stored := in
	if old, exists := s.traces.policy[id]; exists {
		want := *old.config.Revision
		if in.Revision == nil || *in.Revision != want {
			return fail(errPolicyStale(path, in.Revision, want))
		}
		stored.PolicyResource = old.config.PolicyResource
		stored.Revision = nsxclient.RevisionOf(want + 1)
	} else {
		stored.PolicyResource = nsxclient.PolicyResource{Revision: nsxclient.RevisionOf(0), UniqueID: s.st.newUUID(),
			CreateUser: c.user, CreateTime: s.now().UnixMilli()}
	}
	stored.ID, stored.ResourceType, stored.Path, stored.ParentPath, stored.RelativePath = id, "TraceflowConfig", path, infraPath, id
	stored.DisplayName, stored.Description, stored.Tags = in.DisplayName, in.Description, in.Tags
	if stored.DisplayName == "" {
		stored.DisplayName = id
	}
	stored.LastModifiedUser, stored.LastModifiedTime, stored.Protection = c.user, s.now().UnixMilli(), "NOT_PROTECTED"
	stored.Timeout = timeout
	r := &traceRound{id: id, lportID: lport, timeout: timeout, config: &stored}
	s.trace(r, flow)
	s.traces.policy[id] = r
	c.policyWritten++
	return ok(stored)
}

// handleGetTraceflowConfig is GET /infra/traceflows/{id}.
func (s *Server) handleGetTraceflowConfig(c *call) reply {
	r, err := s.policyRound(c)
	if err != nil {
		return fail(err)
	}
	return ok(*r.config)
}

// handleTraceflowStatus is GET /infra/traceflows/{id}/status: the round's state (finished by this
// read), with the config's path as id and the segment port's path as lport_id.
func (s *Server) handleTraceflowStatus(c *call) reply {
	r, err := s.policyRound(c)
	if err != nil {
		return fail(err)
	}
	r.finish()
	return ok(r.view(r.config.Path, r.config.SegmentPortPath))
}

// handlePolicyTraceflowObservations is GET /infra/traceflows/{id}/observations.
func (s *Server) handlePolicyTraceflowObservations(c *call) reply {
	r, err := s.policyRound(c)
	if err != nil {
		return fail(err)
	}
	return s.observationPage(c, r)
}

// handleDeleteTraceflowConfig is DELETE /infra/traceflows/{id}: 200 without a body.
func (s *Server) handleDeleteTraceflowConfig(c *call) reply {
	r, err := s.policyRound(c)
	if err != nil {
		return fail(err)
	}
	delete(s.traces.policy, r.id)
	return reply{status: http.StatusOK}
}
