package nsxspec

// Bodies shaped like what NSX-T 2.5 Managers return, read-only fields included.

const firewallSectionBody = `{
  "id": "4b7a1f52-6c6e-4bd2-9d1c-6a9f0b0f1a11",
  "display_name": "microseg/default/web",
  "description": "managed by microseg",
  "resource_type": "FirewallSection",
  "section_type": "LAYER3",
  "stateful": true,
  "tcp_strict": false,
  "applied_tos": [{"target_id": "9c1d", "target_type": "NSGroup", "target_display_name": "web", "is_valid": true}],
  "tags": [{"scope": "microseg/cluster", "tag": "prod-a"}],
  "rule_count": 2,
  "is_default": false,
  "locked": false,
  "enforced_on": "VIF",
  "priority": 7,
  "autoplumbed": false,
  "_create_time": 1700000000000,
  "_create_user": "admin",
  "_last_modified_time": 1700000001000,
  "_last_modified_user": "admin",
  "_protection": "NOT_PROTECTED",
  "_system_owned": false,
  "_revision": 3,
  "_schema": "/v1/schema/FirewallSection",
  "_links": [{"rel": "self", "href": "/api/v1/firewall/sections/4b7a1f52", "action": "GET"}],
  "_self": {"rel": "self", "href": "/api/v1/firewall/sections/4b7a1f52"}
}`

const firewallRuleBody = `{
  "id": "1027",
  "display_name": "allow-web-from-frontend",
  "resource_type": "FirewallRule",
  "action": "ALLOW",
  "direction": "IN_OUT",
  "ip_protocol": "IPV4_IPV6",
  "rule_tag": "microseg/web",
  "logged": true,
  "disabled": false,
  "sources": [{"target_id": "9c1d", "target_type": "NSGroup"}, {"target_id": "10.0.0.0/8", "target_type": "IPv4Address"}],
  "destinations": [{"target_id": "7e2a", "target_type": "NSGroup"}],
  "sources_excluded": false,
  "destinations_excluded": false,
  "services": [
    {"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["80", "8000-8080"], "source_ports": []}},
    {"target_id": "c2f1", "target_type": "NSService", "target_display_name": "HTTPS", "is_valid": true}
  ],
  "applied_tos": [{"target_id": "7e2a", "target_type": "NSGroup"}],
  "notes": "",
  "is_default": false,
  "priority": 1027,
  "section_id": "4b7a1f52",
  "_revision": 0
}`

const nsGroupBody = `{
  "id": "9c1d",
  "display_name": "microseg/default/frontend",
  "resource_type": "NSGroup",
  "tags": [{"scope": "microseg/cluster", "tag": "prod-a"}],
  "members": [
    {"resource_type": "NSGroupSimpleExpression", "target_type": "LogicalPort", "target_property": "id", "op": "EQUALS", "value": "5d0c"}
  ],
  "membership_criteria": [
    {"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "scope": "ncp/project", "scope_op": "EQUALS", "tag": "default", "tag_op": "EQUALS"},
    {"resource_type": "NSGroupComplexExpression", "expressions": [
      {"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "scope": "ncp/project", "tag": "default"},
      {"resource_type": "NSGroupTagExpression", "target_type": "LogicalPort", "scope": "app", "tag": "frontend"}
    ]}
  ],
  "member_count": 1,
  "_revision": 1,
  "_create_time": 1700000000000
}`

const ipSetBody = `{
  "id": "e3f4",
  "display_name": "microseg/default/egress",
  "resource_type": "IPSet",
  "ip_addresses": ["192.168.1.1", "192.168.0.0/24", "192.168.1.1-192.168.1.100", "fe80::250:56ff:fe83:318c", "2001:db8::/64"],
  "_revision": 0
}`

const logicalPortBody = `{
  "id": "5d0c",
  "display_name": "default/frontend-7d9c",
  "resource_type": "LogicalPort",
  "logical_switch_id": "ls-1",
  "admin_state": "UP",
  "attachment": {
    "attachment_type": "VIF",
    "id": "vif-5d0c",
    "context": {"resource_type": "VifAttachmentContext", "vif_type": "CHILD", "parent_vif_id": "vif-node1", "app_id": "default/frontend-7d9c", "traffic_tag": 42}
  },
  "address_bindings": [{"ip_address": "10.4.0.12", "mac_address": "02:50:56:00:00:01", "vlan": 42}],
  "tags": [{"scope": "ncp/cluster", "tag": "prod-a"}, {"scope": "ncp/project", "tag": "default"}, {"scope": "app", "tag": "frontend"}],
  "_revision": 2
}`

const sectionRuleListBody = `{
  "display_name": "microseg/default/web",
  "resource_type": "FirewallSection",
  "section_type": "LAYER3",
  "stateful": true,
  "rules": [
    {"display_name": "allow-web", "action": "ALLOW", "sources": [{"target_id": "9c1d", "target_type": "NSGroup"}],
     "services": [{"service": {"resource_type": "L4PortSetNSService", "l4_protocol": "TCP", "destination_ports": ["443"]}}]},
    {"display_name": "drop-rest", "action": "DROP", "direction": "IN"}
  ]
}`

const apiErrorBody = `{
  "httpStatus": "BAD_REQUEST",
  "error_code": 255,
  "module_name": "common-services",
  "error_message": "Validation errors, see related errors.",
  "error_data": {"anything": ["goes", 1]},
  "related_errors": [
    {"httpStatus": "BAD_REQUEST", "error_code": 8307, "module_name": "firewall", "error_message": "Rule tag too long."}
  ]
}`
