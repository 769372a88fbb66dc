// Package ncptags is NCP's tag layout on a pod's NSX logical port, in one place: the compiler
// (which must know what its tag criteria can match), the NCP emulator (which writes the tags) and
// the admission tests (which refuse labels that could forge them) all read it here, so they can
// never disagree about what NCP writes.
//
// What NCP writes (Manager API mode): its own identity tags first — ncp/cluster=<cluster name>,
// ncp/project=<namespace>, ncp/pod=<pod name> — then one tag per pod label, scope = label key and
// tag = label value, keys in byte order. NSX allows 30 tags per object, 128 characters per scope and
// 256 per value; NCP truncates longer keys and values when it copies them (its "Limits on Tags and
// Labels"), and a pod has room for 30 − 3 = 27 label tags. NCP documents the limit but not which
// labels it drops past it; PortTags drops the highest keys, and PossiblePortTags keeps every label
// for callers that must not rely on either choice.
//
// A label is copied whatever its key, so a label whose key is one of NCP's scopes puts a second,
// forged identity tag on the port: a pod of namespace x1 labelled ncp/project=z1 carries both
// ncp/project=x1 and ncp/project=z1. Scopes under the reserved prefixes (ReservedScopePrefixes,
// compared case-insensitively because NSX ≥ 3 may match tags that way) are NCP's; IsReservedScope
// says whether a label key falls under one.
//
// The package depends on nothing but the standard library: tags are plain strings.
package ncptags
