// Package keeper is Budgie's node keeper: one long-lived process per node
// (`budgie --headless serve`) that owns the node-wide services: the
// supervisor (restart policies and health checks, driven by containerd's
// task events), the proxy and load balancer of published ports, mDNS
// discovery (engine/discovery) and the replication sync server
// (engine/replica). It serves a small JSON API on a unix socket under the
// data directory (state of every supervised container, peers, replicas and
// an NDJSON event stream) for the CLI and nest.
//
// containerd stays the source of truth: what must survive a keeper restart
// (the restart count, a manual stop) lives in container labels, so a keeper
// that starts — after a crash, a reboot or a containerd restart — rebuilds
// its view from containerd and reconciles.
package keeper
