// Package v1alpha1 holds the security team's API: ClusterSecurityPolicy.
//
// +kubebuilder:object:generate=true
// +groupName=security.microseg.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the group and version of every type in this package.
	GroupVersion = schema.GroupVersion{Group: "security.microseg.io", Version: "v1alpha1"}

	// SchemeBuilder registers this package's types with a runtime.Scheme. It uses only apimachinery,
	// so importing the API does not pull in controller-runtime.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds this package's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(GroupVersion, &ClusterSecurityPolicy{}, &ClusterSecurityPolicyList{})
	metav1.AddToGroupVersion(scheme, GroupVersion)
	return nil
}
