package ncpemu

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/microseg/microseg/nsxclient"
)

// PodPort is what the emulator made of one pod: its port in NSX and its addresses.
type PodPort struct {
	Pod types.NamespacedName
	UID types.UID
	// PortID names the port as Traceflow takes it: the logical port's id (Manager mode) or the
	// segment port's path (Policy mode).
	PortID string
	IPs    []netip.Addr
}

// Ports lists the logical ports the emulator holds in NSX, ordered by pod.
func (e *Emulator) Ports() []PodPort {
	var out []PodPort
	for uid, p := range e.ports.all() {
		ns, name := portOwner(p)
		id := p.ID
		if e.cfg.API == APIPolicy {
			id = nsxclient.SegmentPortPath(e.cfg.LogicalSwitchID, p.ID)
		}
		out = append(out, PodPort{Pod: types.NamespacedName{Namespace: ns, Name: name}, UID: uid, PortID: id, IPs: addrsOfPort(p)})
	}
	slices.SortFunc(out, func(a, b PodPort) int { return strings.Compare(a.Pod.String(), b.Pod.String()) })
	return out
}

// Pending says what is left to do, reading the pods straight from the API server so that a pod
// created a moment ago counts even before the emulator has seen it: every pod bound, addressed,
// Running, and with a port in NSX that matches its labels and addresses; no terminating pod left;
// no port of a pod that is gone. An empty result means the emulator is in sync.
func (e *Emulator) Pending(ctx context.Context) ([]string, error) {
	e.initMu.Lock()
	reader, initialized := e.reader, e.initialized
	e.initMu.Unlock()
	if reader == nil || !initialized {
		return []string{"the emulator has not started yet"}, nil
	}
	pods := &corev1.PodList{}
	if err := reader.List(ctx, pods); err != nil {
		return nil, err
	}
	var pending []string
	live := map[types.UID]bool{}
	for i := range pods.Items {
		pod := &pods.Items[i]
		live[pod.UID] = true
		if why := e.podPending(pod); why != "" {
			pending = append(pending, fmt.Sprintf("pod %s/%s: %s", pod.Namespace, pod.Name, why))
		}
	}
	for uid, p := range e.ports.all() {
		if !live[uid] {
			ns, name := portOwner(p)
			pending = append(pending, fmt.Sprintf("port %s: its pod %s/%s is gone", p.ID, ns, name))
		}
	}
	slices.Sort(pending)
	return pending, nil
}

func (e *Emulator) podPending(pod *corev1.Pod) string {
	switch {
	case pod.Spec.NodeName == "":
		return "not bound to a node"
	case pod.Spec.NodeName != e.cfg.NodeName:
		return ""
	case pod.DeletionTimestamp != nil:
		return "terminating"
	case pod.Status.Phase != corev1.PodRunning || len(pod.Status.PodIPs) == 0:
		return "not running with an address"
	case pod.Spec.HostNetwork:
		return ""
	}
	have, ok := e.ports.get(pod.UID)
	if !ok {
		return "no logical port"
	}
	if !portUpToDate(have, e.desiredPort(pod, statusAddrs(pod))) {
		return "logical port " + have.ID + " is out of date"
	}
	return ""
}

// WaitForSync polls Pending until nothing is left or ctx ends; the error then says what was still
// pending.
func (e *Emulator) WaitForSync(ctx context.Context) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		pending, err := e.Pending(ctx)
		if err == nil && len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = errors.New(strings.Join(pending, "; "))
			}
			return fmt.Errorf("ncpemu: not in sync: %w", err)
		case <-tick.C:
		}
	}
}
