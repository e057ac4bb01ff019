// Package network gives Budgie's containers their own network namespaces
// joined to Linux bridges, one bridge per network, through CNI.
//
// # Definitions
//
// A network is a JSON file, DataDir/networks/NAME.json, holding a
// models.Network; it is written to a temporary file and renamed, so readers
// never see half of one. Open creates the default network budgie0 (bridge
// "budgie0", 172.20.0.0/16, gateway 172.20.0.1) when it is missing. Other
// networks get a bridge named "budgie-" and the first 8 hex digits of the
// SHA-256 of their name (15 characters, the kernel's limit), so every
// Budgie bridge matches the iptables wildcard "budgie+". Without a subnet,
// Create takes the next free 172.N.0.0/16 (N from 21), skipping subnets of
// other networks and addresses on the host's interfaces.
//
// # CNI
//
// Each network is a one-plugin CNI list: the bridge plugin (isGateway,
// hairpinMode, a default route unless internal) with host-local addresses
// whose leases live in DataDir/cni/ipam/NAME, not in /var/lib/cni, so no other
// CNI user on the host shares them. The list is generated from the definition
// and also kept in DataDir/cni/net.d/NAME.conflist for people and tools such
// as cnitool. Attach runs the list's ADD against a namespace path
// (/proc/PID/ns/net) and, meanwhile, brings lo up itself (an ioctl through a
// socket opened in the namespace: the loopback plugin's one job, without
// starting a process for it); Detach runs
// DEL, which releases the lease even when the namespace is gone. The plugins
// come from Debian's containernetworking-plugins (/usr/lib/cni, then
// /opt/cni/bin). They are driven through libcni, the library under
// containerd's go-cni, because Budgie attaches one network at a time with an
// interface name of its choosing and keeps libcni's result cache under
// DataDir/cni/cache; go-cni numbers interfaces per instance and always caches
// in /var/lib/cni.
//
// Leases are host-local's files (DataDir/cni/ipam/NAME/IP, holding the
// container ID and interface name); Leases reads them, and GC releases those
// of containers that no longer run, such as leases left behind when
// containerd restarted under running containers (nerdctl issue #665).
//
// # Firewall
//
// The host routes between its bridges, so the package keeps an iptables
// chain BUDGIE-ISOLATION, jumped to from the top of FORWARD. For each network
// it accepts traffic within the bridge; a normal network may also send
// traffic out to non-Budgie interfaces and receive the replies; an internal
// network drops everything else that enters or leaves its bridge. The chain
// ends with a rule dropping traffic from any Budgie bridge to any other.
// Masquerading is one rule per normal network in the nat chain
// BUDGIE-POSTROUTING rather than the bridge plugin's per-container ipMasq
// chains, which the plugin cannot remove once the container's namespace is
// gone. Rules are added per network and idempotently (checked with -C) on
// Create and before every Attach (so a flushed firewall heals on the next
// start), and deleted by Remove; the shared chains stay. The same calls set
// net.ipv4.ip_forward=1. Open touches neither iptables nor links, since
// every CLI command opens a Manager.
//
// # Concurrency
//
// CNI ADD and DEL, lease reads that decide something, iptables changes and
// definition writes are serialised by a process-wide lock and an flock on
// DataDir/networks/.lock, since the CLI, nest and the keeper are different
// processes (parallel starts raced in nerdctl issue #2908).
//
// # Hosts files
//
// WriteHosts writes a container's /etc/hosts in place, never by rename,
// because the bind mount into the container pins the file's inode.
package network
