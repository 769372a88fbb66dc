// Command demo starts microseg's local control plane (etcd, kube-apiserver, kube-controller-manager)
// with the ClusterSecurityPolicy CRD, applies the reference scenario from config/samples, shows what
// the cluster holds, and stays up so you can use kubectl against it until Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/microseg/microseg/internal/testenv"
)

func main() {
	check := flag.Bool("check", false, "exit after showing the result instead of staying up")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *check)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, check bool) error {
	root, err := testenv.ProjectRoot()
	if err != nil {
		return err
	}
	fmt.Println("demo: starting etcd, kube-apiserver and kube-controller-manager …")
	env, err := testenv.Start(ctx, testenv.Options{ControllerManagerControllers: []string{"deployment", "replicaset", "clusterrole-aggregation"}})
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()

	samples := filepath.Join(root, "config", "samples")
	fmt.Printf("demo: applying the reference scenario from %s\n", samples)
	s, err := newScenario(env)
	if err != nil {
		return err
	}
	if err := s.apply(ctx, samples); err != nil {
		return err
	}
	if err := s.waitForPods(ctx, 8); err != nil {
		return err
	}
	if err := s.print(ctx, os.Stdout); err != nil {
		return err
	}
	if check {
		return nil
	}
	fmt.Printf("\ndemo: the cluster stays up. In another shell:\n  export KUBECONFIG=%s\n  kubectl get csp\n", env.KubeconfigPath)
	fmt.Println("demo: press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Println("\ndemo: stopping")
	return nil
}
