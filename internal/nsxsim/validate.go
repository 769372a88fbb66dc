package nsxsim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/microseg/microseg/nsxclient"
)

// Limits from the vendor spec 2.5.1 (maxItems, maxLength).
const (
	maxDisplayName       = 255
	maxDescription       = 1024
	maxTags              = 30
	maxTagScope          = 128
	maxTagValue          = 256
	maxTargetID          = 64
	maxTargetType        = 255
	maxRefsPerList       = 128
	maxRulesPerSection   = 1000
	maxRuleTag           = 32
	maxNotes             = 2048
	maxGroupMembers      = 500
	maxGroupCriteria     = 5
	minComplexExprs      = 2
	maxComplexExprs      = 5
	maxIPSetEntries      = 4000
	maxPortsPerL4Entry   = 15
	maxAddressBindings   = 512
	maxAnchorID          = 64
	fieldValidationIntro = "Field level validation errors: "
)

// fieldErrors collects NSX field-level validation failures; NSX reports them all at once as
// HTTP 400, error_code 255, "Field level validation errors: {...}" (a real NSX error seen in nsxlib's fixtures).
type fieldErrors []string

func (f *fieldErrors) add(format string, args ...any) { *f = append(*f, fmt.Sprintf(format, args...)) }

func (f fieldErrors) err() *apiError {
	if len(f) == 0 {
		return nil
	}
	return newAPIError(http.StatusBadRequest, nsxclient.ErrCodeFieldValidation, moduleCommon,
		"%s{%s}", fieldValidationIntro, strings.Join(f, ", "))
}

func (f *fieldErrors) maxLen(field, value string, limit int) {
	if len(value) > limit {
		f.add("%s has exceeded maximum length %d", field, limit)
	}
}

func (f *fieldErrors) maxItems(field string, n, limit int) {
	if n > limit {
		f.add("%s has exceeded maximum size %d", field, limit)
	}
}

func (f *fieldErrors) required(field string, missing bool) {
	if missing {
		f.add("%s is a required field", field)
	}
}

// enum checks value against allowed; an empty value is accepted (the caller applies the default or
// reports it as required).
func (f *fieldErrors) enum(field, value string, allowed ...string) {
	if value != "" && !slices.Contains(allowed, value) {
		f.add("%s has invalid value %q; allowed values are [%s]", field, value, strings.Join(allowed, ", "))
	}
}

// managed validates the ManagedResource fields a client may write.
func (f *fieldErrors) managed(m *nsxclient.ManagedResource) {
	f.maxLen("display_name", m.DisplayName, maxDisplayName)
	f.maxLen("description", m.Description, maxDescription)
	f.tags(m.Tags)
}

func (f *fieldErrors) tags(tags []nsxclient.Tag) {
	f.maxItems("tags", len(tags), maxTags)
	for _, t := range tags {
		f.maxLen("tags.scope", t.Scope, maxTagScope)
		f.maxLen("tags.tag", t.Tag, maxTagValue)
	}
}

// reference validates the writable fields of a ResourceReference.
func (f *fieldErrors) reference(field string, r nsxclient.ResourceReference) {
	f.required(field+".target_id", r.TargetID == "")
	f.maxLen(field+".target_id", r.TargetID, maxTargetID)
	f.maxLen(field+".target_type", r.TargetType, maxTargetType)
}
