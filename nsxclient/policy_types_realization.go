package nsxclient

// Realization: a Policy write returns once NSX stored the intent; realizing it on the hosts
// happens afterwards. These are the answers of the realized-state endpoints.

// Realization states of a realized entity.
const (
	StateRealized    = "REALIZED"
	StateUnrealized  = "UNREALIZED"
	StateError       = "ERROR"
	StateUnavailable = "UNAVAILABLE"
)

// RealizedEntity is one entity NSX realized (or is realizing) for an intent path
// (GenericPolicyRealizedResource).
type RealizedEntity struct {
	ID           string `json:"id,omitempty"`
	DisplayName  string `json:"display_name,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	Path         string `json:"path,omitempty"`
	// State is UNAVAILABLE, UNREALIZED, REALIZED or ERROR.
	State                         string          `json:"state"`
	EntityType                    string          `json:"entity_type,omitempty"`
	IntentPaths                   []string        `json:"intent_paths,omitempty"`
	RealizationSpecificIdentifier string          `json:"realization_specific_identifier,omitempty"`
	Alarms                        []RealizedAlarm `json:"alarms,omitempty"`
	PublishStatus                 string          `json:"publish_status,omitempty"`
	// RuntimeStatus is deprecated by NSX but still sent.
	RuntimeStatus string `json:"runtime_status,omitempty"`
	Revision      *int64 `json:"_revision,omitempty"`
}

// RealizedAlarm explains a realization ERROR.
type RealizedAlarm struct {
	Message      string                `json:"message,omitempty"`
	ErrorDetails *RealizedErrorDetails `json:"error_details,omitempty"`
}

// RealizedErrorDetails is the error of an alarm.
type RealizedErrorDetails struct {
	ErrorCode     int64             `json:"error_code,omitempty"`
	ErrorMessage  string            `json:"error_message,omitempty"`
	ModuleName    string            `json:"module_name,omitempty"`
	RelatedErrors []RelatedAPIError `json:"related_errors,omitempty"`
}

// ConsolidatedRealizedStatus is the summary of an intent's realization.
type ConsolidatedRealizedStatus struct {
	IntentPath    string `json:"intent_path,omitempty"`
	IntentVersion string `json:"intent_version,omitempty"`
	// PublishStatus is UNAVAILABLE, UNREALIZED, REALIZED or ERROR.
	PublishStatus      string              `json:"publish_status,omitempty"`
	ConsolidatedStatus *ConsolidatedStatus `json:"consolidated_status,omitempty"`
}

// ConsolidatedStatus is SUCCESS, IN_PROGRESS, ERROR, UNKNOWN, ...
type ConsolidatedStatus struct {
	ConsolidatedStatus string `json:"consolidated_status"`
}
