package simulate

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/budget"
	"github.com/microseg/microseg/internal/pipeline"
)

// Output formats.
const (
	OutputTable = "table"
	OutputJSON  = "json"
	OutputHTML  = "html"
)

// DefaultMatrixMaxPods is the largest number of pods shown as a matrix; above it the table output
// lists allowed connections instead, because a matrix wider than a terminal is unreadable.
const DefaultMatrixMaxPods = 40

// Options configure one simulation.
type Options struct {
	// Paths are the manifest files and directories (-f).
	Paths []string
	// Ports to probe; empty means DefaultPorts of the world.
	Ports []Port
	// Output is OutputTable or OutputJSON.
	Output string
	// ClusterID is the NCP cluster name and microseg's ownership tag; it shows in NSX names.
	ClusterID string
	// Family is 4 or 6 to probe only that address family; 0 probes IPv4 where both pods have
	// an IPv4 address and IPv6 otherwise.
	Family int
	// From and To restrict sources and destinations (see parsePodFilter); empty means every pod.
	From, To []string
	// ASCII draws matrix cells as "." (allowed) and "X" (denied), the Kubernetes network policy
	// e2e convention, instead of ✓ and ✗.
	ASCII bool
	// MatrixMaxPods overrides DefaultMatrixMaxPods when positive.
	MatrixMaxPods int
	// API is the NSX API the simulated operator speaks (pipeline.APIManager, the default, or
	// pipeline.APIPolicy): the same verdicts, with NSX sections and rules named as that API
	// names them.
	API string
	// Budget prints what the manifests would take of NSX against Limits instead of probing
	// (budget.go).
	Budget bool
	// Limits is microseg's NSX budget (the operator's --nsx-max-* flags).
	Limits budget.Budget
	// GroupBy aggregates pods by namespace and the value of this label (matrix: "app"); empty
	// shows every pod.
	GroupBy string
	// Source names where the world came from, for messages; empty means the manifests.
	Source string
}

// worldName is what the world came from, for messages.
func (o Options) worldName() string {
	if o.Source != "" {
		return o.Source + " has"
	}
	return "the manifests hold"
}

// listFlag is a repeatable flag whose values may also be comma-separated (-f a.yaml,b.yaml).
type listFlag struct {
	values *[]string
	split  bool
}

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, ",")
}

func (l listFlag) Set(v string) error {
	if !l.split {
		*l.values = append(*l.values, v)
		return nil
	}
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l.values = append(*l.values, part)
		}
	}
	return nil
}

// ParseArgs reads the arguments after "simulate". It returns flag.ErrHelp for -h/--help (print
// Usage and exit 0) and an input error for anything the user has to fix.
func ParseArgs(args []string) (Options, error) {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and Usage is ours
	var paths []string
	for _, name := range []string{"f", "filename"} {
		fs.Var(listFlag{values: &paths, split: true}, name, "")
	}
	var showBudget bool
	var limits budget.Budget
	fs.BoolVar(&showBudget, "budget", false, "")
	budget.Bind(fs, &limits)
	opts, err := ParseProbeFlags(fs, args)
	opts.Paths, opts.Budget, opts.Limits = paths, showBudget, limits
	if err != nil {
		return opts, err
	}
	if fs.NArg() > 0 {
		return opts, inputErrorf("unexpected argument %q: pass manifests with -f (flags go before other arguments)", fs.Arg(0))
	}
	return opts, opts.validate()
}

// ParseProbeFlags registers the flags that say what to probe and how to print it (--ports, -o,
// --from, --to, --family, --ascii, --cluster-id), which simulate, matrix and diff share, on fs,
// parses args and returns the options. Remaining arguments are left in fs.Args().
func ParseProbeFlags(fs *flag.FlagSet, args []string) (Options, error) {
	opts := Options{Output: OutputTable, ClusterID: pipeline.DefaultClusterID, API: pipeline.APIManager}
	var ports []string
	fs.Var(listFlag{values: &ports, split: true}, "ports", "")
	for _, name := range []string{"o", "output"} {
		fs.StringVar(&opts.Output, name, OutputTable, "")
	}
	fs.StringVar(&opts.ClusterID, "cluster-id", pipeline.DefaultClusterID, "")
	fs.IntVar(&opts.Family, "family", 0, "")
	// Label selectors contain commas (app=a,tier=b means both), so --from/--to are not split.
	fs.Var(listFlag{values: &opts.From}, "from", "")
	fs.Var(listFlag{values: &opts.To}, "to", "")
	fs.BoolVar(&opts.ASCII, "ascii", false, "")
	fs.StringVar(&opts.API, "nsx-api", pipeline.APIManager, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return opts, err
		}
		return opts, inputErrorf("%w", err)
	}
	var err error
	if opts.Ports, err = ParsePorts(ports); err != nil {
		return opts, inputError{err}
	}
	return opts, nil
}

// validate checks what ParseArgs cannot express in flag types; Simulate calls it too, for
// Options built in code.
func (o Options) validate() error {
	if len(o.Paths) == 0 && o.Source == "" {
		return inputErrorf("no manifests: pass -f FILE_OR_DIR (repeatable, or comma-separated)")
	}
	return o.ValidateProbe()
}

