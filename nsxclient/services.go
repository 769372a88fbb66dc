package nsxclient

// L4PortSet returns an inline firewall-rule service matching TCP or UDP destination ports. Ports
// are strings, single ("443") or ranges ("8000-8080"); NSX accepts at most 15 per service, and
// a range with equal ends must be written as a single port.
//
// Inline services avoid creating (and later garbage-collecting) NSService objects.
func L4PortSet(protocol string, ports ...string) FirewallService {
	return FirewallService{Service: &NSServiceElement{
		ResourceType:     ServiceL4PortSet,
		L4Protocol:       protocol,
		DestinationPorts: ports,
	}}
}

// StaticMember returns the NSGroupSimpleExpression NSX uses for a static group member:
// target_type, target_property "id", op "EQUALS", value id.
func StaticMember(targetType, id string) NSGroupExpression {
	return NSGroupExpression{
		ResourceType:   ExprSimple,
		TargetType:     targetType,
		TargetProperty: "id",
		Op:             "EQUALS",
		Value:          id,
	}
}
