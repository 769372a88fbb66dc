package nsxsim

import (
	"maps"
	"slices"
	"strconv"

	"github.com/microseg/microseg/nsxclient"
)

// What a Policy write changes in the Manager API's view, as on a real manager serving both:
//
//   - A segment port created through the Policy API is realized as a Manager logical port: same
//     tags and addresses, id = the segment port's unique_id, logical_switch_id = its segment's
//     unique_id, created by "nsx_policy" and refused to Manager writes without
//     X-Allow-Overwrite. The reverse does not hold: a logical port created through the Manager
//     API is not a Policy segment port (a manager shows Manager-created objects in the Policy
//     API only after promotion). So "is this cluster's NCP in Policy mode" is answered by
//     finding its pod ports as segment ports, and only failing that as logical ports.
//   - The default Policy rule is the Manager default section's rule: writing its action through
//     either API changes the one default.

// commit makes a checked transaction visible: the dataplane recompiles, the Manager view follows.
func (tx *policyTx) commit() {
	st := tx.s.st
	st.changed()
	touched := slices.Sorted(maps.Keys(tx.written))
	touched = append(touched, slices.Sorted(maps.Keys(tx.deleted))...)
	for _, path := range touched {
		kind, _, _, _ := parsePolicyPath(path)
		switch {
		case kind.name == nsxclient.ResourceSegmentPort:
			st.mirrorSegmentPort(path, tx.now.UnixMilli())
		case path == defaultRulePath:
			st.mirrorDefaultRuleAction(tx.user)
		}
	}
	tx.undo = nil
}

// mirrorSegmentPort creates, updates or deletes the Manager logical port of a segment port.
func (st *state) mirrorSegmentPort(path string, nowMillis int64) {
	ps := st.pol
	o := ps.live(path)
	portID, had := ps.mirrored[path]
	if o == nil {
		if had {
			st.ports.remove(portID)
			delete(ps.mirrored, path)
		}
		return
	}
	sp := o.obj.(*nsxclient.SegmentPort)
	segment := ps.live(o.parent).resource()
	lp := &nsxclient.LogicalPort{LogicalSwitchID: segment.UniqueID, AdminState: sp.AdminState}
	lp.ID, lp.DisplayName, lp.Description = sp.UniqueID, sp.DisplayName, sp.Description
	lp.Tags = slices.Clone(sp.Tags)
	lp.ResourceType = KindLogicalPort
	lp.CreateUser, lp.LastModifiedUser = policyRealizationUser, policyRealizationUser
	lp.CreateTime, lp.LastModifiedTime = nowMillis, nowMillis
	lp.Protection = "REQUIRE_OVERRIDE"
	if a := sp.Attachment; a != nil {
		lp.Attachment = &nsxclient.LogicalPortAttachment{AttachmentType: "VIF", ID: a.ID}
		if a.Type != "" {
			lp.Attachment.Context = &nsxclient.VifAttachmentContext{ResourceType: "VifAttachmentContext", VifType: a.Type,
				ParentVifID: a.ContextID, AppID: a.AppID, TrafficTag: a.TrafficTag}
		}
	}
	for _, b := range sp.AddressBindings {
		lp.AddressBindings = append(lp.AddressBindings, nsxclient.PacketAddressClassifier{IPAddress: b.IPAddress, MACAddress: b.MACAddress, VLAN: b.VLANID})
	}
	if old, ok := st.ports.get(sp.UniqueID); ok {
		lp.Revision = old.Revision + 1
		lp.CreateTime = old.CreateTime
	}
	st.ports.put(lp.ID, lp)
	ps.mirrored[path] = lp.ID
}

// mirrorDefaultRuleAction writes the Policy default rule's action to the Manager default rule.
func (st *state) mirrorDefaultRuleAction(user string) {
	action := st.pol.live(defaultRulePath).obj.(*nsxclient.PolicyRule).Action
	mp := st.managerDefaultRule()
	if mp.Action == action {
		return
	}
	mp.Action = action
	mp.Revision++
	st.touch(&st.sections[st.defaultSection[nsxclient.SectionLayer3]].ManagedResource, user)
}

// ownedByPolicy reports whether a Manager logical port is the realization of a segment port.
func ownedByPolicy(p *nsxclient.LogicalPort) bool { return p.CreateUser == policyRealizationUser }

func mustRuleNumber(id string) int64 {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		panic("nsxsim: Manager rule id " + id + " is not numeric")
	}
	return n
}
