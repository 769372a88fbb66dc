// Package pipeline runs microseg's real pipeline offline: Kubernetes objects → compile → plan →
// apply into an in-process NSX simulator whose logical ports are laid out the way NCP lays them
// out → Traceflow. kubectl-microseg simulate, the differential conformance suite and the upstream
// NetworkPolicy e2e cases all use it, so what they check is what the operator does.
package pipeline
