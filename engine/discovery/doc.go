// Package discovery finds Budgie's containers on the LAN over multicast
// DNS (RFC 6762) and DNS-SD (RFC 6763), service _budgie._tcp, built on
// github.com/miekg/dns.
//
// The keeper of every node runs a Service. Its Announcer is the node's
// responder: one socket per interface answers for the node and all its
// running containers (many answers per packet, split over packets within
// the interface's MTU), announces what starts or changes (twice, one
// second apart) and says goodbye (TTL 0) for what stops, and for
// everything when it closes. Its Browser caches what it hears for the
// records' TTL, queries with exponential backoff and known-answer
// suppression, refreshes records at 80–95% of their TTL and drops them
// at their TTL or on a goodbye. A node's own record has a short TTL
// (NodeTTL) and is re-announced by its keeper; container records live
// long (ContainerTTL) but are tied to their node's, so a node that dies
// silently disappears with its containers within NodeTTL.
//
// Packets from the LAN are hostile: parsing is bounded (packet size,
// record count), the cache is bounded per source and overall, TXT
// records are validated strictly (ParseTXT) and must match their
// instance name. Browse browses for a while in-process, for callers
// without a keeper. docs/discovery.md says why hashicorp/mdns, the first
// design's library, is no longer used here.
package discovery
