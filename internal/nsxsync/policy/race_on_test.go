//go:build race

package policy_test

// raceEnabled: the race detector slows the simulator down several times; the randomized
// invariant test then draws fewer model pairs (make test runs this package under it).
const raceEnabled = true
