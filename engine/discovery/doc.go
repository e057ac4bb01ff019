// Package discovery finds Budgie's containers on the LAN over mDNS
// (DNS-SD service _budgie._tcp, with github.com/hashicorp/mdns).
//
// The keeper of every node runs a Service: its Announcer answers queries
// for each running container (and for the node itself) and multicasts an
// unsolicited answer when one starts; its Browser queries every configured
// interface in back-to-back rounds and keeps a table of what it saw,
// deduplicated by node and container and expired when not seen again
// (mDNS goodbyes do not reach the library's callers). Browse runs one
// round in-process for callers without a keeper.
//
// The library has traps this package works around:
//   - entries are dropped when the Entries channel is full: it is buffered
//     and drained by its own goroutine;
//   - a response packet yields at most one entry (hashicorp/mdns#92): one
//     mdns.Server per announcement and interface, so each answers alone;
//   - the client does not filter by service name (#96): entries whose name
//     is not an instance of _budgie._tcp.local. are ignored, and TXT
//     records are validated strictly (ParseTXT);
//   - an A record before its SRV is lost (#145): our zones answer SRV
//     first, and each announcement has its own host name;
//   - IPv6 sockets fail in many namespaces and containers: queries use IPv4;
//   - a multicast join lands on the default interface: each configured
//     interface is queried and announced on explicitly.
package discovery
