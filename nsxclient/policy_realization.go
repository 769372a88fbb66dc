package nsxclient

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RealizedEntities returns the entities NSX realized for an intent path (GET
// /infra/realized-state/realized-entities?intent_path=...).
func (p *PolicyClient) RealizedEntities(ctx context.Context, intentPath string) ([]RealizedEntity, error) {
	r, err := newPolicyRequest(http.MethodGet, pRealizedEntities)
	if err != nil {
		return nil, err
	}
	r.query.Set("intent_path", intentPath)
	return listAll[RealizedEntity](ctx, p.c, r)
}

// RealizationStatus returns the consolidated realization status of an intent path (GET
// /infra/realized-state/status?intent_path=...).
func (p *PolicyClient) RealizationStatus(ctx context.Context, intentPath string) (*ConsolidatedRealizedStatus, error) {
	r, err := newPolicyRequest(http.MethodGet, pRealizedStatus)
	if err != nil {
		return nil, err
	}
	r.query.Set("intent_path", intentPath)
	return fetch[ConsolidatedRealizedStatus](ctx, p.c, r)
}

// RealizationError reports that NSX failed to realize an intent (a realized entity in state
// ERROR), with the alarms NSX gave.
type RealizationError struct {
	IntentPath string
	Entity     string
	Alarms     []RealizedAlarm
}

func (e *RealizationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nsx: realizing %s failed", e.IntentPath)
	if e.Entity != "" {
		fmt.Fprintf(&b, " (entity %s)", e.Entity)
	}
	for _, a := range e.Alarms {
		b.WriteString(": ")
		b.WriteString(a.Message)
		if d := a.ErrorDetails; d != nil {
			if d.ErrorCode != 0 {
				fmt.Fprintf(&b, " [error_code %d]", d.ErrorCode)
			}
			for _, rel := range d.RelatedErrors {
				fmt.Fprintf(&b, "; %s", rel.ErrorMessage)
			}
		}
	}
	b.WriteString(" (fix the cause NSX names, then write the object again)")
	return b.String()
}

// WaitForRealization polls the realized entities of intentPath every interval until the list is
// non-empty and every entity is REALIZED (nil), any entity is in ERROR (*RealizationError), or
// ctx ends. This is how a caller knows the hosts enforce what a write asked for.
func (p *PolicyClient) WaitForRealization(ctx context.Context, intentPath string, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		entities, err := p.RealizedEntities(ctx, intentPath)
		if err != nil {
			return err
		}
		realized := len(entities) > 0
		for _, e := range entities {
			switch e.State {
			case StateError:
				return &RealizationError{IntentPath: intentPath, Entity: e.EntityType, Alarms: e.Alarms}
			case StateRealized:
			default:
				realized = false
			}
		}
		if realized {
			return nil
		}
		if err := p.c.sleep(ctx, interval); err != nil {
			return fmt.Errorf("nsx: waiting for %s to be realized: %w", intentPath, err)
		}
	}
}
