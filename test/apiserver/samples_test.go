package apiserver_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/testenv"
)

var _ = Describe("config/samples", func() {
	It("holds the reference scenario's ClusterSecurityPolicies, and the API server accepts them", func(ctx context.Context) {
		root, err := testenv.ProjectRoot()
		Expect(err).NotTo(HaveOccurred())
		files, err := filepath.Glob(filepath.Join(root, "config", "samples", "*clustersecuritypolicy*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			for _, obj := range readYAMLObjects(rel) {
				Expect(obj.GetKind()).To(Equal("ClusterSecurityPolicy"), "in %s", rel)
				// Server-side dry run: full admission and validation, nothing stored.
				Expect(admin.Create(ctx, obj, client.DryRunAll)).To(Succeed(), "sample %s is invalid", rel)
				names = append(names, obj.GetName()+"/"+obj.Object["spec"].(map[string]any)["tier"].(string))
			}
		}
		Expect(names).To(ConsistOf("protect-service-d/Security", "baseline-isolate-app-namespaces/Baseline"))
	})

	It("lists every sample file in its kustomization", func() {
		root, err := testenv.ProjectRoot()
		Expect(err).NotTo(HaveOccurred())
		k, err := os.ReadFile(filepath.Join(root, "config", "samples", "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		files, _ := filepath.Glob(filepath.Join(root, "config", "samples", "*.yaml"))
		for _, f := range files {
			if base := filepath.Base(f); base != "kustomization.yaml" {
				Expect(strings.Contains(string(k), base)).To(BeTrue(), "%s is not listed in config/samples/kustomization.yaml", base)
			}
		}
	})
})
