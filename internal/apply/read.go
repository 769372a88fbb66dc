package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/microseg/microseg/internal/ownership"
	"github.com/microseg/microseg/internal/plan"
	"github.com/microseg/microseg/nsxclient"
)

// ReadOptions configure ReadState.
type ReadOptions struct {
	// ClusterID selects which sections and groups are microseg's (ownership.TagCluster).
	ClusterID string
	// Concurrency is how many sections' rules are read at once (default 4). The client's own
	// rate limit still applies.
	Concurrency int
}

// ReadState reads what the planner needs: every LAYER3 section in DFW order, the rules of
// microseg's sections only (paged GETs; never list_with_rules, which NSX rate-limits to a few
// calls a minute), the NSGroups and IPSets that carry the cluster tag, and the id and display
// name of every other NSGroup (for references to groups microseg does not own).
func ReadState(ctx context.Context, client *nsxclient.Client, opts ReadOptions) (plan.State, error) {
	var c counter
	return readState(ctx, client, opts, &c)
}

func readState(ctx context.Context, client *nsxclient.Client, opts ReadOptions, c *counter) (plan.State, error) {
	var st plan.State
	if opts.ClusterID == "" {
		return st, errors.New("apply: ReadState needs the cluster id")
	}
	c.read()
	sections, err := client.ListSections(ctx, nsxclient.ListSectionsOptions{Type: nsxclient.SectionLayer3})
	if err != nil {
		return st, fmt.Errorf("apply: listing firewall sections: %w", err)
	}
	st.Sections = make([]plan.SectionState, len(sections))
	var owned []int
	for i, s := range sections {
		st.Sections[i].Section = s
		if ownership.Owned(s.Tags, opts.ClusterID) && !s.IsDefault {
			owned = append(owned, i)
		}
	}
	if err := readRules(ctx, client, st.Sections, owned, cmp.Or(max(opts.Concurrency, 0), 4), c); err != nil {
		return st, err
	}
	c.read()
	groups, err := client.ListNSGroups(ctx, nsxclient.ListNSGroupsOptions{})
	if err != nil {
		return st, fmt.Errorf("apply: listing NSGroups: %w", err)
	}
	for _, g := range groups {
		if ownership.Owned(g.Tags, opts.ClusterID) {
			st.NSGroups = append(st.NSGroups, g)
		} else {
			st.ExternalGroups = append(st.ExternalGroups, plan.ExternalGroup{ID: g.ID, DisplayName: g.DisplayName})
		}
	}
	c.read()
	sets, err := client.ListIPSets(ctx)
	if err != nil {
		return st, fmt.Errorf("apply: listing IPSets: %w", err)
	}
	for _, s := range sets {
		if ownership.Owned(s.Tags, opts.ClusterID) {
			st.IPSets = append(st.IPSets, s)
		}
	}
	return st, nil
}

// readRules fills in the rules of the owned sections, a few sections at a time.
func readRules(ctx context.Context, client *nsxclient.Client, sections []plan.SectionState, owned []int, workers int, c *counter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range min(workers, len(owned)) {
		wg.Go(func() {
			for i := range next {
				c.read()
				rules, err := client.ListRules(ctx, sections[i].Section.ID)
				if err != nil {
					once.Do(func() {
						firstErr = fmt.Errorf("apply: listing rules of section %s (%s): %w", sections[i].Section.ID, sections[i].Section.DisplayName, err)
						cancel()
					})
					continue
				}
				sections[i].Rules = rules
			}
		})
	}
feed:
	for _, i := range owned {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return firstErr
}
