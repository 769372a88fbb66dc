// Package plan is the Manager API backend's pure planner: it computes the NSX writes (Steps) that
// turn the DFW configuration NSX holds (State, read by apply.ReadState) into the one the compiler
// produced (an ir.Model). The same inputs give a byte-identical Plan, whatever the order of the
// state's unordered lists, and a state that already matches the model gives an empty plan.
//
// It only ever updates, moves or deletes objects that carry the cluster's ownership tag
// (internal/ownership); it compares objects by content, keeps microseg's sections one contiguous
// block below the anchor with the fewest moves, chooses per section between an atomic rewrite and
// rule-level calls with a cost model, and wraps a change that takes more than one
// evaluation-changing write in a guard it builds itself (GuardFor), so that no intermediate DFW
// state allows a flow that both the old and the new configuration deny.
//
// The design — steps and their order, placement, costs, and the guard's invariant with its proof
// for both guard kinds — is in docs/architecture.md ("The Manager backend", "The guard").
package plan
