// Command demo runs microseg end to end on this machine: a local control plane (etcd,
// kube-apiserver, kube-controller-manager), the NSX Manager simulator on loopback, an NCP emulator
// playing the node side, and the operator. It installs the admission policy of config/admission,
// and config/rbac, applies the reference scenario from config/samples, waits for every
// ClusterSecurityPolicy to be Ready, prints the DFW as an NSX admin sees it and the reachability
// table checked against the reference table (internal/reference), walks through the README's RBAC story as a tenant and
// kubectl-microseg's matrix, explain (with NSX's Traceflow) and a Staged policy, then
// stays up for kubectl until Ctrl-C (with --check it exits instead: 0 if the table matches and the
// walk-through behaves, 1 if not).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/microseg/microseg/internal/ncpemu"
)

func main() {
	check := flag.Bool("check", false, "exit after the checks: 0 if the table matches the reference table and the RBAC walk-through behaves, 1 if not")
	timeout := flag.Duration("timeout", 3*time.Minute, "how long to wait for the scenario to become Ready")
	api := flag.String("nsx-api", ncpemu.APIManager, "the NSX API NCP runs in (manager: pods get logical ports; policy: segment ports); the operator runs with --nsx-api auto and follows it")
	flag.Parse()
	if *api != ncpemu.APIManager && *api != ncpemu.APIPolicy {
		fmt.Fprintf(os.Stderr, "demo: --nsx-api %q: use manager or policy\n", *api)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *check, *timeout, *api)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, check bool, timeout time.Duration, api string) error {
	d, err := start(ctx, api)
	if err != nil {
		return err
	}
	defer d.stop()

	if err := d.installAdmission(ctx); err != nil {
		return err
	}
	if err := d.installRBAC(ctx); err != nil {
		return err
	}
	if err := d.applySamples(ctx); err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := d.waitReady(waitCtx); err != nil {
		return err
	}
	fmt.Printf("demo: the operator found NCP's pod ports and programs NSX through the %s API (metric microseg_nsx_api)\n", chosenAPI())
	if err := d.printDFW(ctx, os.Stdout); err != nil {
		return err
	}
	ok, err := d.tableWhenSettled(waitCtx)
	if err != nil {
		return err
	}
	if ok {
		fmt.Println("\ndemo: the reachability table matches the reference table.")
	} else {
		fmt.Println("\ndemo: MISMATCH: the reachability table differs from the reference table.")
	}
	rbacErr := d.rbacWalkthrough(ctx, os.Stdout)
	if rbacErr == nil {
		rbacErr = d.toolsWalkthrough(ctx, os.Stdout) // needs the tenant's view rights from the RBAC walk-through
	}
	if check {
		if !ok {
			return errors.Join(fmt.Errorf("the table does not match"), rbacErr)
		}
		return rbacErr
	}
	if rbacErr != nil {
		fmt.Println("demo:", rbacErr)
	}
	d.printHowTo()
	return d.follow(ctx)
}
