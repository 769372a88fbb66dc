package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/microseg/microseg/internal/manifest"
	"github.com/microseg/microseg/internal/testenv"
)

// installAdmission creates the admission policy of config/admission (part of config/default) and
// waits until the API server enforces it, proving it with a dry run of a pod that claims another
// namespace's NCP project: pod labels in NCP's reserved tag scopes are refused before the samples go in.
func (d *demo) installAdmission(ctx context.Context) error {
	root, err := testenv.ProjectRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(root, "config", "admission")
	objs, err := manifest.ReadPaths(dir)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := d.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	probe := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "admission-probe", Labels: map[string]string{"ncp/project": "z1"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.invalid/probe"}}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := d.k8s.Create(ctx, probe.DeepCopy(), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "microseg-reserved-ncp-labels") {
			fmt.Printf("demo: admission policy from %s installed; a pod labelled ncp/project=z1 is refused\n", dir)
			return nil
		}
		if time.Now().After(deadline) {
			return errors.Join(errors.New("the API server does not enforce config/admission's policy after 30s"), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
