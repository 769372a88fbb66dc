package policyspec

// Domains, groups, security policies and rules. Sources: the vendor's API reference (rule and
// expression types, list limits), the generated Go bindings (enums, defaults) and the reference
// clients' usage (docs/nsx-policy-api.md, sections 2 to 4).

var conditionMemberTypes = []string{"IPSet", "VirtualMachine", "LogicalPort", "LogicalSwitch", "Segment", "SegmentPort",
	"Pod", "Service", "Namespace", "TransportNode", "Group", "DVPG", "DVPort", "IPAddress", "VpcSubnet", "VpcSubnetPort",
	"KubernetesCluster", "KubernetesNamespace", "KubernetesIngress", "KubernetesGateway", "KubernetesService",
	"KubernetesNode", "AntreaEgress", "AntreaIPPool", "BareMetalServer", "BareMetalServerInterface", "Tier0", "Tier1"}

var dfwDefinitions = []definition{
	{name: "Domain", base: "PolicyResource"},

	{name: "Group", base: "PolicyResource", fields: []field{
		opt("expression", array(ref("Expression"))),
		opt("group_type", array(enum("IPAddress", "ANTREA", "BareMetalServer"))),
		opt("state", readOnly(enum("IN_PROGRESS", "SUCCESS", "FAILURE"))),
	}},
	// Expression is the polymorphic member of Group.expression and NestedExpression.expressions.
	{name: "Expression", discriminator: "resource_type", fields: []field{
		req("resource_type", str()),
		opt("id", strMax(255)),
	}},
	{name: "Condition", base: "Expression", fields: []field{
		req("member_type", enum(conditionMemberTypes...)),
		req("key", enum("Tag", "Name", "OSName", "ComputerName", "NodeType", "GroupType", "ALL", "IPAddress", "PodCidr",
			"ManagementInterface", "OSVersion")),
		// Optional for Segment and SegmentPort tag conditions (scope_operator NOTEQUALS alone is
		// "has no tag with this scope").
		opt("operator", enum("EQUALS", "CONTAINS", "STARTSWITH", "ENDSWITH", "NOTEQUALS", "NOTIN", "MATCHES", "IN")),
		opt("scope_operator", enum("EQUALS", "NOTEQUALS")),
		req("value", str()),
	}},
	{name: "ConjunctionOperator", base: "Expression", fields: []field{
		req("conjunction_operator", enum("AND", "OR")),
	}},
	{name: "NestedExpression", base: "Expression", fields: []field{
		req("expressions", array(ref("Expression"))),
	}},
	{name: "IPAddressExpression", base: "Expression", fields: []field{
		req("ip_addresses", arrayRange(str(), 1, 4000)),
	}},
	{name: "PathExpression", base: "Expression", fields: []field{
		req("paths", array(str())),
	}},

	{name: "SecurityPolicy", base: "PolicyResource", fields: []field{
		opt("category", enum("Ethernet", "Emergency", "Infrastructure", "Environment", "Application")),
		opt("sequence_number", intUpTo(999999)),
		opt("stateful", boolean()),
		opt("tcp_strict", boolean()),
		opt("scope", arrayMax(str(), 128)),
		opt("locked", boolean()),
		opt("comments", str()),
		opt("rules", array(ref("Rule"))),
		opt("rule_count", readOnly(integer())),
		opt("is_default", readOnly(boolean())),
		opt("internal_sequence_number", readOnly(integer())),
	}},
	// Rule: action, source_groups, destination_groups and services are required when a rule is
	// written; the simulator enforces that, because a ChildRule marked for delete carries a Rule
	// with only its id and resource_type.
	{name: "Rule", base: "PolicyResource", fields: []field{
		opt("action", enum("ALLOW", "DROP", "REJECT", "JUMP_TO_APPLICATION")),
		opt("source_groups", arrayMax(str(), 128)),
		opt("destination_groups", arrayMax(str(), 128)),
		opt("sources_excluded", boolean()),
		opt("destinations_excluded", boolean()),
		opt("services", arrayMax(str(), 128)),
		opt("service_entries", array(ref("ServiceEntry"))),
		opt("scope", arrayMax(str(), 128)),
		opt("direction", enum("IN", "OUT", "IN_OUT")),
		opt("ip_protocol", enum("IPV4", "IPV6", "IPV4_IPV6")),
		opt("logged", boolean()),
		opt("disabled", boolean()),
		opt("sequence_number", intUpTo(2147483647)),
		opt("tag", str()),
		opt("notes", str()),
		opt("rule_id", readOnly(integer())),
		opt("is_default", readOnly(boolean())),
	}},
	// ServiceEntry is the polymorphic inline service of a rule.
	{name: "ServiceEntry", discriminator: "resource_type", fields: []field{
		req("resource_type", str()),
		opt("id", strMax(255)),
		opt("display_name", strMax(255)),
	}},
	// Port lists hold at most 15 values, a range counting twice (the simulator counts).
	{name: "L4PortSetServiceEntry", base: "ServiceEntry", fields: []field{
		req("l4_protocol", enum("TCP", "UDP")),
		opt("source_ports", arrayMax(str(), 15)),
		opt("destination_ports", arrayMax(str(), 15)),
	}},
	{name: "IPProtocolServiceEntry", base: "ServiceEntry", fields: []field{
		req("protocol_number", intUpTo(255)),
	}},
	{name: "ICMPTypeServiceEntry", base: "ServiceEntry", fields: []field{
		req("protocol", enum("ICMPv4", "ICMPv6")),
		opt("icmp_type", intUpTo(255)),
		opt("icmp_code", intUpTo(255)),
	}},
}
