// Package replica copies a container from another node (its primary) to
// this one: the primary side serves the container's plan, its image and
// its named volumes over engine/volsync on mutual TLS (engine/identity); the
// replica side resolves the container through discovery, fetches the
// image, syncs the volumes and runs the same spec, labelled as a replica;
// and inside the keeper it keeps replicas marked for it in sync, one
// direction, primary → replica.
//
// A container is served only to trusted nodes, and only when its owner
// marked it replicable (Share, the `budgie share` command).
package replica
