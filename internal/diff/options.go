package diff

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/simulate"
)

// Output formats beyond simulate's table/json/html.
const (
	OutputText     = "text"
	OutputMarkdown = "markdown"
)

// Options configure one diff.
type Options struct {
	// Base and Head are the two sets of manifests: files and directories.
	Base, Head []string
	// Recursive reads directories with their subdirectories (a GitOps repository's layout).
	Recursive bool
	// FailOnFlip makes a diff that finds flips exit with simulate.ExitMismatch (a CI gate).
	FailOnFlip bool
	// Limits is microseg's NSX budget (the operator's --nsx-max-* flags): the report compares
	// the base's and the head's usage with it, and a head over it exits with ExitOverBudget.
	Limits budget.Budget
	// Probe are the probe flags shared with simulate (ports, filters, family, cluster id); its
	// Output is text, json, markdown or html.
	Probe simulate.Options
}

// ParseArgs reads the arguments after "diff". --base and --head each start a side; -f (also
// --filename) adds a file or directory to the side last started, and --base PATH / --head PATH
// name one directly (a checkout of a GitOps repository). Every other flag is a probe flag.
func ParseArgs(args []string) (Options, error) {
	var opts Options
	var side *[]string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		switch name {
		case "base", "head":
			side = &opts.Base
			if name == "head" {
				side = &opts.Head
			}
			if hasValue {
				*side = append(*side, splitList(value)...)
			} else if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				*side = append(*side, splitList(args[i])...)
			}
			continue
		case "f", "filename":
			if side == nil {
				return opts, simulate.InputErrorf("%s %s: say whose manifests these are first: --base -f … --head -f …", a, value)
			}
			if !hasValue {
				if i+1 >= len(args) {
					return opts, simulate.InputErrorf("%s needs a file or directory", a)
				}
				i++
				value = args[i]
			}
			*side = append(*side, splitList(value)...)
			continue
		}
		rest = append(rest, a)
	}
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&opts.Recursive, "R", false, "")
	fs.BoolVar(&opts.Recursive, "recursive", false, "")
	fs.BoolVar(&opts.FailOnFlip, "fail-on-flip", false, "")
	budget.Bind(fs, &opts.Limits)
	probe, err := simulate.ParseProbeFlags(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		return opts, err
	}
	if err != nil {
		return opts, err
	}
	if probe.Output == simulate.OutputTable {
		probe.Output = OutputText
	}
	opts.Probe = probe
	switch {
	case fs.NArg() > 0:
		return opts, simulate.InputErrorf("unexpected argument %q: name manifests with --base -f … --head -f …", fs.Arg(0))
	case len(opts.Base) == 0 || len(opts.Head) == 0:
		return opts, simulate.InputErrorf("diff needs both sides: --base -f FILE_OR_DIR … --head -f FILE_OR_DIR … (or --base DIR --head DIR)")
	case !slices.Contains([]string{OutputText, simulate.OutputJSON, OutputMarkdown, simulate.OutputHTML}, probe.Output):
		return opts, simulate.InputErrorf("-o %q: the output formats are text, json, markdown and html", probe.Output)
	}
	if err := opts.Limits.Validate(); err != nil {
		return opts, simulate.InputErrorf("%w", err)
	}
	check := probe
	check.Output = simulate.OutputTable
	return opts, check.ValidateProbe()
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Usage is the help text of kubectl-microseg diff.
const Usage = `Compare two versions of a cluster's manifests, as a pull request to a GitOps repository changes
them: which connections flip (allowed ↔ denied), grouped by namespace/app and port with the rule
that decided before and after; and what the operator would do to NSX to get from one to the other
(the real sync path: the base realized in an in-process NSX simulator, the head synced against
it, every write counted, with the simulator's cost model for NSX's time). Offline, no cluster.

Usage:
  kubectl microseg diff --base -f FILE_OR_DIR... --head -f FILE_OR_DIR... [flags]
  kubectl microseg diff --base OLD_CHECKOUT --head NEW_CHECKOUT -R [flags]

Flags:
  -f, --filename PATH   a manifest file or directory of the side named last (--base or --head)
  -R, --recursive       read directories with their subdirectories (hidden ones skipped)
  -o, --output FORMAT   text (default); markdown (for a pull-request comment); json (JSON Lines:
                        one record per flipped probe, simulate's record plus before and after);
                        html (the picture, flipped cells marked)
      --fail-on-flip    exit 3 when any connection flips (a CI gate)
      --nsx-max-rules N, --nsx-max-sections N, --nsx-max-groups N, --nsx-max-ipsets N,
      --nsx-max-rules-per-vnic N
                        microseg's NSX budget, as the operator's flags of the same names: the
                        report prints both sides' usage against it, and a head over it exits 3
      --ports LIST      ports to probe (default: every port either side's policies name, and 80/TCP)
      --from FILTER, --to FILTER, --family 4|6, --cluster-id ID   as for simulate

Pods present on one side only are listed, not compared. Pods without status.podIPs keep the
address they have in the base.

Exit codes: 0 success (flips or not, without --fail-on-flip), 1 a flag, path or manifest needs
fixing, 2 internal error, 3 the head is over the NSX budget (the operator would refuse it), or
connections flip and --fail-on-flip is set.
`
