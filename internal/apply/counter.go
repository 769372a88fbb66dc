package apply

import (
	"sync/atomic"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/nsxclient"
)

// counter counts the client calls apply makes. The NSGroup and IPSet lists count one per page;
// the section and rule lists, which the client pages internally, count once (a section list
// takes one page per 1,000 sections, a rule list one per 1,000 rules). Set
// nsxclient.Config.Observer to count every HTTP request and retry.
type counter struct {
	reads, writes atomic.Int64
}

func (c *counter) read()  { c.reads.Add(1) }
func (c *counter) write() { c.writes.Add(1) }

// ownedBy reports whether tags carry the cluster tag of clusterID.
func ownedBy(tags []nsxclient.Tag, clusterID string) bool { return ownership.Owned(tags, clusterID) }
