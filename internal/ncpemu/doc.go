// Package ncpemu emulates the parts of VMware's NSX Container Plugin (NCP) — and of the scheduler
// and kubelet in front of it — that microseg depends on, so that tests and the demo can run pods on
// a control plane that has only etcd, kube-apiserver and kube-controller-manager.
//
// In a real deployment the scheduler binds a pod to a node, the kubelet starts it, NCP gives it an
// IP address and creates a tagged NSX logical port for it, and the kubelet reports it Running.
// The Emulator does all of that with no containers at all:
//
//   - it keeps one virtual Node (Ready, with an IPv4 and an IPv6 InternalIP);
//   - it binds every unscheduled pod to that node through pods/binding, as a scheduler does;
//   - it gives every bound pod an IPv4 address, and an IPv6 one when an IPv6 pool is configured
//     (dual stack), and reports the pod Running and Ready with all containers started;
//   - it creates, updates and deletes the pod's logical port in NSX exactly as NCP tags it (see
//     internal/ncptags: every label, reserved-looking keys such as ncp/project included), and holds
//     the pod with a finalizer until the port is gone; in Policy mode (Config.API = APIPolicy, NCP's
//     policy_nsxapi) the port is a segment port on a segment tagged ncp/cluster, id = the pod's UID,
//     with the same tags (portapi.go says why that layout);
//   - at start it rebuilds its address table from the pods (so addresses survive restarts) and
//     deletes the ports of its cluster whose pods no longer exist.
//
// It is a controller-runtime controller: SetupWithManager runs it inside any manager (next to the
// operator in tests), Run runs it standalone. WaitForSync tells a test when NSX has caught up.
//
// RBAC. These markers document what the emulator needs. They are never turned into manifests:
// controller-gen only scans ./api/... and ./controllers/..., and the operator must not be granted
// the permissions of a scheduler and a kubelet. Grant them to the emulator's own identity if it
// ever runs with one.
//
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods/binding,verbs=create
// +kubebuilder:rbac:groups="",resources=pods/status,verbs=update;patch
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=nodes/status,verbs=update;patch
package ncpemu
