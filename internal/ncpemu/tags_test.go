package ncpemu

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/microseg/microseg/internal/ncpemu/layout"
	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/nsxclient"
)

// The layout itself is ncptags'; these check that the emulator writes exactly it, forged-looking
// labels included, and reads a port's owner from NCP's own tags only.

func TestNCPTagsAreNCPsLayoutLabelsIncluded(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "x1", Name: "spoofer",
		Labels: map[string]string{"app": "service-c", "ncp/project": "z1"}}}
	want := []nsxclient.Tag{
		{Scope: "ncp/cluster", Tag: "c1"}, {Scope: "ncp/project", Tag: "x1"}, {Scope: "ncp/pod", Tag: "spoofer"},
		{Scope: "app", Tag: "service-c"}, {Scope: "ncp/project", Tag: "z1"},
	}
	if got := layout.Tags("c1", pod); !slices.Equal(got, want) {
		t.Fatalf("tags = %v\nwant %v (NCP copies every label, reserved-looking keys included)", got, want)
	}
	portTags := ncptags.PortTags("c1", ncptags.Pod{Namespace: pod.Namespace, Name: pod.Name, Labels: pod.Labels})
	if len(portTags) != len(want) {
		t.Fatalf("ncptags.PortTags has %d tags, the emulator %d", len(portTags), len(want))
	}
}

func TestPortOwnerAndClusterComeFromNCPsOwnTags(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "x1", Name: "spoofer", UID: "u1",
		Labels: map[string]string{"ncp/cluster": "other", "ncp/pod": "service-c-0", "ncp/project": "z1"}}}
	port := layout.PortForPod(layout.Config{ClusterName: "c1"}, pod, nil)
	if ns, name := portOwner(port); ns != "x1" || name != "spoofer" {
		t.Fatalf("owner %s/%s; want x1/spoofer whatever the pod's labels say", ns, name)
	}
	if got := identity(port).Cluster; got != "c1" {
		t.Fatalf("cluster %q; want c1: a forged ncp/cluster label must not make another cluster's emulator take the port", got)
	}
}
