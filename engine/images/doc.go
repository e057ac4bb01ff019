// Package images manages the images in containerd's store for Budgie: it
// pulls them from registries (plain HTTP for loopback and configured
// insecure registries, HTTPS otherwise) with per-layer progress, loads
// OCI image-layout and docker-save archives, lists and removes them. Every
// image it brings in is unpacked into the snapshotter, ready to run.
//
// Functions take a context that already carries the containerd namespace
// (engine.Engine.Context). Errors wrap engine/errdefs sentinels.
package images
