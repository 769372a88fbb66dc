package simulate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/microseg/microseg/internal/pipeline"
)

// podFilter is one --from or --to value. It is kept this small on purpose: the namespace/name
// form covers "these pods" and a label selector covers "this app"; anything richer belongs in a
// jq query over -o json.
type podFilter struct {
	text string
	// namespace ("*" for any) and namePrefix, for the NAMESPACE[/NAME-PREFIX] form.
	namespace, namePrefix string
	// selector, for the label-selector form.
	selector labels.Selector
}

// parsePodFilter reads NAMESPACE, NAMESPACE/NAME-PREFIX, */NAME-PREFIX, or a pod label selector
// (anything with =, !, or parentheses: app=web, tier!=db, app in (a,b)).
func parsePodFilter(flagName, text string) (podFilter, error) {
	f := podFilter{text: text}
	if strings.ContainsAny(text, "=!()") {
		sel, err := labels.Parse(text)
		if err != nil {
			return f, fmt.Errorf("%s %q: not a label selector (%w); write app=web, or NAMESPACE/NAME-PREFIX", flagName, text, err)
		}
		f.selector = sel
		return f, nil
	}
	ns, prefix, _ := strings.Cut(text, "/")
	if ns == "" {
		return f, fmt.Errorf("%s %q: name a namespace (or * for every namespace), as in x1, x1/web or */web", flagName, text)
	}
	f.namespace, f.namePrefix = ns, prefix
	return f, nil
}

func (f podFilter) matches(p pipeline.PodRef, podLabels map[string]string) bool {
	if f.selector != nil {
		return f.selector.Matches(labels.Set(podLabels))
	}
	return (f.namespace == "*" || f.namespace == p.Namespace) && strings.HasPrefix(p.Name, f.namePrefix)
}

// filterPods keeps the pods that match any of the filters (all pods when there are none). A
// filter that matches nothing is an error: it is almost always a typo, and an empty table would
// hide it.
func filterPods(flagName string, filters []podFilter, pods []pipeline.PodRef, podLabels map[pipeline.PodRef]map[string]string) ([]pipeline.PodRef, error) {
	if len(filters) == 0 {
		return pods, nil
	}
	var out []pipeline.PodRef
	hits := make([]int, len(filters))
	for _, p := range pods {
		matched := false
		for i, f := range filters {
			if f.matches(p, podLabels[p]) {
				hits[i]++
				matched = true
			}
		}
		if matched {
			out = append(out, p)
		}
	}
	for i, f := range filters {
		if hits[i] == 0 {
			return nil, inputErrorf("%s %q matches no pod; the pods are %s", flagName, f.text, podList(pods))
		}
	}
	return out, nil
}

// podList names up to a handful of pods, for error messages.
func podList(pods []pipeline.PodRef) string {
	const shown = 8
	if len(pods) == 0 {
		return "none (the manifests hold no pod with an address)"
	}
	names := make([]string, 0, shown)
	for i, p := range pods {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(pods)-shown))
			break
		}
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}
