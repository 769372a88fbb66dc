package layout

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/microseg/microseg/internal/ncptags"
)

// Defaults applied by Config.WithDefaults.
var (
	DefaultClusterName     = "microseg"
	DefaultLogicalSwitchID = "microseg-pod-switch"
	DefaultNodeName        = "microseg-virtual-node"
	DefaultNodeIPv4        = netip.MustParseAddr("172.18.0.10")
	DefaultNodeIPv6        = netip.MustParseAddr("fd00:172:18::10")
	DefaultIPv4Pool        = netip.MustParsePrefix("10.244.0.0/16")
	// DefaultIPv6Pool is not applied by default: set Config.IPv6Pool to it for dual stack.
	DefaultIPv6Pool = netip.MustParsePrefix("fd00:10:244::/64")
)

// Config says how the emulated cluster looks. The zero value is a single-stack cluster with the
// defaults above.
type Config struct {
	// ClusterName is NCP's cluster name: the value of the ncp/cluster tag on every port. Garbage
	// collection only ever touches ports carrying this value, so two emulators (or a real NCP)
	// can share one NSX manager.
	ClusterName string
	// API is the NSX API NCP runs in: APIManager (default; logical ports) or APIPolicy (segment
	// ports).
	API string
	// LogicalSwitchID is the NSX logical switch (Manager mode) or segment (Policy mode) the pod
	// ports are created on.
	LogicalSwitchID string
	// NodeName is the virtual node every pod is bound to.
	NodeName string
	// NodeIPv4 and NodeIPv6 are the node's InternalIP addresses (the pods' hostIPs).
	NodeIPv4, NodeIPv6 netip.Addr
	// ParentVIFID is the node VM's VIF that pod ports hang off as CHILD VIFs (default
	// "<NodeName>-vif"). The emulator does not create that parent port: NCP does not either.
	ParentVIFID string
	// IPv4Pool is where pod IPv4 addresses come from (default DefaultIPv4Pool).
	IPv4Pool netip.Prefix
	// IPv6Pool, when set, makes the cluster dual stack: every pod also gets an address from it.
	IPv6Pool netip.Prefix
	// MaxConcurrentReconciles is how many pods are handled at once (default 4).
	MaxConcurrentReconciles int
}

// WithDefaults is the configuration with the defaults above applied.
func (c Config) WithDefaults() Config {
	if c.ClusterName == "" {
		c.ClusterName = DefaultClusterName
	}
	if c.API == "" {
		c.API = APIManager
	}
	if c.LogicalSwitchID == "" {
		c.LogicalSwitchID = DefaultLogicalSwitchID
	}
	if c.NodeName == "" {
		c.NodeName = DefaultNodeName
	}
	if !c.NodeIPv4.IsValid() {
		c.NodeIPv4 = DefaultNodeIPv4
	}
	if !c.NodeIPv6.IsValid() {
		c.NodeIPv6 = DefaultNodeIPv6
	}
	if c.ParentVIFID == "" {
		c.ParentVIFID = c.NodeName + "-vif"
	}
	if !c.IPv4Pool.IsValid() {
		c.IPv4Pool = DefaultIPv4Pool
	}
	if c.MaxConcurrentReconciles <= 0 {
		c.MaxConcurrentReconciles = 4
	}
	return c
}

// Validate says what is wrong with a configuration (defaults applied).
func (c Config) Validate() error {
	var errs []error
	if c.API != APIManager && c.API != APIPolicy {
		errs = append(errs, fmt.Errorf("API %q: use %q or %q", c.API, APIManager, APIPolicy))
	}
	if !c.NodeIPv4.Is4() {
		errs = append(errs, fmt.Errorf("NodeIPv4 %s is not an IPv4 address", c.NodeIPv4))
	}
	if !c.NodeIPv6.Is6() || c.NodeIPv6.Is4In6() {
		errs = append(errs, fmt.Errorf("NodeIPv6 %s is not an IPv6 address", c.NodeIPv6))
	}
	if err := checkPool(c.IPv4Pool, true); err != nil {
		errs = append(errs, fmt.Errorf("IPv4Pool: %w", err))
	}
	if c.IPv6Pool.IsValid() {
		if err := checkPool(c.IPv6Pool, false); err != nil {
			errs = append(errs, fmt.Errorf("IPv6Pool: %w", err))
		}
	}
	if len(c.ClusterName) > ncptags.DefaultLimits.MaxValueLen {
		errs = append(errs, fmt.Errorf("ClusterName is longer than an NSX tag value (%d)", ncptags.DefaultLimits.MaxValueLen))
	}
	return errors.Join(errs...)
}

func checkPool(p netip.Prefix, v4 bool) error {
	switch {
	case p.Addr().Is4() != v4 || p.Addr().Is4In6():
		return fmt.Errorf("%s is of the wrong address family", p)
	case p != p.Masked():
		return fmt.Errorf("%s has host bits set; use %s", p, p.Masked())
	case p.Addr().BitLen()-p.Bits() < 2:
		return fmt.Errorf("%s leaves no room for pod addresses", p)
	}
	return nil
}
