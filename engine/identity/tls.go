package identity

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Handshake errors. Test with errors.Is.
var (
	// ErrPeerMismatch: the server's certificate does not hash to the ID
	// the client meant to reach (its key changed, or another machine
	// answers at that address).
	ErrPeerMismatch = errors.New("peer is not the node expected")
	// ErrUntrusted: the client's ID is not in the server's trust store.
	// Only the server sees it; the client sees the handshake fail with a
	// "bad certificate" alert when it first reads.
	ErrUntrusted = errors.New("peer is not trusted")
)

// recordTimeout bounds how long a refused handshake waits to record its
// pending request.
const recordTimeout = 2 * time.Second

// PeerID returns the ID of the other end's leaf certificate; the zero ID
// when it sent none.
func PeerID(state tls.ConnectionState) ID {
	if len(state.PeerCertificates) == 0 {
		return ID{}
	}
	return IDFromCertificate(state.PeerCertificates[0].Raw)
}

// ServerConfig is the TLS configuration for the replication listener:
// TLS 1.3 only, the node's certificate, a certificate required from every
// client, and the handshake completed only for clients whose ID store
// trusts. An untrusted client is recorded as a pending request, logged
// through the store's logger, and refused before the server sends any
// application data. Certificates are never checked against a CA.
func ServerConfig(id *Identity, store *TrustStore) *tls.Config {
	base := &tls.Config{
		Certificates:           []tls.Certificate{id.Certificate},
		ClientAuth:             tls.RequireAnyClientCert,
		MinVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyClient(context.Background(), store, cs, "")
		},
	}
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		addr := ""
		if hello.Conn != nil {
			addr = hello.Conn.RemoteAddr().String()
		}
		c := base.Clone()
		c.GetConfigForClient = nil
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyClient(hello.Context(), store, cs, addr)
		}
		return c, nil
	}
	return base
}

// verifyClient accepts a trusted client and records any other.
func verifyClient(ctx context.Context, store *TrustStore, cs tls.ConnectionState, addr string) error {
	peer := PeerID(cs)
	if peer.IsZero() {
		return fmt.Errorf("client at %s sent no certificate: %w", addr, ErrUntrusted)
	}
	if store.IsTrusted(peer) {
		return nil
	}
	name := cs.PeerCertificates[0].Subject.CommonName
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	outcome, err := store.recordPending(ctx, PendingRequest{ID: peer, Name: name, Address: addr})
	log := store.log.With("id", peer.String(), "name", cleanText(name, maxNameLen), "addr", addr)
	switch {
	case err != nil:
		log.Error("refused replication from an untrusted node and could not record its request", "err", err)
	case outcome == pendingNew:
		log.Warn("refused replication from an untrusted node; to allow it: budgie trust add " + peer.String())
	case outcome == pendingRepeat:
		log.Info("refused replication from an untrusted node again")
	case outcome == pendingThrottled:
		log.Debug("refused replication from an untrusted node again (not recorded: it just was)")
	default:
		log.Debug("refused replication from a denied node")
	}
	return fmt.Errorf("node %s (%q) at %s is not trusted (budgie trust add %s): %w", peer.Short(), cleanText(name, maxNameLen), addr, peer, ErrUntrusted)
}

// ClientConfig is the TLS configuration for dialing the node expectPeer
// (for example the ID it announced over mDNS): TLS 1.3 only, this node's
// certificate, and the server accepted only when its certificate hashes
// to expectPeer — otherwise the handshake fails with an error wrapping
// ErrPeerMismatch. A zero expectPeer matches no server. Whether
// expectPeer should be trusted is the caller's decision (see
// TrustStore.IsTrusted).
func ClientConfig(id *Identity, expectPeer ID) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{id.Certificate},
		MinVersion:   tls.VersionTLS13,
		// Chain and host name checks are replaced by pinning the ID in
		// VerifyConnection, which runs regardless of this setting.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			got := PeerID(cs)
			switch {
			case expectPeer.IsZero():
				return fmt.Errorf("dial a node: no expected node ID given: %w", ErrPeerMismatch)
			case got != expectPeer:
				return fmt.Errorf("the node answering is %s, not the expected %s (its identity changed, or another machine took its address): %w",
					got.Short(), expectPeer.Short(), ErrPeerMismatch)
			}
			return nil
		},
	}
}
