// Package policy is the sync path's backend for the NSX Policy API (/policy/api/v1): the
// compiler's model realized as Policy groups and security policies in one domain, written with
// the hierarchical API. The Security tier's sections become policies of the Environment category,
// the developer tier's and then the Baseline tier's policies of the Application category, each
// tier in its own band of sequence numbers (Bands). Objects carry microseg's ownership tags, as in
// the Manager backend, and ids derived from the model's keys (ids.go), so a re-read needs no
// lookup.
//
// A change that fits one hierarchical PATCH (5000 objects) is that one write. A larger one is cut
// into calls under a deny-only guard, in an order that keeps the sync path's invariant: no
// intermediate state allows a flow that both the old and the new configuration deny. Groups never
// change content under a guarded change: one that must be repaired moves to a new id. After a
// write the backend waits, within a bound, for NSX to realize it; what is not realized yet keeps
// the next plan non-empty, so a sync is never reported converged before NSX says REALIZED.
//
// Reads are one hierarchical GET of the domain (full) or of its policies and groups with the
// rules of moved policies only (incremental, over the realized-state cache in read.go).
//
// The design, the mapping table, the proof of the invariant for Policy writes and the behaviours
// chosen where NSX's documentation is silent are in docs/architecture.md ("The Policy backend").
package policy
