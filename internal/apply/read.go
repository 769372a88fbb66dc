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
// name of every other NSGroup (for references to groups microseg does not own). It reads
// everything; the Manager backend's Cache reads less after its first read.
func ReadState(ctx context.Context, client *nsxclient.Client, opts ReadOptions) (plan.State, error) {
	var c counter
	return readState(ctx, client, opts, &c)
}

func readState(ctx context.Context, client *nsxclient.Client, opts ReadOptions, c *counter) (plan.State, error) {
	st, _, err := readAll(ctx, client, opts, c)
	return st, err
}

// readAll is ReadState; it also says how many pages the NSGroup and the IPSet lists took (the
// size of a verification round, see scan).
func readAll(ctx context.Context, client *nsxclient.Client, opts ReadOptions, c *counter) (plan.State, [2]int, error) {
	var st plan.State
	if opts.ClusterID == "" {
		return st, [2]int{}, errors.New("apply: ReadState needs the cluster id")
	}
	c.read()
	sections, err := client.ListSections(ctx, nsxclient.ListSectionsOptions{Type: nsxclient.SectionLayer3})
	if err != nil {
		return st, [2]int{}, fmt.Errorf("apply: listing firewall sections: %w", err)
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
		return st, [2]int{}, err
	}
	groups, groupPages, err := allPages(c, "NSGroups", func(cursor string) (nsxclient.Page[nsxclient.NSGroup], error) {
		return client.ListNSGroupsPage(ctx, nsxclient.ListNSGroupsOptions{}, cursor)
	})
	if err != nil {
		return st, [2]int{}, err
	}
	for _, g := range groups {
		if ownership.Owned(g.Tags, opts.ClusterID) {
			st.NSGroups = append(st.NSGroups, g)
		} else {
			st.ExternalGroups = append(st.ExternalGroups, plan.ExternalGroup{ID: g.ID, DisplayName: g.DisplayName})
		}
	}
	sets, setPages, err := allPages(c, "IPSets", func(cursor string) (nsxclient.Page[nsxclient.IPSet], error) {
		return client.ListIPSetsPage(ctx, cursor)
	})
	if err != nil {
		return st, [2]int{}, err
	}
	for _, s := range sets {
		if ownership.Owned(s.Tags, opts.ClusterID) {
			st.IPSets = append(st.IPSets, s)
		}
	}
	return st, [2]int{groupPages, setPages}, nil
}

// allPages reads every page of a list, one counted call each. If a page fails, the whole list
// fails: a partial list would make the planner believe objects are missing.
func allPages[T any](c *counter, what string, fetch func(cursor string) (nsxclient.Page[T], error)) ([]T, int, error) {
	var all []T
	seen := map[string]bool{}
	cursor := ""
	for pages := 1; ; pages++ {
		c.read()
		p, err := fetch(cursor)
		if err != nil {
			return nil, pages, fmt.Errorf("apply: listing %s (page %d): %w", what, pages, err)
		}
		all = append(all, p.Results...)
		if p.Next == "" {
			return all, pages, nil
		}
		if seen[p.Next] {
			return nil, pages, fmt.Errorf("apply: listing %s: NSX returned the cursor %q twice; stopping rather than looping", what, p.Next)
		}
		seen[p.Next] = true
		cursor = p.Next
	}
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
