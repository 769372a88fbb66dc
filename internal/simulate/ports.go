package simulate

import (
	"github.com/microseg/microseg/internal/pipeline"
	"github.com/microseg/microseg/internal/ports"
)

// Port is one destination port to probe (internal/ports).
type Port = ports.Port

// AlwaysProbed is in every default port list (internal/ports).
var AlwaysProbed = ports.AlwaysProbed

// ParsePorts reads --ports values (internal/ports).
func ParsePorts(values []string) ([]Port, error) { return ports.Parse(values) }

// DefaultPorts lists the ports a run probes when --ports is not given: every port the world's
// policies name, plus AlwaysProbed (internal/ports).
func DefaultPorts(w pipeline.World) []Port {
	return ports.Named(w.NetworkPolicies, w.ClusterSecurityPolicies, w.Pods)
}

// Compare orders ports by number, then protocol (internal/ports).
func Compare(a, b Port) int { return ports.Compare(a, b) }
