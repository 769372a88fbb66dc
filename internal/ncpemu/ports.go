package ncpemu

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/microseg/microseg/nsxclient"
)

// portBook is the emulator's record of its ports in NSX (those tagged with its ncp/cluster), keyed
// by attachment id, which is the pod's UID. The emulator is the only writer of these ports, so
// after the listing at start the book is authoritative and steady-state reconciles cost no NSX
// call; NSX answers that contradict it (404, 412) correct it.
type portBook struct {
	mu    sync.Mutex
	byUID map[types.UID]nsxclient.LogicalPort
}

func newPortBook() *portBook { return &portBook{byUID: map[types.UID]nsxclient.LogicalPort{}} }

func (b *portBook) get(uid types.UID) (nsxclient.LogicalPort, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.byUID[uid]
	return p, ok
}

func (b *portBook) put(p nsxclient.LogicalPort) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.byUID[attachmentUID(p)] = p
}

func (b *portBook) remove(uid types.UID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.byUID, uid)
}

// all returns a copy of the book.
func (b *portBook) all() map[types.UID]nsxclient.LogicalPort {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[types.UID]nsxclient.LogicalPort, len(b.byUID))
	for uid, p := range b.byUID {
		out[uid] = p
	}
	return out
}

func attachmentUID(p nsxclient.LogicalPort) types.UID {
	if p.Attachment == nil {
		return ""
	}
	return types.UID(p.Attachment.ID)
}

// listOwnPorts lists the container ports of this emulator's cluster, optionally of one attachment,
// oldest first.
// NSX has no tag filter on /logical-ports, so the cluster tag is matched here.
func (e *Emulator) listOwnPorts(ctx context.Context, attachmentID string) ([]nsxclient.LogicalPort, error) {
	all, err := e.api.list(ctx, attachmentID)
	if err != nil {
		return nil, fmt.Errorf("listing ports: %w", err)
	}
	var own []nsxclient.LogicalPort
	for _, p := range all {
		if identity(p).Cluster == e.cfg.ClusterName {
			own = append(own, p)
		}
	}
	// Oldest first: of duplicates, the port that rules may already reference is the one kept.
	slices.SortStableFunc(own, func(a, b nsxclient.LogicalPort) int {
		return cmp.Or(cmp.Compare(a.CreateTime, b.CreateTime), strings.Compare(a.ID, b.ID))
	})
	return own, nil
}

// loadPorts fills the book from NSX and deletes the ports whose pod is not in live: pods deleted
// while the emulator was down (their finalizer was removed by hand, or the emulator lost its NSX
// answer), and duplicates left by a create whose response was lost.
func (e *Emulator) loadPorts(ctx context.Context, live map[types.UID]bool) error {
	ports, err := e.listOwnPorts(ctx, "")
	if err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for _, p := range ports {
		uid := attachmentUID(p)
		if live[uid] && !seen[uid] {
			seen[uid] = true
			e.ports.put(p)
			continue
		}
		ns, name := portOwner(p)
		log.FromContext(ctx).Info("Deleting a stale logical port", "port", p.ID, "pod", ns+"/"+name, "uid", uid, "duplicate", seen[uid])
		if err := e.deletePort(ctx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

// ensurePort creates or updates the pod's port so that it matches desiredPort.
func (e *Emulator) ensurePort(ctx context.Context, pod *corev1.Pod, addrs []netip.Addr) error {
	want := e.desiredPort(pod, addrs)
	have, ok := e.ports.get(pod.UID)
	if !ok {
		return e.createPort(ctx, pod, want)
	}
	if portUpToDate(have, want) {
		return nil
	}
	want.ID, want.Revision = have.ID, have.Revision
	got, err := e.api.update(ctx, want)
	switch {
	case nsxclient.IsNotFound(err):
		// Deleted behind our back: forget it; the retry creates a new one.
		e.ports.remove(pod.UID)
		return fmt.Errorf("logical port %s of pod %s/%s disappeared from NSX; recreating: %w", have.ID, pod.Namespace, pod.Name, err)
	case nsxclient.IsStaleRevision(err):
		// Edited behind our back: read the current revision; the retry overwrites the edit.
		if fresh, gerr := e.api.get(ctx, have.ID); gerr == nil {
			e.ports.put(*fresh)
		}
		return fmt.Errorf("logical port %s of pod %s/%s changed in NSX; retrying: %w", have.ID, pod.Namespace, pod.Name, err)
	case err != nil:
		return fmt.Errorf("updating logical port %s of pod %s/%s: %w", have.ID, pod.Namespace, pod.Name, err)
	}
	e.ports.put(*got)
	log.FromContext(ctx).V(1).Info("Updated logical port", "port", got.ID)
	return nil
}

// createPort first looks the port up by attachment id: a create whose response was lost may have
// made it already (the client does not resend a POST), and creating again would duplicate it.
func (e *Emulator) createPort(ctx context.Context, pod *corev1.Pod, want nsxclient.LogicalPort) error {
	existing, err := e.listOwnPorts(ctx, string(pod.UID))
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		for _, extra := range existing[1:] {
			if err := e.deletePort(ctx, extra.ID); err != nil {
				return err
			}
		}
		e.ports.put(existing[0])
		return e.ensurePort(ctx, pod, addrsOfPort(want))
	}
	got, err := e.api.create(ctx, want)
	if err != nil {
		return fmt.Errorf("creating the logical port of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	e.ports.put(*got)
	log.FromContext(ctx).Info("Created logical port", "port", got.ID, "addresses", addrsOfPort(*got))
	return nil
}

// deletePortsOf deletes the ports of pod name key except the one of incarnation keep ("" deletes
// them all): the ports of a pod being deleted, of a pod gone without our finalizer, or of an
// earlier pod with the same name.
func (e *Emulator) deletePortsOf(ctx context.Context, key types.NamespacedName, keep types.UID) error {
	for uid, p := range e.ports.all() {
		if ns, name := portOwner(p); uid == keep || ns != key.Namespace || name != key.Name {
			continue
		}
		if err := e.deletePort(ctx, p.ID); err != nil {
			return err
		}
		e.ports.remove(uid)
		log.FromContext(ctx).Info("Deleted logical port", "port", p.ID, "uid", uid)
	}
	return nil
}

// deletePort deletes a port (a port already gone is fine).
func (e *Emulator) deletePort(ctx context.Context, id string) error {
	if err := e.api.remove(ctx, id); err != nil {
		return fmt.Errorf("deleting port %s: %w", id, err)
	}
	return nil
}

func addrsOfPort(p nsxclient.LogicalPort) []netip.Addr {
	var out []netip.Addr
	for _, b := range p.AddressBindings {
		if ip, err := netip.ParseAddr(b.IPAddress); err == nil {
			out = append(out, ip)
		}
	}
	return out
}
