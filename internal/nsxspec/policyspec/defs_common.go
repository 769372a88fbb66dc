package policyspec

// Shapes shared by every Policy object, lists, errors and the hierarchical API. Sources: the
// field tables of the vendor's API reference and of the Go bindings generated from the vendor's
// spec (docs/nsx-policy-api.md, "Common conventions").

var commonDefinitions = []definition{
	{name: "Tag", fields: []field{
		opt("scope", strMax(128)),
		opt("tag", strMax(256)),
	}},
	// PolicyResource: the fields every Policy object has. NSX fills in the read-only ones.
	{name: "PolicyResource", fields: []field{
		opt("id", strMax(255)),
		opt("display_name", strMax(255)),
		opt("description", strMax(1024)),
		opt("resource_type", str()),
		opt("tags", arrayMax(ref("Tag"), 30)),
		opt("_revision", integer()),
		opt("children", array(ref("ChildPolicyConfigResource"))),
		opt("path", readOnly(str())),
		opt("parent_path", readOnly(str())),
		opt("relative_path", readOnly(str())),
		opt("unique_id", readOnly(str())),
		opt("realization_id", readOnly(str())),
		opt("marked_for_delete", readOnly(boolean())),
		opt("overridden", readOnly(boolean())),
		opt("_create_user", readOnly(str())),
		opt("_create_time", readOnly(integer())),
		opt("_last_modified_user", readOnly(str())),
		opt("_last_modified_time", readOnly(integer())),
		opt("_system_owned", readOnly(boolean())),
		opt("_protection", readOnly(enum("PROTECTED", "NOT_PROTECTED", "REQUIRE_OVERRIDE", "UNKNOWN"))),
	}},

	// ApiError: NSX's error body, shared with the Manager API. Real managers also send
	// httpStatus, here and in each related error.
	{name: "RelatedApiError", fields: []field{
		opt("httpStatus", str()),
		opt("error_code", integer()),
		opt("error_message", str()),
		opt("module_name", str()),
		opt("details", str()),
		opt("error_data", object()),
	}},
	{name: "ApiError", base: "RelatedApiError", fields: []field{
		opt("related_errors", array(ref("RelatedApiError"))),
	}},

	// Infra is the root of the hierarchical API: PATCH /infra takes it, GET /infra answers it.
	{name: "Infra", base: "PolicyResource"},

	// The nodes of a hierarchical body, told apart by resource_type. A ChildResourceReference
	// names an existing object without changing it; a Child<Type> carries one object under a
	// property named after its type. The wrapper repeats the object's id.
	{name: "ChildPolicyConfigResource", discriminator: "resource_type", fields: []field{
		req("resource_type", str()),
		opt("id", strMax(255)),
		opt("marked_for_delete", boolean()),
	}},
	{name: "ChildResourceReference", base: "ChildPolicyConfigResource", fields: []field{
		req("target_type", str()),
		opt("children", array(ref("ChildPolicyConfigResource"))),
	}},
	{name: "ChildDomain", base: "ChildPolicyConfigResource", fields: []field{req("Domain", ref("Domain"))}},
	{name: "ChildGroup", base: "ChildPolicyConfigResource", fields: []field{req("Group", ref("Group"))}},
	{name: "ChildSecurityPolicy", base: "ChildPolicyConfigResource", fields: []field{req("SecurityPolicy", ref("SecurityPolicy"))}},
	{name: "ChildRule", base: "ChildPolicyConfigResource", fields: []field{req("Rule", ref("Rule"))}},
	{name: "ChildSegment", base: "ChildPolicyConfigResource", fields: []field{req("Segment", ref("Segment"))}},
	{name: "ChildSegmentPort", base: "ChildPolicyConfigResource", fields: []field{req("SegmentPort", ref("SegmentPort"))}},
}

// listResult is the envelope of a paged list of item: cursor while more pages remain,
// result_count (the total) on the first page only.
func listResult(name string, item schema) definition {
	return definition{name: name, fields: []field{
		req("results", array(item)),
		opt("cursor", str()),
		opt("result_count", integer()),
		opt("sort_by", str()),
		opt("sort_ascending", boolean()),
	}}
}

var listDefinitions = []definition{
	listResult("DomainListResult", ref("Domain")),
	listResult("GroupListResult", ref("Group")),
	listResult("SecurityPolicyListResult", ref("SecurityPolicy")),
	listResult("RuleListResult", ref("Rule")),
	listResult("SegmentListResult", ref("Segment")),
	listResult("SegmentPortListResult", ref("SegmentPort")),
	listResult("PolicyGroupIPMembersListResult", str()),
	listResult("GenericPolicyRealizedResourceListResult", ref("GenericPolicyRealizedResource")),
}
