package ir

// Limits are the NSX-T Manager API maximums the IR must respect (from the vendor's API
// specification 2.5.1 and NCP's documentation; docs/architecture.md, "NSX facts"). Tests
// override them with small values to exercise every split.
type Limits struct {
	// MaxRulesPerSection: rules in one section (and in one update_with_rules request). 1000.
	MaxRulesPerSection int `json:"maxRulesPerSection"`
	// MaxRefsPerField: entries of applied_tos, sources or destinations of one rule. 128.
	MaxRefsPerField int `json:"maxRefsPerField"`
	// MaxServicesPerRule: entries of services of one rule. 128.
	MaxServicesPerRule int `json:"maxServicesPerRule"`
	// MaxPortsPerEntry: destination_ports of one L4PortSetNSService. 15.
	MaxPortsPerEntry int `json:"maxPortsPerEntry"`
	// MaxIPSetEntries: ip_addresses of one IPSet. 4000.
	MaxIPSetEntries int `json:"maxIPSetEntries"`
	// MaxCriteriaPerGroup: membership_criteria of one NSGroup (ORed). 5.
	MaxCriteriaPerGroup int `json:"maxCriteriaPerGroup"`
	// MaxExpressionsPerCriterion: expressions of one NSGroupComplexExpression (ANDed). 5.
	MaxExpressionsPerCriterion int `json:"maxExpressionsPerCriterion"`
	// MaxGroupMembers: static members of one NSGroup. 500.
	MaxGroupMembers int `json:"maxGroupMembers"`
	// MaxTagScopeLen and MaxTagValueLen: characters of a tag scope / tag value. 128 / 256.
	MaxTagScopeLen int `json:"maxTagScopeLen"`
	MaxTagValueLen int `json:"maxTagValueLen"`
	// MaxTagsPerObject: tags on one object (NCP copies pod labels onto the pod's port). 30.
	MaxTagsPerObject int `json:"maxTagsPerObject"`
	// MaxDisplayNameLen: characters of a display_name. 255.
	MaxDisplayNameLen int `json:"maxDisplayNameLen"`
}

// DefaultLimits are the NSX-T 2.5+ Manager API limits.
func DefaultLimits() Limits {
	return Limits{
		MaxRulesPerSection:         1000,
		MaxRefsPerField:            128,
		MaxServicesPerRule:         128,
		MaxPortsPerEntry:           15,
		MaxIPSetEntries:            4000,
		MaxCriteriaPerGroup:        5,
		MaxExpressionsPerCriterion: 5,
		MaxGroupMembers:            500,
		MaxTagScopeLen:             128,
		MaxTagValueLen:             256,
		MaxTagsPerObject:           30,
		MaxDisplayNameLen:          255,
	}
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	set(&l.MaxRulesPerSection, d.MaxRulesPerSection)
	set(&l.MaxRefsPerField, d.MaxRefsPerField)
	set(&l.MaxServicesPerRule, d.MaxServicesPerRule)
	set(&l.MaxPortsPerEntry, d.MaxPortsPerEntry)
	set(&l.MaxIPSetEntries, d.MaxIPSetEntries)
	set(&l.MaxCriteriaPerGroup, d.MaxCriteriaPerGroup)
	set(&l.MaxExpressionsPerCriterion, d.MaxExpressionsPerCriterion)
	set(&l.MaxGroupMembers, d.MaxGroupMembers)
	set(&l.MaxTagScopeLen, d.MaxTagScopeLen)
	set(&l.MaxTagValueLen, d.MaxTagValueLen)
	set(&l.MaxTagsPerObject, d.MaxTagsPerObject)
	set(&l.MaxDisplayNameLen, d.MaxDisplayNameLen)
	return l
}
