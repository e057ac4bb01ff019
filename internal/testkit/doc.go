// Package testkit is the harness Budgie's integration tests share: a private
// containerd per test package (temporary root, state and socket), test images
// built from Debian's busybox-static (nothing is downloaded), and cleanup that
// leaves no task, container, snapshot or mount behind.
package testkit
