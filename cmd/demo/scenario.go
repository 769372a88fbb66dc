package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/testenv"
)

// applySamples creates every object of config/samples, namespaces first, as kubectl apply would.
func (d *demo) applySamples(ctx context.Context) error {
	root, err := testenv.ProjectRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "config", "samples")
	fmt.Printf("demo: applying the reference scenario from %s\n", dir)
	objs, err := manifest.ReadPaths(dir)
	if err != nil {
		return err
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
	for _, o := range objs {
		if err := d.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), name(o), err)
		}
	}
	return nil
}

func name(o *unstructured.Unstructured) string {
	if o.GetNamespace() != "" {
		return o.GetNamespace() + "/" + o.GetName()
	}
	return o.GetName()
}
