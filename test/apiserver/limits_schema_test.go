package apiserver_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"

	securityv1alpha1 "github.com/microseg/microseg/api/v1alpha1"
	"github.com/microseg/microseg/internal/testenv"
)

// These tests read the generated CRD without an API server: its limits are the documented ones
// (api/v1alpha1/limits.go), and its CEL rules stay within the API server's static cost budget
// (which the API server checks when the CRD is installed; here the figures are reported).

func crdSchema(t *testing.T) *apiextensions.JSONSchemaProps {
	t.Helper()
	root, err := testenv.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "crd", "bases", "security.microseg.io_clustersecuritypolicies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		t.Fatal(err)
	}
	out := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, out, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// at walks a dotted path of properties; "[]" steps into array items.
func at(t *testing.T, s *apiextensions.JSONSchemaProps, path string) *apiextensions.JSONSchemaProps {
	t.Helper()
	for _, step := range strings.Split(path, ".") {
		if step == "[]" {
			if s.Items == nil || s.Items.Schema == nil {
				t.Fatalf("%s: no items at %q", path, step)
			}
			s = s.Items.Schema
			continue
		}
		p, ok := s.Properties[step]
		if !ok {
			t.Fatalf("%s: no property %q", path, step)
		}
		s = &p
	}
	return s
}

func TestCRDLimitsAreTheDocumentedOnes(t *testing.T) {
	spec := at(t, crdSchema(t), "spec")
	maxItems := map[string]int{
		"ingress": securityv1alpha1.MaxRules, "egress": securityv1alpha1.MaxRules,
		"ingress.[].from": securityv1alpha1.MaxPeers, "egress.[].to": securityv1alpha1.MaxPeers,
		"ingress.[].ports": securityv1alpha1.MaxPorts, "egress.[].ports": securityv1alpha1.MaxPorts,
		"ingress.[].from.[].networks": securityv1alpha1.MaxNetworks, "egress.[].to.[].networks": securityv1alpha1.MaxNetworks,
		"ingress.[].from.[].nsxGroups": securityv1alpha1.MaxNSXGroups, "egress.[].to.[].nsxGroups": securityv1alpha1.MaxNSXGroups,
	}
	for path, want := range maxItems {
		if got := at(t, spec, path).MaxItems; got == nil || *got != int64(want) {
			t.Errorf("spec.%s: maxItems %v, want %d", path, got, want)
		}
	}
	maxLength := map[string]int{
		"ingress.[].name": securityv1alpha1.MaxRuleNameLength, "egress.[].name": securityv1alpha1.MaxRuleNameLength,
		"ingress.[].from.[].networks.[]":  securityv1alpha1.MaxCIDRLength,
		"egress.[].to.[].nsxGroups.[]":    securityv1alpha1.MaxNSXGroupNameLength,
		"ingress.[].from.[].nsxGroups.[]": securityv1alpha1.MaxNSXGroupNameLength,
		"egress.[].ports.[].namedPort":    securityv1alpha1.MaxNamedPortLength,
	}
	for path, want := range maxLength {
		if got := at(t, spec, path).MaxLength; got == nil || *got != int64(want) {
			t.Errorf("spec.%s: maxLength %v, want %d", path, got, want)
		}
	}
	selectorMessages := []string{
		fmt.Sprintf("a label selector may have at most %d matchLabels", securityv1alpha1.MaxSelectorLabels),
		fmt.Sprintf("a label selector may have at most %d matchExpressions", securityv1alpha1.MaxSelectorExpressions),
		fmt.Sprintf("a matchExpressions entry may list at most %d values", securityv1alpha1.MaxSelectorValues),
	}
	for _, path := range []string{
		"subject.namespaces", "subject.pods.namespaceSelector", "subject.pods.podSelector",
		"ingress.[].from.[].namespaces", "ingress.[].from.[].pods.namespaceSelector", "ingress.[].from.[].pods.podSelector",
		"egress.[].to.[].namespaces", "egress.[].to.[].pods.namespaceSelector", "egress.[].to.[].pods.podSelector",
	} {
		var got []string
		for _, r := range at(t, spec, path).XValidations {
			got = append(got, r.Message)
			// The rules must carry the numbers their messages state.
			for _, n := range []int{securityv1alpha1.MaxSelectorLabels, securityv1alpha1.MaxSelectorExpressions, securityv1alpha1.MaxSelectorValues} {
				if strings.Contains(r.Message, fmt.Sprintf(" %d ", n)) && !strings.Contains(r.Rule, fmt.Sprintf("<= %d", n)) {
					t.Errorf("spec.%s: rule %q does not check the %d its message states", path, r.Rule, n)
				}
			}
		}
		for _, m := range selectorMessages {
			if !slices.Contains(got, m) {
				t.Errorf("spec.%s: no rule %q (has %q)", path, m, got)
			}
		}
	}
}

