package nsxclient

import "context"

// ListSegments returns every segment under /infra/segments.
func (p *PolicyClient) ListSegments(ctx context.Context, opts PolicyListOptions) ([]Segment, error) {
	return policyList[Segment](ctx, p, opts, nil, pSegments)
}

// GetSegment returns one segment.
func (p *PolicyClient) GetSegment(ctx context.Context, id string) (*Segment, error) {
	return policyGet[Segment](ctx, p, pSegment, id)
}

// PatchSegment creates segment s.ID or merges s into it.
func (p *PolicyClient) PatchSegment(ctx context.Context, s Segment) error {
	return p.policyPatch(ctx, s, pSegment, s.ID)
}

// DeleteSegment deletes a segment that has no ports.
func (p *PolicyClient) DeleteSegment(ctx context.Context, id string) error {
	return p.policyDelete(ctx, pSegment, id)
}

// ListSegmentPorts returns every port of a segment.
func (p *PolicyClient) ListSegmentPorts(ctx context.Context, segment string, opts PolicyListOptions) ([]SegmentPort, error) {
	return policyList[SegmentPort](ctx, p, opts, nil, pSegmentPorts, segment)
}

// GetSegmentPort returns one port of a segment.
func (p *PolicyClient) GetSegmentPort(ctx context.Context, segment, id string) (*SegmentPort, error) {
	return policyGet[SegmentPort](ctx, p, pSegmentPort, segment, id)
}

// PatchSegmentPort creates port sp.ID on a segment or merges sp into it (e.g. new tags).
func (p *PolicyClient) PatchSegmentPort(ctx context.Context, segment string, sp SegmentPort) error {
	return p.policyPatch(ctx, sp, pSegmentPort, segment, sp.ID)
}

// PutSegmentPort creates port sp.ID or replaces it; replacing needs sp.Revision to be current.
func (p *PolicyClient) PutSegmentPort(ctx context.Context, segment string, sp SegmentPort) (*SegmentPort, error) {
	return policyPut[SegmentPort](ctx, p, sp, pSegmentPort, segment, sp.ID)
}

// DeleteSegmentPort deletes a port of a segment.
func (p *PolicyClient) DeleteSegmentPort(ctx context.Context, segment, id string) error {
	return p.policyDelete(ctx, pSegmentPort, segment, id)
}
