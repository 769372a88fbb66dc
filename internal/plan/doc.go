// Package plan computes the NSX writes that turn the DFW configuration NSX holds (State, read by
// apply.ReadState) into the one microseg's compiler produced (an ir.Model). It is pure and
// deterministic: no I/O, and the same inputs give a byte-identical Plan, whatever the order of
// the state's unordered lists. A state that already matches the model gives an empty plan, which
// is why an operator restart, or a periodic resync of an unchanged cluster, makes no NSX writes.
//
// # Ownership
//
// Every section and group microseg creates carries the tags microseg.io/cluster=<cluster id>,
// microseg.io/key=<IR key> and microseg.io/hash=<IR hash> (ownership.go; a key longer than a tag
// value is stored as its sha256 digest, the full key in the description). Rules have no tags: a
// rule's identity is "microseg key=<key> hash=<hash>" in its notes, and rule_tag carries a
// readable origin (csp/<name>, np/<namespace>/<name>) for packet logs. Objects are matched by
// these tags, never by display name. The planner only ever updates, moves or deletes objects that
// carry the cluster's tag; hand-made sections, NCP's objects and other clusters' objects (another
// cluster value) are never written. A rule without a microseg key inside a microseg section is
// drift, and is removed.
//
// # Comparison
//
// Current objects are compared with their desired form by content (normalize.go): server-owned
// fields (_revision, timestamps, priority, rule ids, section_id, target_display_name, is_valid,
// ...) are ignored, defaults are normalised, unordered lists sorted. So an object an administrator
// edited in NSX is repaired even when the hash tag was left alone, and an unchanged object is
// never rewritten.
//
// # Steps and their order
//
// Group creates (members before nested groups), guard creation, group repairs, section changes
// top-down, deletes of obsolete sections, guard removal, group deletes (nested groups before
// their members). References to objects an earlier step creates are placeholders
// ("{{group:<key>}}", "{{section:<key>}}", "{{rule:<key>}}") that apply resolves. Groups are
// content-addressed, so a changed selector is a new group, created before and deleted after the
// rules that use it; a group whose content drifted is repaired in place, keeping its id.
//
// # Block placement and moves
//
// microseg's sections form one contiguous block in model order. A new block goes directly below
// Options.AnchorSectionID (or at the top of the DFW). An existing block stays where it is:
// foreign sections above it stay above, and a foreign section that has been inserted between
// microseg's sections is not moved — microseg's sections move around it. The planner keeps the
// longest run of existing sections that are already in the right relative order with no foreign
// section between them (a longest increasing subsequence by model index within one foreign-free
// segment below the anchor; ties go to the topmost segment) and revises every other section into
// place, before the first kept section or after its predecessor; [D A B C]→[A B C D] is one move.
// A move that also changes a section's rules is one revise_with_rules when the atomic form is
// chosen.
//
// # Atomic or rule by rule
//
// A section whose rules differ is either replaced atomically (update_with_rules, or
// revise_with_rules with a move; rules that stay keep their id and _revision) or changed rule by
// rule (create, update, revise, delete single rules identified by the key in their notes; the
// fewest moves again by longest increasing subsequence), whichever CostModel prices lower. NSX
// charges *_with_rules calls per rule (about 15 s for 1,024 rules); DefaultCostModel is 20 ms a
// call plus 14.6 ms a rule written, which makes a one-rule change in a 900-rule section
// rule-level (35 ms against 13 s) and the rewrite of a 5-rule section atomic (93 ms against
// 173 ms plus a guard). Raise PerWithRulesCall to lean further towards rule-level calls.
//
// # Safety: the guard
//
// Invariant: while a change from an old to a new configuration is applied, no intermediate DFW
// state allows a flow that both the old and the new configuration deny.
//
// The DFW checks a flow twice, independently: at the source's port (OUT rules) and at the
// destination's port (IN rules), first match over the sections at each side; the flow passes if
// both sides allow it. Intermediate states mix old and new sections (and, rule by rule, old and
// new rules), and a mix can give a verdict neither configuration gives — even within one side,
// and across sides: if the old configuration denies f only at IN and the new one only at OUT, a
// state holding the new IN rules and the old OUT rules allows f.
//
// A single write is always safe: the only states are the old and the new one. So when the plan
// has at most one write that changes evaluation (a section's update_with_rules, a move of a
// section with rules, one rule call, one section create or delete with rules, one group content
// repair — attribute and tag updates and group creates/deletes do not count), it is applied as
// is. Otherwise it is wrapped in a guard (Options.Guard, computed by the compiler): deny-only
// sections whose DROP/REJECT set at each side is the new configuration's deny set at that side —
// the new model's rules in DFW order with every ALLOW read as "skip the rest of the block".
//
//  1. The guard is inserted first, above every microseg section (old or new) and below the
//     sections above the block. Each guard section only adds denials, so each insertion allows a
//     subset of what was allowed before.
//  2. While the guard is complete, take any flow f and side S. If a section above the block
//     decides f at S, that is the same in every state. Otherwise, if the new configuration
//     denies f at S, the guard denies it. If not, the new configuration allows f at S. So at
//     every side, an intermediate state allows f only if the new configuration allows f there:
//     whatever the mix below the guard, allowed ⊆ new-allowed.
//  3. With the change complete, the guard repeats denials the new block makes anyway; removing
//     it (section by section) changes no verdict.
//
// Hence no state allows a flow the new configuration denies unless the old state allowed it
// (step 1): the invariant holds. Group creates before the guard are harmless (nothing references
// the new groups), and group deletes after it too (nothing references the old ones).
//
// The guard is exact under one assumption, because the compiler sees only microseg's model: the
// sections at or below the top of microseg's block that microseg does not own (hand-made
// sections below the block or inserted into it, and NSX's default section) deny, at each side,
// no flow that the new block does not deny there — with the default section's ALLOW and
// hand-made sections below that only allow, step 2 holds as stated. If the DFW below microseg is
// default-deny, the guard must end with a catch-all deny for what the new block does not allow
// (ALLOW-as-skip then still yields exactly the new deny set), which is the compiler's to add.
//
// A model without DROP or REJECT rules has an empty guard and needs none. When the only change
// that affects evaluation is one section's rules, the planner compares the atomic write (no
// guard) with rule-level calls plus the guard's own cost, estimated from the model's deny rules.
// Compute returns ErrGuardRequired when a guard is needed and Options.Guard is nil; apply.Sync
// then asks for one. Guard sections carry microseg.io/role=guard; one left behind by an
// interrupted apply is obsolete at the next sync and deleted under that sync's own guard.
//
// # References to groups microseg does not own
//
// ir.Ref.NSXGroup and nested groups' external members name existing NSGroups by display name.
// One that is missing or ambiguous is reported as an InvalidReference Problem on every source
// object whose rules use it (for the object's status) and the rule is realized fail-closed: an
// ALLOW treats the group as empty (dropped from the list; the rule is left out if nothing
// remains or the list is an excluded one), a DROP or REJECT treats it as everything (the list
// becomes "any"; an excluded list loses the entry). See realize.go.
package plan
