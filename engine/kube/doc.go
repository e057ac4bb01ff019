// Package kube moves Budgie's containers to Kubernetes and back, as podman
// kube generate and kube play do.
//
// Generate turns container specs (what a bundle describes, as read back
// from a container's labels or parsed from a .bun file) into Kubernetes
// manifests built from the k8s.io/api types: a Deployment per container
// (a StatefulSet when it mounts named volumes), a Service per set of
// published ports, PersistentVolumeClaims, probes, limits and secret
// mounts. It never reads a secret's value: a secret is a reference.
//
// Play goes the other way, for the subset Budgie can honour: Pods,
// Deployments, StatefulSets, Services, PersistentVolumeClaims and
// ConfigMaps. Every document is decoded strictly into its k8s.io/api type
// (an unknown field is an error) and checked against an allow-list of the
// fields Budgie carries out; anything else is refused by kind and field,
// with the file, the document and the line, and a hint. What is accepted
// becomes bundle text (the .bun format of docs/bundle.md), checked by the
// bundle parser, so that what runs, and what is stored in the containers'
// labels, is an ordinary bundle.
//
// Fields that Kubernetes has no word for (a restart policy other than
// always, a stop signal, depends_on, networks, a load balancing strategy…)
// travel in one annotation, budgie.sh/bundle, as bundle YAML; Play reads it
// back, so that generate then play gives the same containers. The mapping,
// field by field, is in docs/interop.md.
//
// The package is pure: it reads no files and talks to no containerd.
package kube
