package controllers

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
)

// statusWriter writes ClusterSecurityPolicy status, and only when it changes: a sync that changes
// nothing writes nothing.
//
// "Changes" is decided against what the API server holds. The cache can lag behind our own last
// write: comparing the next status with a cached copy that predates it could skip a write that
// is needed (True, then False, then True again before the cache saw the False). So the writer
// remembers the resourceVersion each of its writes produced, and reads a policy from the API
// server whenever the cached copy is not that version. Writes carry the resourceVersion they
// were computed from; a conflict fails the sync, which is retried with a fresh read.
type statusWriter struct {
	client client.Client
	reader client.Reader // uncached
	// written is the resourceVersion of each policy after our last status write.
	written map[types.UID]string
}

// write writes the status CSPStatus computes for each policy where it differs. With onlyNew it
// touches only policies whose current generation has no status yet. The policies are updated
// in place with what the API server holds.
func (w *statusWriter) write(ctx context.Context, csps []securityv1alpha1.ClusterSecurityPolicy, o *Outcome, onlyNew bool) error {
	now := metav1.Now()
	live := make(map[types.UID]bool, len(csps))
	var errs []error
	for i := range csps {
		csp := &csps[i]
		live[csp.UID] = true
		if rv, ok := w.written[csp.UID]; ok && rv != csp.ResourceVersion {
			if err := w.reader.Get(ctx, client.ObjectKeyFromObject(csp), csp); err != nil {
				if !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("%s: %w", csp.Name, err))
				}
				continue
			}
		}
		if onlyNew && csp.Status.ObservedGeneration == csp.Generation && len(csp.Status.Conditions) > 0 {
			continue
		}
		want, ok := CSPStatus(csp.Status, csp.Name, csp.Generation, o, now)
		if !ok || equality.Semantic.DeepEqual(csp.Status, want) {
			continue
		}
		base := client.MergeFromWithOptions(csp.DeepCopy(), client.MergeFromWithOptimisticLock{})
		csp.Status = want
		if err := w.client.Status().Patch(ctx, csp, base); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("%s: %w", csp.Name, err))
			}
			w.written[csp.UID] = "" // matches no version: read it fresh next time
			continue
		}
		w.written[csp.UID] = csp.ResourceVersion
	}
	for uid := range w.written {
		if !live[uid] {
			delete(w.written, uid)
		}
	}
	return errors.Join(errs...)
}
