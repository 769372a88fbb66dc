// Package apply is the only part of microseg that talks to NSX: it reads the DFW state
// (ReadState), executes plans (Apply), and ties the two together with the planner (Sync).
//
//   - ReadState lists the LAYER3 sections in order, the rules of microseg's own sections (paged
//     GETs, never list_with_rules), the NSGroups and IPSets that carry the cluster tag, and the
//     id and display name of every other NSGroup.
//   - Apply executes a plan's steps in order. It replaces placeholders with the ids NSX assigned
//     to objects created by earlier steps, sends the newest _revision it knows (a rule create
//     carries the section's revision, which every rule write bumps), and when NSX answers that an
//     object changed since it was read (409/412) it re-reads the object, checks that it still
//     carries microseg's cluster tag, and retries a bounded number of times. An object that lost
//     the tag is not written: the apply stops with ErrNotOwned. Deletes carry no revision, so
//     apply reads the object first and deletes it only if it is still microseg's; a section or
//     group that is already gone counts as deleted, and a group NSX keeps because a foreign
//     object still uses it is left with a warning. Sections larger than CreateWithRulesLimit are
//     created empty and filled with one create_multiple. On any other error Apply stops and
//     returns what it did: plans are idempotent, so the next sync re-plans from the state NSX is
//     then in and converges.
//   - Sync reads, plans, asks the GuardFunc for a guard only when the plan needs one, and applies.
//
// Result counts client calls (a paged list counts once; configure nsxclient.Config.Observer to
// count HTTP requests and retries).
package apply
