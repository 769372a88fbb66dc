package policyspec

// Traceflow in the Policy API: a TraceflowConfig at /infra/traceflows/{id} injects a packet at a
// segment port; the round's state (the Manager API's Traceflow shape) and its observations are
// read under it. Sources: the vendor's Policy API reference (Policy > Monitoring > Traceflow:
// TraceflowConfig, ReadTraceflowStatus, the observation list) and the Manager API's Traceflow
// types, which the Policy API reuses.

var observationTypes = []string{"TraceflowObservationForwarded", "TraceflowObservationDropped", "TraceflowObservationDelivered",
	"TraceflowObservationReceived", "TraceflowObservationForwardedLogical", "TraceflowObservationDroppedLogical",
	"TraceflowObservationReceivedLogical", "TraceflowObservationReplicationLogical", "TraceflowObservationRelayedLogical"}

var componentTypes = []string{"PHYSICAL", "LR", "LS", "DFW", "BRIDGE", "EDGE_TUNNEL", "EDGE_HOSTSWITCH", "FW_BRIDGE",
	"LOAD_BALANCER", "NAT", "IPSEC", "SERVICE_INSERTION", "VMC", "EDGE_FW", "UNKNOWN"}

func l4Port() schema {
	return schema{"type": "integer", "format": "int64", "minimum": 0, "maximum": 65535}
}

func intRange(lo, hi int64) schema {
	return schema{"type": "integer", "format": "int64", "minimum": lo, "maximum": hi}
}

