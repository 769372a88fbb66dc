// Package simulate is "kubectl-microseg simulate": the offline what-if. It reads manifests,
// runs the real pipeline on them (internal/pipeline: compile, plan, apply into the NSX simulator,
// Traceflow), and probes every ordered pair of pods on a list of ports, reporting for each side of
// each connection the tier, Kubernetes object and NSX rule that decided.
//
// The files each do one job: options.go (flags and help; the probe flags matrix and diff share),
// ports.go (the port lists of internal/ports), podfilter.go (--from/--to), simulate.go (the run,
// on manifests or on a given world), probe.go (the probes), record.go and render_json.go (the JSON
// Lines schema, documented in docs/simulate.md), render_table.go, render_matrix.go,
// render_list.go and deciders.go (the table), groups.go and render_groups.go (pods grouped by a
// label, for matrix), render_html.go (the HTML page, drawn by internal/report), command.go (the
// subcommand: output on stdout, warnings and notes on stderr, exit codes from errors.go).
package simulate
