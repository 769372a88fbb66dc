package explain

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"
	"time"

	"github.com/microseg/microseg/internal/live"
	"github.com/microseg/microseg/internal/nsxconn"
	"github.com/microseg/microseg/internal/ports"
	"github.com/microseg/microseg/internal/simulate"
)

// Output formats.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// NSX APIs for --nsx-api.
const (
	APIAuto    = "auto"
	APIManager = "manager"
	APIPolicy  = "policy"
)

// Options configure one explain.
type Options struct {
	Source, Destination live.Target
	// Ports to explain; empty means the destination pod's container ports (80/TCP if it has none).
	Ports  []ports.Port
	Output string
	// Connection says which cluster to read.
	Connection live.Connection
	// NSX holds the operator's NSX flags (NSXURL empty: no NSX access).
	NSX nsxconn.Flags
	// ClusterID is the cluster's name as NCP and the operator know it (empty: the default).
	ClusterID string
	// API is the NSX API to trace with: auto (the one the source pod's port lives in), manager
	// or policy.
	API string
	// TraceflowTimeout bounds the wait for NSX's Traceflow rounds.
	TraceflowTimeout time.Duration
}

// ParseArgs reads the arguments after "explain".
func ParseArgs(args []string) (Options, error) {
	opts := Options{Output: OutputText}
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var portList []string
	fs.Func("port", "", func(v string) error { portList = append(portList, v); return nil })
	fs.Func("p", "", func(v string) error { portList = append(portList, v); return nil })
	for _, name := range []string{"o", "output"} {
		fs.StringVar(&opts.Output, name, OutputText, "")
	}
	opts.Connection.Bind(fs)
	opts.NSX.Bind(fs) // the operator's flags, names, help and defaults
	fs.StringVar(&opts.ClusterID, "cluster-id", os.Getenv("CLUSTER_ID"), "")
	fs.StringVar(&opts.API, "nsx-api", APIAuto, "")
	fs.DurationVar(&opts.TraceflowTimeout, "traceflow-timeout", 30*time.Second, "")
	// Flags may come before or after SRC and DST, as with kubectl.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return opts, err
			}
			return opts, inputErrorf("%w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) != 2 {
		return opts, inputErrorf("explain takes two pods, SRC and DST (got %d arguments): NAMESPACE/POD, NAMESPACE/deployment/NAME or NAMESPACE/LABEL-SELECTOR", len(positional))
	}
	var err error
	if opts.Source, err = live.ParseTarget(positional[0]); err != nil {
		return opts, inputErrorf("SRC %w", err)
	}
	if opts.Destination, err = live.ParseTarget(positional[1]); err != nil {
		return opts, inputErrorf("DST %w", err)
	}
	if opts.Ports, err = ports.Parse(portList); err != nil {
		return opts, inputErrorf("%s", strings.Replace(err.Error(), "--ports", "--port", 1))
	}
	switch {
	case opts.Output != OutputText && opts.Output != OutputJSON:
		return opts, inputErrorf("-o %q: the output formats are %s and %s", opts.Output, OutputText, OutputJSON)
	case opts.API != APIAuto && opts.API != APIManager && opts.API != APIPolicy:
		return opts, inputErrorf("--nsx-api %q: use auto, manager or policy", opts.API)
	case opts.NSX.NSXURL != "" && opts.ClusterID == "":
		return opts, inputErrorf("--nsx-url needs --cluster-id (or $CLUSTER_ID): the cluster's name as NCP and the operator know it, which finds the pods' ports and microseg's objects in NSX")
	}
	return opts, nil
}

// Usage is the help text of kubectl-microseg explain.
const Usage = `Explain, on the cluster in your kubeconfig, who decides a connection between two pods: for each
direction the tier, the Kubernetes object and rule, why it matched, and the NSX section and rule
that realize it; what Staged ClusterSecurityPolicies would change; and, with NSX access, NSX's own
Traceflow between the two pods' ports, checked against the policies' verdict.

Usage:
  kubectl microseg explain SRC DST [--port 8080/TCP] [flags]

SRC and DST are NAMESPACE/POD, NAMESPACE/deployment/NAME, or NAMESPACE/LABEL-SELECTOR (e.g.
x1/app=service-a); a deployment or selector picks its first running pod by name.

Flags:
  -p, --port LIST       ports to explain: 8080, 53/UDP, comma-separated or repeated (default:
                        the destination pod's container ports, or 80/TCP)
  -o, --output FORMAT   text (default) or json
      --kubeconfig, --context, --as   which cluster, and which user to act as (kubectl's meaning)
      --cluster-id ID   the cluster's name as NCP knows it (default $CLUSTER_ID; needed with NSX)
      --nsx-url URL     read microseg's objects from NSX and run NSX's Traceflow (default $NSX_URL)
      --nsx-auth, --nsx-credentials-dir, --nsx-ca-file, --nsx-client-cert, --nsx-client-key,
      --nsx-insecure-skip-verify      as the operator's flags (see its --help)
      --nsx-api auto|manager|policy   the API to trace with (default auto: where the source
                        pod's port is, a Policy segment port or a Manager logical port)
      --traceflow-timeout DURATION    how long to wait for NSX's Traceflow (default 30s)

Reads with the rights of the view ClusterRole; says what it could not read. Without NSX access
the NSX section ids of ClusterSecurityPolicies come from their status; rule ids and the ids of
NetworkPolicies' sections need --nsx-url.

Exit codes: 0 explained, 1 a flag, target or the cluster connection needs fixing, 2 internal
error, 3 NSX's Traceflow disagrees with the policies' verdict.
`

var inputErrorf = simulate.InputErrorf
