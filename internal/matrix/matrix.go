// Package matrix is "kubectl-microseg matrix": the reachability of the live cluster in the
// kubeconfig, aggregated by namespace and a label (app by default), with simulate's filters and
// output formats. It reads the cluster (internal/live, view rights), runs simulate's engine on it
// (compile → sync into an in-process NSX simulator → Traceflow per probe) and groups the pods.
package matrix

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/simulate"
)

// DefaultLabel groups pods when --by is not given.
const DefaultLabel = "app"

// Usage is the help text of kubectl-microseg matrix.
const Usage = `Show which pods of the cluster in your kubeconfig can reach which, aggregated by namespace and a
label: per port, a matrix of groups (✓ every pod pair allowed, ✗ none, ~ some) and which rules
decided. The cluster's policies and pods are compiled and traced exactly as simulate does, offline
from a read of the cluster (the view ClusterRole's rights are enough).

Usage:
  kubectl microseg matrix [flags]

Flags:
      --by LABEL        group pods by namespace and this label (default app); a pod without it
                        is a group of its own, NAMESPACE/pod:NAME
      --ports LIST      ports to probe (default: every port the policies name, plus 80/TCP)
  -o, --output FORMAT   table (default), json (JSON Lines, one record per source group,
                        destination group and port), or html (one self-contained page)
      --from FILTER, --to FILTER, --family 4|6, --ascii   as for simulate
      --kubeconfig, --context, --as   which cluster, and which user to act as (kubectl's meaning)
      --cluster-id ID   the cluster's name as NCP knows it (default microseg; names in NSX only)

Exit codes: 0 success, 1 a flag, filter or the cluster connection needs fixing, 2 internal error.
`

// Command runs "kubectl-microseg matrix".
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("matrix", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var conn live.Connection
	conn.Bind(fs)
	by := fs.String("by", DefaultLabel, "")
	opts, err := simulate.ParseProbeFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return simulate.ExitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = simulate.InputErrorf("unexpected argument %q (matrix reads the cluster in your kubeconfig)", fs.Arg(0))
	}
	if err == nil && *by == "" {
		err = simulate.InputErrorf("--by needs a label key, such as app")
	}
	opts.GroupBy, opts.Source = *by, "the cluster"
	if err == nil {
		err = opts.ValidateProbe()
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg matrix: %v\nRun 'kubectl-microseg matrix --help' for usage.\n", err)
		return simulate.ExitCode(err)
	}
	c, err := conn.Client()
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg matrix: %v\n", err)
		return simulate.ExitInput
	}
	res, err := Run(ctx, c, opts, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg matrix: %v\n", err)
		return simulate.ExitCode(err)
	}
	simulate.WriteDiagnostics(stderr, res)
	title := "kubectl microseg matrix --by " + *by
	if conn.Context != "" {
		title += " --context " + conn.Context
	}
	if err := simulate.Write(stdout, res, opts, strings.TrimSpace(title)); err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg matrix: writing the output: %v\n", err)
		return simulate.ExitCode(err)
	}
	return simulate.ExitOK
}

// Run reads the cluster and simulates it grouped by opts.GroupBy; what it could not read goes to
// stderr.
func Run(ctx context.Context, c live.Reader, opts simulate.Options, stderr io.Writer) (*simulate.Result, error) {
	snap, err := live.Read(ctx, c)
	if err != nil {
		return nil, simulate.InputErrorf("reading the cluster: %w", err)
	}
	for _, m := range snap.Missing {
		fmt.Fprintf(stderr, "could not read: %s\n", m)
	}
	return simulate.SimulateWorld(ctx, snap.World, nil, opts)
}
