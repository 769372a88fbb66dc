package nsxsim

import (
	"slices"

	"github.com/microseg/microseg/nsxclient"
)

// Logical ports are what NCP (in tests, the NCP emulator) creates per pod: CHILD VIFs tagged with
// ncp/cluster, ncp/project, ncp/pod and the pod labels (NCP documentation).

var (
	attachmentTypes = []string{"VIF", "LOGICALROUTER", "BRIDGEENDPOINT", "DHCP_SERVICE", "METADATA_PROXY", "L2VPN_SESSION"}
	vifTypes        = []string{"PARENT", "CHILD", "INDEPENDENT"}
)

// handleListPorts is GET /logical-ports with the logical_switch_id, attachment_type,
// attachment_id, parent_vif_id and container_ports_only filters.
func (s *Server) handleListPorts(c *call) reply {
	page, err := s.parsePage(c.query, 0)
	if err != nil {
		return fail(err)
	}
	var all []nsxclient.LogicalPort
	for _, p := range s.st.ports.list() {
		if portMatches(p, c) {
			all = append(all, *p)
		}
	}
	out := paginate(all, page)
	for _, p := range out.Results {
		c.read(KindLogicalPort, p.ID)
	}
	return ok(out)
}

func portMatches(p *nsxclient.LogicalPort, c *call) bool {
	q := c.query
	att := p.Attachment
	if att == nil {
		att = &nsxclient.LogicalPortAttachment{AttachmentType: "NONE"}
	}
	ctx := att.Context
	if ctx == nil {
		ctx = &nsxclient.VifAttachmentContext{}
	}
	match := func(param, value string) bool { return q.Get(param) == "" || q.Get(param) == value }
	return match("logical_switch_id", p.LogicalSwitchID) &&
		match("attachment_type", att.AttachmentType) &&
		match("attachment_id", att.ID) &&
		match("parent_vif_id", ctx.ParentVifID) &&
		(q.Get("container_ports_only") != "true" || ctx.VifType == "CHILD")
}

// handleCreatePort is POST /logical-ports (201).
func (s *Server) handleCreatePort(c *call) reply {
	st := s.st
	var in nsxclient.LogicalPort
	if err := decodeBody(c, &in); err != nil {
		return fail(err)
	}
	if err := validatePort(in); err != nil {
		return fail(err)
	}
	p := writablePort(in)
	st.stampCreate(&p.ManagedResource, KindLogicalPort, c.user)
	st.ports.put(p.ID, p)
	st.changed()
	return created(*p)
}

// handleGetPort is GET /logical-ports/{id}.
func (s *Server) handleGetPort(c *call) reply {
	p, err := s.st.port(c.param("lport-id"))
	if err != nil {
		return fail(err)
	}
	c.read(KindLogicalPort, p.ID)
	return ok(*p)
}

// handleUpdatePort is PUT /logical-ports/{id}; stale or missing _revision is 412.
func (s *Server) handleUpdatePort(c *call) reply {
	st := s.st
	p, err := st.port(c.param("lport-id"))
	if err != nil {
		return fail(err)
	}
	if err := policyOwnedPort(c, p); err != nil {
		return fail(err)
	}
	if p, err = replaceObject(st, c, KindLogicalPort, p, portMeta, validatePort, writablePort); err != nil {
		return fail(err)
	}
	return ok(*p)
}

// handleDeletePort is DELETE /logical-ports/{id}?detach=. detach=true "force delete[s] even if
// attached or referenced by a group"; without it an attached or referenced port is refused with
// 400/500030 (the exact error is UNCONFIRMED).
func (s *Server) handleDeletePort(c *call) reply {
	st := s.st
	p, err := st.port(c.param("lport-id"))
	if err != nil {
		return fail(err)
	}
	if err := policyOwnedPort(c, p); err != nil {
		return fail(err)
	}
	if c.query.Get("detach") != "true" {
		if p.Attachment != nil {
			return fail(errInUse(KindLogicalPort, p.ID, "it is attached; delete with detach=true"))
		}
		if by := st.referrers(nsxclient.TargetLogicalPort, p.ID); len(by) > 0 {
			return fail(errInUse(KindLogicalPort, p.ID, "referenced by "+joinFew(by)))
		}
	}
	st.ports.remove(p.ID)
	st.changed()
	return ok(nil)
}

// port finds a logical port or returns NSX's 404.
func (st *state) port(id string) (*nsxclient.LogicalPort, *apiError) {
	p, found := st.ports.get(id)
	if !found {
		return nil, errNotFound(id)
	}
	return p, nil
}

func validatePort(in nsxclient.LogicalPort) *apiError {
	var f fieldErrors
	f.managed(&in.ManagedResource)
	f.required("logical_switch_id", in.LogicalSwitchID == "")
	f.required("admin_state", in.AdminState == "")
	f.enum("admin_state", in.AdminState, "UP", "DOWN")
	if a := in.Attachment; a != nil {
		f.required("attachment.id", a.ID == "")
		f.enum("attachment.attachment_type", a.AttachmentType, attachmentTypes...)
		if ctx := a.Context; ctx != nil {
			f.required("attachment.context.resource_type", ctx.ResourceType == "")
			f.required("attachment.context.vif_type", ctx.VifType == "")
			f.enum("attachment.context.vif_type", ctx.VifType, vifTypes...)
		}
	}
	f.maxItems("address_bindings", len(in.AddressBindings), maxAddressBindings)
	for _, b := range in.AddressBindings {
		if b.IPAddress == "" {
			continue
		}
		if _, err := parseAddressOrBlockOrRange(b.IPAddress); err != nil {
			f.add("address_bindings: %v", err)
		}
	}
	return f.err()
}

func portMeta(p *nsxclient.LogicalPort) *nsxclient.ManagedResource { return &p.ManagedResource }

func writablePort(in nsxclient.LogicalPort) *nsxclient.LogicalPort {
	p := &nsxclient.LogicalPort{
		LogicalSwitchID: in.LogicalSwitchID,
		AdminState:      in.AdminState,
		AddressBindings: slices.Clone(in.AddressBindings),
	}
	if in.Attachment != nil {
		att := *in.Attachment
		if att.AttachmentType == "" {
			att.AttachmentType = "VIF"
		}
		if att.Context != nil {
			ctx := *att.Context
			att.Context = &ctx
		}
		p.Attachment = &att
	}
	p.DisplayName, p.Description, p.Tags = in.DisplayName, in.Description, slices.Clone(in.Tags)
	return p
}

// policyOwnedPort refuses Manager API writes to a logical port that realizes a Policy segment
// port, unless the caller overrides with X-Allow-Overwrite (as for objects another principal
// owns): the segment port is where it is managed.
func policyOwnedPort(c *call, p *nsxclient.LogicalPort) *apiError {
	if !ownedByPolicy(p) || c.r.Header.Get("X-Allow-Overwrite") == "true" {
		return nil
	}
	return errBadRequest(nsxclient.ErrCodeNotOwner, moduleSwitch,
		"Principal '%s' attempts to delete or modify an object of type LogicalPort it doesn't own: the port is managed through the Policy API as a segment port; change it there, or send X-Allow-Overwrite: true.", c.user)
}