var traceflowDefinitions = []definition{
	{name: "TraceflowConfig", base: "PolicyResource", fields: []field{
		req("segment_port_path", str()),
		req("packet", ref("PacketData")),
		opt("timeout", intRange(5, 15)),
		opt("connected_parent_path_as_source", str()),
		opt("is_transient", boolean()),
	}},
	{name: "PacketData", discriminator: "resource_type", fields: []field{
		req("resource_type", enum("BinaryPacketData", "FieldsPacketData")),
		opt("frame_size", intRange(60, 1000)),
		opt("routed", boolean()),
		opt("transport_type", enum("BROADCAST", "UNICAST", "MULTICAST", "UNKNOWN")),
	}},
	{name: "BinaryPacketData", base: "PacketData", fields: []field{opt("payload", strMax(1336))}},
	{name: "FieldsPacketData", base: "PacketData", fields: []field{
		opt("eth_header", ref("EthernetHeader")),
		opt("ip_header", ref("Ipv4Header")),
		opt("ipv6_header", ref("Ipv6Header")),
		opt("arp_header", object()),
		opt("transport_header", ref("TransportProtocolHeader")),
		opt("payload", strMax(1336)),
	}},
	{name: "EthernetHeader", fields: []field{opt("src_mac", str()), opt("dst_mac", str()), opt("eth_type", integer())}},
	{name: "Ipv4Header", fields: []field{
		opt("src_ip", str()), opt("dst_ip", str()), opt("protocol", intRange(0, 255)), opt("ttl", intRange(0, 255)),
		opt("flags", integer()), opt("src_subnet_prefix_len", integer()),
	}},
	{name: "Ipv6Header", fields: []field{
		opt("src_ip", str()), opt("dst_ip", str()), opt("next_header", intRange(0, 255)), opt("hop_limit", intRange(0, 255)),
	}},
	{name: "TransportProtocolHeader", fields: []field{
		opt("tcp_header", ref("TcpHeader")),
		opt("udp_header", ref("UdpHeader")),
		opt("icmp_echo_request_header", ref("IcmpEchoRequestHeader")),
		opt("dns_header", object()), opt("dhcp_header", object()), opt("dhcpv6_header", object()), opt("ndp_header", object()),
	}},
	{name: "TcpHeader", fields: []field{opt("src_port", l4Port()), opt("dst_port", l4Port()), opt("tcp_flags", integer())}},
	{name: "UdpHeader", fields: []field{opt("src_port", l4Port()), opt("dst_port", l4Port())}},
	{name: "IcmpEchoRequestHeader", fields: []field{opt("id", integer()), opt("sequence", integer())}},

	// Traceflow is a round's state, as the Manager API reports it.
	{name: "Traceflow", fields: []field{
		req("id", str()),
		opt("operation_state", enum("IN_PROGRESS", "FINISHED", "FAILED")),
		opt("request_status", enum("SUCCESS", "TIMEOUT", "SOURCE_PORT_NOT_FOUND", "DATA_PATH_NOT_READY", "CONNECTION_ERROR", "UNKNOWN")),
		opt("lport_id", str()),
		opt("timeout", integer()),
		opt("counters", ref("TraceflowObservationCounters")),
		opt("logical_counters", ref("TraceflowObservationCounters")),
		opt("analysis", array(str())),
		opt("result_overflowed", boolean()),
		opt("_protection", str()),
	}},
	{name: "TraceflowObservationCounters", fields: []field{
		opt("forwarded_count", integer()), opt("dropped_count", integer()), opt("delivered_count", integer()), opt("received_count", integer()),
	}},
	{name: "TraceflowObservation", discriminator: "resource_type", fields: []field{
		req("resource_type", enum(observationTypes...)),
		opt("component_type", enum(componentTypes...)),
		opt("component_sub_type", str()),
		opt("component_name", str()),
		opt("transport_node_id", str()),
		opt("transport_node_name", str()),
		opt("transport_node_type", enum("ESX", "RHELKVM", "UBUNTUKVM", "EDGE", "PUBLIC_CLOUD_GATEWAY_NODE", "OTHERS", "HYPERV")),
		opt("sequence_no", integer()),
		opt("timestamp", integer()),
		opt("timestamp_micro", integer()),
	}},
	{name: "TraceflowObservationForwardedLogical", base: "TraceflowObservation", fields: []field{
		opt("component_id", str()), opt("lport_id", str()), opt("lport_name", str()), opt("acl_rule_id", integer()),
		opt("dst_component_id", str()), opt("dst_component_name", str()), opt("dst_component_type", enum(componentTypes...)),
		opt("vni", integer()), opt("nat_rule_id", integer()), opt("translated_src_ip", str()), opt("translated_dst_ip", str()),
	}},
	{name: "TraceflowObservationDropped", base: "TraceflowObservation", fields: []field{
		opt("reason", str()), opt("lport_id", str()), opt("lport_name", str()), opt("acl_rule_id", integer()),
		opt("nat_rule_id", integer()), opt("arp_fail_reason", str()),
	}},
	{name: "TraceflowObservationDroppedLogical", base: "TraceflowObservationDropped", fields: []field{opt("component_id", str())}},
	{name: "TraceflowObservationReceivedLogical", base: "TraceflowObservation", fields: []field{
		opt("component_id", str()), opt("lport_id", str()), opt("lport_name", str()), opt("vni", integer()),
		opt("src_component_id", str()), opt("src_component_name", str()), opt("src_component_type", enum(componentTypes...)),
	}},
	{name: "TraceflowObservationDelivered", base: "TraceflowObservation", fields: []field{
		opt("lport_id", str()), opt("lport_name", str()), opt("target_mac", str()), opt("vlan_id", integer()), opt("resolution_type", str()),
	}},
	listResult("TraceflowObservationListResult", ref("TraceflowObservation")),
}

const traceflow = "/infra/traceflows/{traceflow-id}"

func traceflowOperations() []operation {
	ep := q("enforcement_point_path", str())
	return []operation{
		{method: "GET", path: traceflow, response: "TraceflowConfig"},
		{method: "PUT", path: traceflow, query: []param{ep}, body: "TraceflowConfig", response: "TraceflowConfig"},
		{method: "DELETE", path: traceflow},
		{method: "GET", path: traceflow + "/status", query: []param{ep}, response: "Traceflow"},
		{method: "GET", path: traceflow + "/observations", query: withList(ep), response: "TraceflowObservationListResult"},
	}
}
