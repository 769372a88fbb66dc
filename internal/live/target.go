package live

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Target is a pod named on the command line: "NAMESPACE/POD", "NAMESPACE/deployment/NAME" (also
// deploy/ or deployments/), or "NAMESPACE/SELECTOR" with a label selector such as app=web.
type Target struct {
	Text, Namespace string
	pod             string
	deployment      string
	selector        labels.Selector
}

// ParseTarget reads a target.
func ParseTarget(text string) (Target, error) {
	t := Target{Text: text}
	ns, rest, ok := strings.Cut(text, "/")
	if !ok || ns == "" || rest == "" {
		return t, fmt.Errorf("%q: name a pod as NAMESPACE/POD, NAMESPACE/deployment/NAME or NAMESPACE/LABEL-SELECTOR (e.g. x1/app=web)", text)
	}
	t.Namespace = ns
	kind, name, hasKind := strings.Cut(rest, "/")
	switch {
	case hasKind && slices.Contains([]string{"deployment", "deployments", "deploy"}, kind) && name != "":
		t.deployment = name
	case hasKind:
		return t, fmt.Errorf("%q: only deployments can be named by kind (NAMESPACE/deployment/NAME)", text)
	case strings.ContainsAny(rest, "=!()"):
		sel, err := labels.Parse(rest)
		if err != nil {
			return t, fmt.Errorf("%q: %q is not a label selector: %w", text, rest, err)
		}
		t.selector = sel
	default:
		t.pod = rest
	}
	return t, nil
}

// Resolve picks the target's pod among pods: the pod itself, or the first (by name) running pod
// with an address that the deployment's or the label selector selects. note says which pod was
// picked when there was a choice.
func (t Target) Resolve(ctx context.Context, c Reader, pods []corev1.Pod) (pod *corev1.Pod, note string, err error) {
	sel := t.selector
	what := "label selector " + t.Text
	if t.deployment != "" {
		d, err := c.GetDeployment(ctx, t.Namespace, t.deployment)
		if err != nil {
			return nil, "", fmt.Errorf("reading deployment %s/%s: %w", t.Namespace, t.deployment, err)
		}
		if sel, err = metav1.LabelSelectorAsSelector(d.Spec.Selector); err != nil {
			return nil, "", fmt.Errorf("deployment %s/%s: %w", t.Namespace, t.deployment, err)
		}
		what = "deployment " + t.Namespace + "/" + t.deployment
	}
	var candidates []*corev1.Pod
	for i := range pods {
		p := &pods[i]
		if p.Namespace != t.Namespace {
			continue
		}
		if t.pod != "" && p.Name == t.pod {
			return p, "", nil
		}
		if sel != nil && sel.Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
			candidates = append(candidates, p)
		}
	}
	if t.pod != "" {
		return nil, "", fmt.Errorf("no pod %s/%s (or it could not be read)", t.Namespace, t.pod)
	}
	if len(candidates) == 0 {
		return nil, "", fmt.Errorf("%s selects no running pod with an address in namespace %s", what, t.Namespace)
	}
	slices.SortFunc(candidates, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	if len(candidates) > 1 {
		note = fmt.Sprintf("%s selects %d pods; explaining %s/%s", what, len(candidates), t.Namespace, candidates[0].Name)
	}
	return candidates[0], note, nil
}
