// Package apply is the Manager API backend's only code that talks to NSX: ReadState reads what the
// planner needs (every LAYER3 section in order, the rules of microseg's own sections, microseg's
// NSGroups and IPSets, the names of every other NSGroup), and Apply executes a plan's steps in order
// — resolving placeholders to the ids NSX assigned, sending the newest _revision it knows, retrying
// a write NSX refuses as stale after checking that the object is still microseg's, and stopping at
// the first other error (plans are idempotent: the next sync re-plans from where NSX is). NSX is the
// pair the sync path's Manager backend (internal/nsxsync/manager) runs over.
//
// Result counts client calls (a paged list counts once; configure nsxclient.Config.Observer to
// count HTTP requests and retries). The details are in docs/architecture.md ("The applier").
package apply
