// Package nsxclient is microseg's typed client for the VMware NSX-T Manager API (/api/v1).
//
// It covers what the operator needs to program the Distributed Firewall: firewall sections and
// rules (with their ordering), NSGroups, IPSets and logical ports, plus session handling and a
// health check. It has no Kubernetes dependencies.
//
// Behaviour that callers can rely on:
//
//   - Every call takes a context.Context, which bounds the whole call including retries and the
//     waits between them.
//   - Throttling (429), overload (503), cluster reconfiguration (500 with error_code 607) and
//     connection failures are retried with jittered exponential backoff, honouring Retry-After.
//     A request that NSX may already have applied (the connection dropped after it was sent) is
//     sent again only if sending it twice is harmless: reads, PUT, DELETE and the state-setting
//     actions (update_with_rules, revise, revise_with_rules, ADD_MEMBERS, REMOVE_MEMBERS, add_ip,
//     remove_ip). Creates are never sent twice; the caller gets a *TransportError with
//     MayHaveBeenApplied set and should list before creating again.
//   - A PUT or revise that was applied, lost its answer and was resent comes back with
//     ErrStaleRevision (its own first copy bumped the revision); a resent DELETE comes back with
//     ErrNotFound. Reconcilers that re-read on ErrStaleRevision and treat ErrNotFound on delete as
//     success handle both without special cases.
//   - List methods follow cursors and return every page, or an error; never a partial list.
//   - Every NSX error is an *APIError; use errors.Is with ErrStaleRevision, ErrNotFound, ErrInUse
//     and ErrUnauthorized, or the IsXxx helpers, rather than comparing status codes.
//   - Credentials never appear in errors, logs or fmt output of Config and Client.
package nsxclient
