package nsxclient

// Wire types of the NSX Policy API (/policy/api/v1) shared by every Policy object. Only the
// fields microseg reads or writes are modelled. docs/nsx-policy-api.md says where each shape comes
// from; internal/nsxspec/policyspec holds the same shapes as a table that the tests validate
// every request and response against.

// PolicyResource holds the fields every Policy object carries.
//
// Revision is a pointer: a PUT must carry the current _revision of an existing object, while a
// PATCH should carry one only when the caller wants the write refused if someone else changed
// the object since it was read (and then exactly the one it read). A nil Revision sends none.
type PolicyResource struct {
	ID           string `json:"id,omitempty"`
	DisplayName  string `json:"display_name,omitempty"`
	Description  string `json:"description,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	Tags         []Tag  `json:"tags,omitempty"`
	Revision     *int64 `json:"_revision,omitempty"`

	// Read-only: NSX fills these in and ignores them in requests.
	Path             string `json:"path,omitempty"`
	ParentPath       string `json:"parent_path,omitempty"`
	RelativePath     string `json:"relative_path,omitempty"`
	UniqueID         string `json:"unique_id,omitempty"`
	RealizationID    string `json:"realization_id,omitempty"`
	MarkedForDelete  bool   `json:"marked_for_delete,omitempty"`
	CreateUser       string `json:"_create_user,omitempty"`
	CreateTime       int64  `json:"_create_time,omitempty"`
	LastModifiedUser string `json:"_last_modified_user,omitempty"`
	LastModifiedTime int64  `json:"_last_modified_time,omitempty"`
	SystemOwned      bool   `json:"_system_owned,omitempty"`
	Protection       string `json:"_protection,omitempty"`
}

// RevisionOf returns a pointer to rev, for PolicyResource.Revision.
func RevisionOf(rev int64) *int64 { return &rev }

// WithoutServerFields returns a copy of r with the read-only fields and the revision cleared:
// what to send when writing back an object that was read, without optimistic locking.
func (r PolicyResource) WithoutServerFields() PolicyResource {
	return PolicyResource{ID: r.ID, DisplayName: r.DisplayName, Description: r.Description,
		ResourceType: r.ResourceType, Tags: r.Tags}
}

// PolicyDomain is a Policy domain (/infra/domains/{id}), the container of groups and security
// policies. A local manager has the system domain "default".
type PolicyDomain struct {
	PolicyResource
	// Children is used only in hierarchical API bodies (ChildGroup, ChildSecurityPolicy).
	Children []ChildNode `json:"children,omitempty"`
}

// DefaultDomain is the id of the domain every local manager has.
const DefaultDomain = "default"

// Resource types of the Policy objects microseg uses.
const (
	ResourceInfra          = "Infra"
	ResourceDomain         = "Domain"
	ResourceGroup          = "Group"
	ResourceSecurityPolicy = "SecurityPolicy"
	ResourceRule           = "Rule"
	ResourceSegment        = "Segment"
	ResourceSegmentPort    = "SegmentPort"
)

// PolicyListOptions are the list parameters every Policy list call accepts.
type PolicyListOptions struct {
	// IncludeMarkedForDelete also lists objects that were deleted but whose deletion NSX has not
	// finished realizing (they carry marked_for_delete: true).
	IncludeMarkedForDelete bool
	// PageSize is the page size requested from NSX (0: NSX's default of 1000).
	PageSize int
}

func (o PolicyListOptions) addTo(r *request) {
	if o.IncludeMarkedForDelete {
		r.query.Set("include_mark_for_delete_objects", "true")
	}
	setPageSize(r, o.PageSize)
}
