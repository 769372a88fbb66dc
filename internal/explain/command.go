package explain

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/go-logr/logr/funcr"

	"github.com/microseg/microseg/internal/simulate"
	"github.com/microseg/microseg/nsxclient"
)

// Command runs "kubectl-microseg explain" and returns the exit code: 0, 1 (input or the
// connection to the cluster), 2 (internal), 3 (NSX's Traceflow disagrees with the policies).
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := ParseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return simulate.ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg explain: %v\nRun 'kubectl-microseg explain --help' for usage.\n", err)
		return simulate.ExitCode(err)
	}
	c, err := opts.Connection.Client()
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg explain: %v\n", err)
		return simulate.ExitInput
	}
	var nsx *nsxclient.Client
	if opts.NSX.NSXURL != "" {
		logger := funcr.New(func(_, args string) { fmt.Fprintln(stderr, "kubectl-microseg explain:", args) }, funcr.Options{})
		cfg, err := opts.NSX.NSXConfig(logger)
		if err == nil {
			nsx, err = nsxclient.New(cfg)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kubectl-microseg explain: %v\n", err)
			return simulate.ExitInput
		}
	}
	e, err := Run(ctx, opts, c, nsx)
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg explain: %v\n", err)
		if code := simulate.ExitCode(err); code != simulate.ExitInternal {
			return code
		}
		return simulate.ExitInput // reading the cluster failed: the connection or the rights need fixing
	}
	if opts.Output == OutputJSON {
		err = WriteJSON(stdout, e)
	} else {
		err = WriteText(stdout, e)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kubectl-microseg explain: writing the output: %v\n", err)
		return simulate.ExitInternal
	}
	for _, c := range e.Connections {
		if c.Traceflow != nil && c.Traceflow.Skipped == "" && !c.Traceflow.Agrees {
			return simulate.ExitMismatch
		}
	}
	return simulate.ExitOK
}
