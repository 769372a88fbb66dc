// Package reference is the reference scenario (docs/architecture.md) as data: which service runs where, the
// port its pods serve, and the expected reachability table. The demo, the simulate CLI and every
// test of the scenario read this one copy.
package reference

// Row is one line of the table: connections from service From to service To are Allowed or not.
type Row struct {
	From, To string
	Allowed  bool
}

// Table is the scenario's reachability table; every other pair of these
// services must fail too.
var Table = []Row{
	{"service-a", "service-b", true},
	{"service-a", "service-c", true},
	{"service-a", "service-d", false},
	{"service-b", "service-c", true},
	{"service-b", "service-d", false},
	{"service-c", "service-d", true},
	{"service-c", "service-b", false},
	{"service-d", "service-c", false},
	{"service-d", "service-b", false},
	{"service-c", "service-a", false},
	{"service-b", "service-a", false},
}

// Namespace is where each service runs.
var Namespace = map[string]string{"service-a": "x1", "service-b": "y1", "service-c": "z1", "service-d": "z1"}

// ServedPort is the container port (named http) the pods serve HTTP on; pod-to-pod traffic reaches
// it, not the Service's port 80.
const ServedPort = 8080
