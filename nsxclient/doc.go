// Package nsxclient is microseg's typed client for the VMware NSX Manager API (/api/v1) and the
// NSX Policy API (/policy/api/v1).
//
// It covers what the operator needs to program the Distributed Firewall: with the Manager API,
// firewall sections and rules (with their ordering), NSGroups, IPSets and logical ports; with the
// Policy API (Client.Policy), domains, groups, security policies and rules, the hierarchical API,
// realization status and segment ports; plus session handling and health checks. It has no
// Kubernetes dependencies.
//
// One Client talks to one manager over both APIs: they are served by the same HTTP service, so
// they share the connection pool, the session, the credentials, the client-side rate limit, the
// retry policy, the Observer and the typed errors. Each request names its API base path; Manager
// endpoints are named relative to /api/v1 in metrics and errors, Policy endpoints in full.
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
//   - Every NSX error is an *APIError; use errors.Is with ErrStaleRevision, ErrNotFound, ErrInUse,
//     ErrUnauthorized, ErrPendingDelete and ErrValidation, or the IsXxx helpers, rather than
//     comparing status codes.
//   - Policy API writes are PATCH (create or update at a path the caller chose, so resending is
//     harmless and they are retried like PUT), PUT (replace; needs the current _revision) and
//     DELETE. A write to a path whose deletion NSX has not finished (400/500045) is retried with
//     backoff; it reaches the caller as ErrPendingDelete only when the retries run out.
//   - Credentials never appear in errors, logs or fmt output of Config and Client.
package nsxclient
