package controllers

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"sigs.k8s.io/controller-runtime/pkg/event"
)

// Outcomes holds the outcomes the DFW reconciler publishes, for the status and event controllers:
// the last one that reached NSX (or failed trying), and the interim one of a sync in progress
// when it is newer. Each publication signals every subscriber, so that the controllers enqueue
// their policies; a signal not yet consumed stands for any number of publications, since the
// controllers always read the newest outcomes.
type Outcomes struct {
	mu             sync.Mutex
	final, interim *Outcome
	subscribers    []chan signal
}

// signal is what a publication sends: nothing but the news (a controller-runtime generic event
// without an object, for source.Channel).
type signal = event.TypedGenericEvent[struct{}]

// NewOutcomes returns an empty store.
func NewOutcomes() *Outcomes { return &Outcomes{} }

// publish makes o the newest outcome (interim when it has not reached NSX) and signals the
// subscribers. o must not change afterwards.
func (s *Outcomes) publish(o *Outcome) {
	s.mu.Lock()
	if o.Planned || o.Err != nil {
		s.final, s.interim = o, nil
	} else {
		s.interim = o
	}
	subs := s.subscribers
	s.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- signal{}:
		default: // a signal is pending already
		}
	}
}

// current returns the last outcome that reached NSX (nil before the first) and the interim one,
// when a sync in progress published one after it.
func (s *Outcomes) current() (final, interim *Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final, s.interim
}

// subscribe returns a channel that receives a signal after publications.
func (s *Outcomes) subscribe() <-chan signal {
	ch := make(chan signal, 1)
	s.mu.Lock()
	s.subscribers = append(s.subscribers, ch)
	s.mu.Unlock()
	return ch
}

// enqueueAll maps an outcome's signal to a request for every object of the list's kind in the
// cache (what is the signal about: for the log).
func enqueueAll(c client.Client, newList func() client.ObjectList, what string) handler.TypedEventHandler[struct{}, reconcile.Request] {
	return handler.TypedEnqueueRequestsFromMapFunc(func(ctx context.Context, _ struct{}) []reconcile.Request {
		list := newList()
		if err := c.List(ctx, list); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Cannot list objects from the cache after a sync; they are reconciled at their next change or sync", "kind", what)
			return nil
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "Cannot read a list from the cache", "kind", what)
			return nil
		}
		out := make([]reconcile.Request, 0, len(items))
		for _, o := range items {
			if obj, ok := o.(client.Object); ok {
				out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
			}
		}
		return out
	})
}
