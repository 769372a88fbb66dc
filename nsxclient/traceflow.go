package nsxclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const (
	traceflowsPath            = "/traceflows"
	traceflowPath             = "/traceflows/{id}"
	traceflowObservationsPath = "/traceflows/{id}/observations"
	pTraceflow                = "/infra/traceflows/{id}"
	pTraceflowStatus          = pTraceflow + "/status"
	pTraceflowObservations    = pTraceflow + "/observations"
)

// CreateTraceflow starts a round (Manager API). Like every create it is not sent twice once it
// may have reached NSX.
func (c *Client) CreateTraceflow(ctx context.Context, req TraceflowRequest) (*Traceflow, error) {
	r, err := newRequest(http.MethodPost, traceflowsPath)
	if err != nil {
		return nil, err
	}
	return send[Traceflow](ctx, c, r, req)
}

// GetTraceflow reads a round's state.
func (c *Client) GetTraceflow(ctx context.Context, id string) (*Traceflow, error) {
	r, err := newRequest(http.MethodGet, traceflowPath, id)
	if err != nil {
		return nil, err
	}
	return fetch[Traceflow](ctx, c, r)
}

// ListTraceflowObservations reads every observation of a round, following pages.
func (c *Client) ListTraceflowObservations(ctx context.Context, id string) ([]TraceflowObservation, error) {
	r, err := newRequest(http.MethodGet, traceflowObservationsPath, id)
	if err != nil {
		return nil, err
	}
	return listAll[TraceflowObservation](ctx, c, r)
}

// DeleteTraceflow removes a round.
func (c *Client) DeleteTraceflow(ctx context.Context, id string) error {
	r, err := newRequest(http.MethodDelete, traceflowPath, id)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, r, nil)
}

// PutTraceflow creates or replaces a Policy API round: NSX starts a new round from the segment
// port.
func (p *PolicyClient) PutTraceflow(ctx context.Context, id string, cfg TraceflowConfig) (*TraceflowConfig, error) {
	cfg.ID, cfg.ResourceType = id, "TraceflowConfig"
	return policyPut[TraceflowConfig](ctx, p, cfg, pTraceflow, id)
}

// GetTraceflowConfig reads a Policy API round's configuration.
func (p *PolicyClient) GetTraceflowConfig(ctx context.Context, id string) (*TraceflowConfig, error) {
	return policyGet[TraceflowConfig](ctx, p, pTraceflow, id)
}

// GetTraceflowStatus reads a Policy API round's state.
func (p *PolicyClient) GetTraceflowStatus(ctx context.Context, id string) (*Traceflow, error) {
	return policyGet[Traceflow](ctx, p, pTraceflowStatus, id)
}

// ListTraceflowObservations reads every observation of a Policy API round.
func (p *PolicyClient) ListTraceflowObservations(ctx context.Context, id string) ([]TraceflowObservation, error) {
	return policyList[TraceflowObservation](ctx, p, PolicyListOptions{}, nil, pTraceflowObservations, id)
}

// DeleteTraceflow removes a Policy API round.
func (p *PolicyClient) DeleteTraceflow(ctx context.Context, id string) error {
	return p.policyDelete(ctx, pTraceflow, id)
}

// TraceflowResult is a finished round: its state and what was observed.
type TraceflowResult struct {
	Traceflow    Traceflow
	Observations []TraceflowObservation
}

// ErrTraceflowFailed is returned when a round ends FAILED or does not finish in time.
var ErrTraceflowFailed = errors.New("nsx: the traceflow round did not finish")

// traceflowRound is one API's way to follow a round.
type traceflowRound struct {
	status       func(context.Context) (*Traceflow, error)
	observations func(context.Context) ([]TraceflowObservation, error)
	remove       func(context.Context) error
}

// RunTraceflow starts a Manager API round, polls it every interval (at most until ctx ends) until
// it is FINISHED, reads its observations and removes it.
func (c *Client) RunTraceflow(ctx context.Context, req TraceflowRequest, interval time.Duration) (*TraceflowResult, error) {
	tf, err := c.CreateTraceflow(ctx, req)
	if err != nil {
		return nil, err
	}
	return follow(ctx, tf, interval, traceflowRound{
		status: func(ctx context.Context) (*Traceflow, error) { return c.GetTraceflow(ctx, tf.ID) },
		observations: func(ctx context.Context) ([]TraceflowObservation, error) {
			return c.ListTraceflowObservations(ctx, tf.ID)
		},
		remove: func(ctx context.Context) error { return c.DeleteTraceflow(ctx, tf.ID) },
	})
}

// RunTraceflow starts a Policy API round under id, polls it until it is FINISHED, reads its
// observations and removes it.
func (p *PolicyClient) RunTraceflow(ctx context.Context, id string, cfg TraceflowConfig, interval time.Duration) (*TraceflowResult, error) {
	if _, err := p.PutTraceflow(ctx, id, cfg); err != nil {
		return nil, err
	}
	return follow(ctx, nil, interval, traceflowRound{
		status:       func(ctx context.Context) (*Traceflow, error) { return p.GetTraceflowStatus(ctx, id) },
		observations: func(ctx context.Context) ([]TraceflowObservation, error) { return p.ListTraceflowObservations(ctx, id) },
		remove:       func(ctx context.Context) error { return p.DeleteTraceflow(ctx, id) },
	})
}

// follow polls a round until it is done, then reads its observations and removes it (the removal
// is best effort: NSX cleans rounds up by itself, and a failure there does not lose the result).
func follow(ctx context.Context, tf *Traceflow, interval time.Duration, r traceflowRound) (*TraceflowResult, error) {
	defer func() { _ = r.remove(context.WithoutCancel(ctx)) }()
	for tf == nil || tf.OperationState == TraceflowInProgress || tf.OperationState == "" {
		if tf != nil {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: still %s when the wait ended: %w", ErrTraceflowFailed, tf.OperationState, ctx.Err())
			case <-time.After(interval):
			}
		}
		var err error
		if tf, err = r.status(ctx); err != nil {
			return nil, err
		}
	}
	if tf.OperationState != TraceflowFinished {
		return nil, fmt.Errorf("%w: %s (request status %s; analysis: %v)", ErrTraceflowFailed, tf.OperationState, tf.RequestStatus, tf.Analysis)
	}
	obs, err := r.observations(ctx)
	if err != nil {
		return nil, err
	}
	return &TraceflowResult{Traceflow: *tf, Observations: obs}, nil
}
