package apply

import "sync/atomic"

// counter counts the client calls apply makes. A paged list counts once (the client follows the
// cursor internally); set nsxclient.Config.Observer to count HTTP requests and retries.
type counter struct {
	reads, writes atomic.Int64
}

func (c *counter) read()  { c.reads.Add(1) }
func (c *counter) write() { c.writes.Add(1) }
