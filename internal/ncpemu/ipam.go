package ncpemu

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// ipam hands out pod addresses: from each pool, the lowest address that no live pod holds.
//
// That rule makes allocation deterministic and restart-safe without any state of its own: the
// table is rebuilt from the addresses the pods report (reserve), and the next pod gets the same
// address whichever emulator instance serves it. An address is only released when its pod object
// is gone, never while a terminating pod still shows it, so two existing pods never share one.
type ipam struct {
	pools []netip.Prefix

	mu     sync.Mutex
	owners map[netip.Addr]types.NamespacedName
	pods   map[types.NamespacedName]podAddrs
}

// podAddrs are the addresses of one incarnation (UID) of a pod name.
type podAddrs struct {
	uid   types.UID
	addrs []netip.Addr // in pool order
}

func newIPAM(pools ...netip.Prefix) *ipam {
	return &ipam{
		pools:  pools,
		owners: map[netip.Addr]types.NamespacedName{},
		pods:   map[types.NamespacedName]podAddrs{},
	}
}

// reserve records addresses a pod already holds (read from its status after a restart).
// Addresses outside the pools are not ours and are ignored. An address held by another pod is
// reported and not recorded.
func (a *ipam) reserve(pod types.NamespacedName, uid types.UID, addrs []netip.Addr) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgetOtherIncarnation(pod, uid)
	cur := a.pods[pod]
	cur.uid = uid
	for _, ip := range addrs {
		if a.poolOf(ip) < 0 || slices.Contains(cur.addrs, ip) {
			continue
		}
		if owner, taken := a.owners[ip]; taken && owner != pod {
			return fmt.Errorf("address %s of pod %s is already held by pod %s", ip, pod, owner)
		}
		a.owners[ip] = pod
		cur.addrs = append(cur.addrs, ip)
	}
	a.pods[pod] = cur
	return nil
}

// addressesFor returns the pod's addresses, one per pool, allocating what it does not hold yet.
// It is all or nothing: when a pool is exhausted nothing new is kept.
func (a *ipam) addressesFor(pod types.NamespacedName, uid types.UID) ([]netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.forgetOtherIncarnation(pod, uid)
	cur := a.pods[pod]
	out := make([]netip.Addr, 0, len(a.pools))
	var fresh []netip.Addr
	for i, pool := range a.pools {
		if held := slices.IndexFunc(cur.addrs, func(ip netip.Addr) bool { return a.poolOf(ip) == i }); held >= 0 {
			out = append(out, cur.addrs[held])
			continue
		}
		ip, ok := a.lowestFree(pool)
		if !ok {
			for _, f := range fresh {
				delete(a.owners, f)
			}
			return nil, fmt.Errorf("pod address pool %s is exhausted", pool)
		}
		a.owners[ip] = pod
		fresh = append(fresh, ip)
		out = append(out, ip)
	}
	a.pods[pod] = podAddrs{uid: uid, addrs: out}
	return slices.Clone(out), nil
}

// release frees the addresses of a pod whose object is gone.
func (a *ipam) release(pod types.NamespacedName) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.releaseLocked(pod)
}

// forgetOtherIncarnation drops what an earlier pod of the same name (another UID) held: a
// StatefulSet pod deleted and recreated between two reconciles is seen only as the new one.
func (a *ipam) forgetOtherIncarnation(pod types.NamespacedName, uid types.UID) {
	if cur, ok := a.pods[pod]; ok && cur.uid != uid {
		a.releaseLocked(pod)
	}
}

func (a *ipam) releaseLocked(pod types.NamespacedName) {
	for _, ip := range a.pods[pod].addrs {
		delete(a.owners, ip)
	}
	delete(a.pods, pod)
}

func (a *ipam) poolOf(ip netip.Addr) int {
	return slices.IndexFunc(a.pools, func(p netip.Prefix) bool { return p.Contains(ip) })
}

// lowestFree skips the network address and the first host address (the pod gateway, as on a
// real pod subnet) and, for IPv4, the broadcast address.
func (a *ipam) lowestFree(pool netip.Prefix) (netip.Addr, bool) {
	for ip := pool.Addr().Next().Next(); ip.IsValid() && pool.Contains(ip); ip = ip.Next() {
		if ip.Is4() && !pool.Contains(ip.Next()) {
			break // broadcast
		}
		if _, taken := a.owners[ip]; !taken {
			return ip, true
		}
	}
	return netip.Addr{}, false
}
