package ncpemu

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/microseg/microseg/nsxclient"
)

func TestNCPTagsAreTheNCPTagsThenTheLabelsInKeyOrder(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1",
		Labels: map[string]string{"tier": "frontend", "app": "web"}}}
	want := []nsxclient.Tag{
		{Scope: "ncp/cluster", Tag: "c1"}, {Scope: "ncp/project", Tag: "shop"}, {Scope: "ncp/pod", Tag: "web-1"},
		{Scope: "app", Tag: "web"}, {Scope: "tier", Tag: "frontend"},
	}
	if got := ncpTags("c1", pod); !slices.Equal(got, want) {
		t.Fatalf("tags = %v\nwant %v", got, want)
	}
}

func TestNCPTagsTruncateLikeNCPAndStopAtThirty(t *testing.T) {
	long := "example.com/" + strings.Repeat("k", 200)
	labels := map[string]string{long: "v"}
	for i := range 40 {
		labels[fmt.Sprintf("l%02d", i)] = "x"
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", Labels: labels}}
	got := ncpTags("c", pod)
	if len(got) != maxTags {
		t.Fatalf("%d tags; NSX allows %d", len(got), maxTags)
	}
	if got[3].Scope != long[:maxTagScope] {
		t.Fatalf("long key became scope %q; want it cut to %d characters", got[3].Scope, maxTagScope)
	}
	if last := got[maxTags-1].Scope; last != "l25" {
		t.Fatalf("last kept label %q; want the highest keys dropped (l25 kept)", last)
	}
	if v := tag("s", strings.Repeat("v", 300)).Tag; len(v) != maxTagValue {
		t.Fatalf("value of %d characters; want %d", len(v), maxTagValue)
	}
}