// ruleCost is one x-kubernetes-validations rule's static cost as the API server estimates it:
// the rule's own cost times how often it can run (the product of the enclosing lists' maxItems).
type ruleCost struct {
	path string
	cost uint64
}

func TestCELCostWithinBudget(t *testing.T) {
	envSet := environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
	root := crdSchema(t)
	var costs []ruleCost
	var walk func(path string, s *apiextensions.JSONSchemaProps, ctx *validation.CELSchemaContext)
	walk = func(path string, s *apiextensions.JSONSchemaProps, ctx *validation.CELSchemaContext) {
		if len(s.XValidations) > 0 {
			info, err := ctx.TypeInfo()
			if err != nil || info == nil {
				t.Fatalf("%s: no CEL type information (%v)", path, err)
			}
			results, err := cel.Compile(info.Schema, info.DeclType, celconfig.PerCallLimit, envSet, cel.NewExpressionsEnvLoader())
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			for i, r := range results {
				if r.Error != nil {
					t.Fatalf("%s rule %d: %v", path, i, r.Error)
				}
				cardinality := r.MaxCardinality
				if ctx.MaxCardinality != nil {
					cardinality = *ctx.MaxCardinality
				}
				costs = append(costs, ruleCost{fmt.Sprintf("%s[%d]", path, i), r.MaxCost * cardinality})
			}
		}
		for name, prop := range s.Properties {
			walk(path+"."+name, &prop, ctx.ChildPropertyContext(&prop, name))
		}
		if s.Items != nil && s.Items.Schema != nil {
			walk(path+"[]", s.Items.Schema, ctx.ChildItemsContext(s.Items.Schema))
		}
		if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
			walk(path+"{}", s.AdditionalProperties.Schema, ctx.ChildAdditionalPropertiesContext(s.AdditionalProperties.Schema))
		}
	}
	walk("", root, validation.RootCELContext(root))

	var total uint64
	for _, c := range costs {
		total += c.cost
		if c.cost > validation.StaticEstimatedCostLimit {
			t.Errorf("%s: estimated cost %d is above the API server's per-rule limit %d", c.path, c.cost, validation.StaticEstimatedCostLimit)
		}
	}
	if total > validation.StaticEstimatedCRDCostLimit {
		t.Errorf("the CRD's rules cost %d in total, above the API server's limit %d", total, validation.StaticEstimatedCRDCostLimit)
	}
	slices.SortFunc(costs, func(a, b ruleCost) int { return int(b.cost) - int(a.cost) })
	t.Logf("%d CEL rules, estimated cost %d in total (%.1f%% of the API server's %d); the most expensive:", len(costs), total,
		100*float64(total)/validation.StaticEstimatedCRDCostLimit, validation.StaticEstimatedCRDCostLimit)
	for _, c := range costs[:min(5, len(costs))] {
		t.Logf("  %-60s %10d (%.1f%% of the per-rule limit)", c.path, c.cost, 100*float64(c.cost)/validation.StaticEstimatedCostLimit)
	}
}