// ValidateProbe checks the probe flags (ParseProbeFlags) that flag types cannot express.
func (o Options) ValidateProbe() error {
	switch {
	case o.Output != OutputTable && o.Output != OutputJSON && o.Output != OutputHTML:
		return inputErrorf("-o %q: the output formats are %s, %s and %s", o.Output, OutputTable, OutputJSON, OutputHTML)
	case !slices.Contains([]int{0, 4, 6}, o.Family):
		return inputErrorf("--family %d: use 4 or 6 (or leave it out to probe IPv4 where both pods have it)", o.Family)
	case o.ClusterID == "":
		return inputErrorf("--cluster-id must not be empty")
	case o.API != "" && o.API != pipeline.APIManager && o.API != pipeline.APIPolicy:
		return inputErrorf("--nsx-api %q: use %s (NSX-T Manager API sections) or %s (NSX Policy API security policies)", o.API, pipeline.APIManager, pipeline.APIPolicy)
	}
	if err := o.Limits.Validate(); err != nil {
		return inputError{err}
	}
	return nil
}

// Usage is the help text of kubectl-microseg simulate.
const Usage = `Simulate microseg offline: compile ClusterSecurityPolicies and NetworkPolicies from manifests
into NSX-T DFW configuration, apply it to an in-process NSX simulator, and report which pods can
connect to which, and which tier, Kubernetes object and NSX rule decided.

Usage:
  kubectl-microseg simulate -f FILE_OR_DIR... [flags]
  kubectl microseg simulate -f FILE_OR_DIR... [flags]     (with kubectl-microseg on PATH)

Manifests may hold Namespaces, Pods (labels, container ports, status.podIPs), Deployments,
ReplicaSets and StatefulSets (expanded into pods <name>-<i>), NetworkPolicies and
ClusterSecurityPolicies; other kinds are skipped with a note. Pods without status.podIPs get
addresses from 10.244.0.0/16.

Flags:
  -f, --filename PATH   manifest file or directory (not recursive; kustomization files are
                        skipped); repeatable and comma-separated
      --ports LIST      ports to probe: 80, 443/UDP, 8000-8005/TCP, comma-separated or
                        repeated; protocol TCP (default), UDP or SCTP. Default: every port the
                        policies name (numbers, both ends of ranges, named ports as the pods'
                        container ports number them), plus 80/TCP
  -o, --output FORMAT   table (default): a matrix per port, or a list of allowed connections
                        above 40 pods; json: JSON Lines, one object per probe (see
                        docs/simulate.md); html: one self-contained page with the tier
                        ladder and the reachability heat map (hover a cell for the rules)
      --from FILTER     only these source pods; repeatable (a pod matching any is kept)
      --to FILTER       only these destination pods; repeatable
                        FILTER is NAMESPACE, NAMESPACE/NAME-PREFIX, */NAME-PREFIX, or a pod label
                        selector such as app=web or 'app in (web,api)'
      --family 4|6      probe only IPv4 or only IPv6 (default: IPv4 where both pods have it)
      --cluster-id ID   NCP cluster name and microseg ownership tag (default microseg)
      --nsx-api API     manager (default): NSX-T Manager API sections on logical ports; policy:
                        NSX Policy API security policies on segment ports (NSX 4.x, 9). The
                        verdicts are the same; NSX names change
      --ascii           matrix cells "." (allowed) and "X" (denied) instead of ✓ and ✗
      --budget          print what the manifests take of NSX (rules, sections, NSGroups, IP
                        sets, the most rules on one pod's port), against microseg's budget,
                        with the largest contributors, instead of probing; exit code 3 when
                        over the budget. The table output ends with a one-line summary anyway
      --nsx-max-rules N, --nsx-max-sections N, --nsx-max-groups N, --nsx-max-ipsets N,
      --nsx-max-rules-per-vnic N
                        microseg's NSX budget, as the operator's flags of the same names
                        (defaults: NSX's configuration maximums; 0: no limit)
  -h, --help            this help

Examples:
  # The reference scenario (docs/architecture.md)
  kubectl microseg simulate -f config/samples/

  # What if I add this NetworkPolicy? Compare before and after on the ports that matter
  kubectl microseg simulate -f cluster/ -f new-policy.yaml --ports 8080,5432

  # Who can reach the database pods, and which rule decided, as JSON
  kubectl microseg simulate -f cluster/ --to app=db -o json | jq 'select(.allowed)'

  # Does this change still fit the share of NSX the NSX administrator gave microseg?
  kubectl microseg simulate -f cluster/ -f new-policy.yaml --budget --nsx-max-rules 20000

  # A picture to open in a browser
  kubectl microseg simulate -f config/samples/ -o html > reachability.html

Warnings (what NSX cannot express exactly) and notes go to stderr.
Exit codes: 0 success, 1 a flag, path or manifest needs fixing, 2 internal error (a bug),
3 over the NSX budget (with --budget), 130 interrupted.
`
