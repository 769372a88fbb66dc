package policyspec

// Segments, segment ports and realization. Sources: the vendor's API reference and the terraform
// provider's segment port resource (attachment types), and the realization types of the
// generated Go bindings (docs/nsx-policy-api.md, sections 4.4 and 7).

var segmentDefinitions = []definition{
	{name: "Segment", base: "PolicyResource"},
	{name: "SegmentPort", base: "PolicyResource", fields: []field{
		opt("attachment", ref("PortAttachment")),
		opt("address_bindings", arrayMax(ref("PortAddressBindingEntry"), 512)),
		opt("admin_state", enum("UP", "DOWN")),
	}},
	{name: "PortAttachment", fields: []field{
		opt("id", str()),
		opt("type", enum("PARENT", "CHILD", "INDEPENDENT", "STATIC")),
		opt("context_id", str()),
		opt("app_id", str()),
		opt("traffic_tag", intUpTo(4094)),
	}},
	{name: "PortAddressBindingEntry", fields: []field{
		opt("ip_address", str()),
		opt("mac_address", str()),
		opt("vlan_id", intUpTo(4094)),
	}},
}

var realizationStates = []string{"UNAVAILABLE", "UNREALIZED", "REALIZED", "ERROR"}

var realizationDefinitions = []definition{
	{name: "GenericPolicyRealizedResource", fields: []field{
		opt("id", str()),
		opt("display_name", str()),
		opt("resource_type", str()),
		opt("path", str()),
		req("state", enum(realizationStates...)),
		opt("entity_type", str()),
		opt("intent_paths", array(str())),
		opt("realization_specific_identifier", str()),
		opt("alarms", array(ref("PolicyAlarmResource"))),
		opt("publish_status", str()),
		opt("runtime_status", str()),
		opt("_revision", integer()),
	}},
	{name: "PolicyAlarmResource", fields: []field{
		opt("message", str()),
		opt("error_details", ref("PolicyApiError")),
	}},
	{name: "PolicyApiError", fields: []field{
		opt("error_code", integer()),
		opt("error_message", str()),
		opt("module_name", str()),
		opt("related_errors", array(ref("RelatedApiError"))),
	}},
	{name: "ConsolidatedRealizedStatus", fields: []field{
		opt("intent_path", str()),
		opt("intent_version", str()),
		opt("publish_status", enum(realizationStates...)),
		opt("consolidated_status", ref("ConsolidatedStatus")),
	}},
	{name: "ConsolidatedStatus", fields: []field{
		req("consolidated_status", enum("SUCCESS", "IN_PROGRESS", "ERROR", "UNKNOWN", "UNINITIALIZED",
			"SANDBOXED_REALIZATION_PENDING", "DOWN", "DEGRAGED", "DISABLED")), //nolint:misspell // NSX's own spelling of the enum value
	}},
}
