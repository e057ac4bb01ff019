// Package identity gives a Budgie node its cryptographic identity and
// decides which other nodes it replicates with.
//
// The model is Syncthing's. Each node makes, on first use, an ECDSA P-256
// key and a self-signed certificate (CN = node name, valid 20 years) under
// data_dir/identity (directory 0700, files 0600). The node's ID is the
// SHA-256 of that certificate's DER bytes, written for people as base32
// with a Luhn check character after every 13 characters, in eight groups
// of seven: "MFRGGZD-…-…". The first group is the short form for display.
// Whoever holds the key is the node; nothing else is needed to prove it.
//
// Trust is explicit and per node: data_dir/trust.json lists the IDs this
// node accepts. Replication runs over TLS 1.3 with a certificate on both
// sides, and certificates are checked by pinning, never through a CA: the
// server completes a handshake only when the client's certificate hashes
// to a trusted ID (an unknown client is recorded as a pending request and
// refused before any application byte is sent), and the client accepts a
// server only when its certificate hashes to the ID it meant to reach
// (typically the one announced over mDNS). Approving a pending request is
// `budgie trust add ID` on the node that received it; `budgie id` prints
// the ID to compare, out of band, on the other node.
//
// Certificate lifetimes are not enforced: a pinned certificate is valid
// for as long as its ID is trusted. Removing an ID from the trust store is
// the revocation.
package identity
