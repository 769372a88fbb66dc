// Package auto chooses the NSX API microseg speaks for a cluster (--nsx-api auto|policy|manager)
// and then is that API's backend. In auto mode it looks where NCP put the cluster's pod ports: as
// Policy segment ports (NCP in Policy mode; a manager serving both APIs also shows them as
// Manager logical ports realized by the Policy side, so segment ports are looked for first) or
// only as Manager logical ports (NCP in Manager mode). Neither, or both, is a configuration
// error that says what to set. Whatever the mode, the Policy API is used only once the tag
// layout microseg's groups match on is found on the cluster's pod segment ports.
package auto

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/microseg/microseg/internal/ncptags"
	"github.com/microseg/microseg/internal/nsxsync"
	"github.com/microseg/microseg/nsxclient"
)

// Modes of --nsx-api.
const (
	ModeAuto    = "auto"
	ModePolicy  = "policy"
	ModeManager = "manager"
)

// policyRealizationUser is the _create_user NSX gives the Manager objects it realizes for Policy
// intents (NSX docs; the simulator follows it).
const policyRealizationUser = "nsx_policy"

// Finding is what detection found of a cluster's pod ports.
type Finding struct {
	// SegmentPorts are the cluster's pod ports in the Policy API; ManagerPorts its pod ports
	// that exist only in the Manager API (not realized from a segment port).
	SegmentPorts, ManagerPorts int
	// Calls is the number of NSX calls detection made.
	Calls int64
	// badLayout names a segment port that lacks NCP's identity tags, if one does.
	badLayout string
}

// identityScopes are the tags microseg's groups match on a pod's port (internal/ncptags).
var identityScopes = []string{ncptags.ScopeCluster, ncptags.ScopeProject, ncptags.ScopePod}

// Find looks for the pod ports of cluster in both APIs. An API the manager does not serve (NSX 9
// has no Manager API for networking; NSX-T before 2.4 no Policy API) counts as holding none.
func Find(ctx context.Context, client *nsxclient.Client, cluster string) (Finding, error) {
	var f Finding
	infra, err := client.Policy().ReadInfra(ctx, nsxclient.ReadInfraOptions{Types: []string{nsxclient.ResourceSegment, nsxclient.ResourceSegmentPort}})
	f.Calls++
	segmentPortIDs := map[string]bool{}
	switch {
	case err == nil:
		for _, n := range infra.Children {
			if n.Segment == nil {
				continue
			}
			clusterSegment := hasTag(n.Segment.Tags, ncptags.ScopeCluster, cluster)
			for _, c := range n.Segment.Children {
				sp := c.SegmentPort
				if sp == nil || sp.Attachment == nil || sp.Attachment.Type != nsxclient.AttachmentChild {
					continue
				}
				segmentPortIDs[sp.UniqueID] = true
				if !clusterSegment && !hasTag(sp.Tags, ncptags.ScopeCluster, cluster) {
					continue
				}
				f.SegmentPorts++
				if f.badLayout == "" && !hasIdentity(sp.Tags, cluster) {
					f.badLayout = sp.Path
				}
			}
		}
	case !nsxclient.IsNotFound(err):
		return f, fmt.Errorf("listing the Policy segment ports: %w", err)
	}
	ports, err := client.ListLogicalPorts(ctx, nsxclient.ListLogicalPortsOptions{ContainerPortsOnly: true})
	f.Calls++
	switch {
	case err == nil:
		for _, p := range ports {
			if hasTag(p.Tags, ncptags.ScopeCluster, cluster) && p.CreateUser != policyRealizationUser && !segmentPortIDs[p.ID] {
				f.ManagerPorts++
			}
		}
	case !nsxclient.IsNotFound(err):
		return f, fmt.Errorf("listing the Manager logical ports: %w", err)
	}
	return f, nil
}

// Choose decides the API for a mode from a finding; the reason says why, for the log.
func Choose(mode, cluster string, f Finding) (api, reason string, err error) {
	switch mode {
	case ModeManager:
		return ModeManager, "--nsx-api manager", nil
	case ModePolicy:
		if err := f.layoutError(cluster); err != nil {
			return "", "", err
		}
		return ModePolicy, "--nsx-api policy", nil
	case ModeAuto, "":
	default:
		return "", "", &nsxsync.ConfigError{Msg: fmt.Sprintf("--nsx-api %q: use auto, policy or manager", mode)}
	}
	switch {
	case f.SegmentPorts > 0 && f.ManagerPorts > 0:
		return "", "", &nsxsync.ConfigError{Msg: fmt.Sprintf("cannot tell which NSX API NCP uses for cluster %q: its pod ports exist both as Policy segment ports (%d) and as Manager logical ports (%d); set --nsx-api policy or --nsx-api manager (during NCP's migration to Policy mode, keep manager until it completes)",
			cluster, f.SegmentPorts, f.ManagerPorts)}
	case f.SegmentPorts > 0:
		if err := f.layoutError(cluster); err != nil {
			return "", "", err
		}
		return ModePolicy, fmt.Sprintf("NCP's pod ports of cluster %q are Policy segment ports (%d)", cluster, f.SegmentPorts), nil
	case f.ManagerPorts > 0:
		return ModeManager, fmt.Sprintf("NCP's pod ports of cluster %q are Manager logical ports (%d)", cluster, f.ManagerPorts), nil
	}
	return "", "", &nsxsync.ConfigError{Msg: fmt.Sprintf("cannot tell which NSX API NCP uses for cluster %q: NSX holds no pod port tagged %s=%s, neither a Policy segment port nor a Manager logical port; check --cluster-id (NCP's cluster name), wait for NCP to wire the first pod, or set --nsx-api policy or --nsx-api manager",
		cluster, ncptags.ScopeCluster, cluster)}
}

func (f Finding) layoutError(cluster string) error {
	if f.badLayout == "" {
		return nil
	}
	return &nsxsync.ConfigError{Msg: fmt.Sprintf("the Policy segment port %s of cluster %q lacks the tags %s that microseg's groups match on (NCP's Manager-mode layout, which microseg expects on Policy segment ports too); microseg does not program the Policy API over a tag layout it does not know: use --nsx-api manager, or report the tags NCP writes",
		f.badLayout, cluster, strings.Join(identityScopes, ", "))}
}

func hasTag(tags []nsxclient.Tag, scope, value string) bool {
	return slices.Contains(tags, nsxclient.Tag{Scope: scope, Tag: value})
}

// hasIdentity reports whether a port carries NCP's identity tags for cluster, its own first.
func hasIdentity(tags []nsxclient.Tag, cluster string) bool {
	t := make([]ncptags.Tag, len(tags))
	for i, x := range tags {
		t[i] = ncptags.Tag{Scope: x.Scope, Tag: x.Tag}
	}
	id := ncptags.IdentityOf(t)
	return id.Cluster == cluster && id.Namespace != "" && id.Pod != ""
}
