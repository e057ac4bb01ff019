package discovery

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// LookupWait bounds a LookupHost: how long it waits for any responder
// when the context allows longer. The query is sent again halfway.
const LookupWait = 2 * time.Second

// maxLookupPacket bounds one datagram read while waiting for an answer.
const maxLookupPacket = 9000

// IsLocalName reports whether host is a multicast DNS name (one ending in
// ".local", RFC 6762), which LookupHost resolves; an IP address is not.
func IsLocalName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	return len(host) > len(".local") && strings.HasSuffix(strings.ToLower(host), ".local")
}

// LookupHost resolves a ".local" host name to its IPv4 addresses with a
// one-shot multicast DNS query (RFC 6762 §5.1), as nss-mdns does for libc:
// the question goes to 224.0.0.251:5353 on every interface Interfaces(nil)
// returns, from an ephemeral port, and the first answer wins. Budgie's
// binary is static and its resolver pure Go, which sends ".local" to
// unicast DNS; registry connections to such names go through this.
//
// Answers are hostile input: only a response to this query's ID, from
// port 5353 and a source on one of those interfaces' subnets, naming the
// asked name, counts; a datagram is read into a bounded buffer. It waits
// at most LookupWait (less when ctx ends first) and returns an error
// wrapping errdefs.ErrNotFound when no responder answered.
func LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !IsLocalName(name) || len(name) > 253 {
		return nil, fmt.Errorf("%q is not a .local host name: %w", host, errdefs.ErrInvalid)
	}
	if !hostLabels(name) {
		return nil, fmt.Errorf("%q is not a valid host name (labels of letters, digits and inner hyphens, 1 to 63 each): %w", host, errdefs.ErrInvalid)
	}
	ifis, err := Interfaces(nil)
	if err != nil {
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, err)
	}
	udp, err := net.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, err)
	}
	defer udp.Close()
	start := time.Now()
	deadline := start.Add(LookupWait)
	d, bounded := ctx.Deadline()
	if bounded = bounded && d.Before(deadline); bounded {
		deadline = d // the caller's deadline ends the wait: report it as such
	}
	stop := context.AfterFunc(ctx, func() { _ = udp.SetReadDeadline(time.Now()) })
	defer stop()

	q, id, err := lookupQuery(name)
	if err != nil {
		return nil, err
	}
	ask := func() error { return sendLookup(udp, ifis, q) }
	if err := ask(); err != nil {
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, err)
	}
	links := onLinkPrefixes(ifis)
	addrs, err := awaitLookup(ctx, udp, ask, deadline, func(b []byte, src netip.AddrPort) []netip.Addr {
		return lookupAnswer(b, src, id, name, links)
	})
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, ctx.Err())
	case errors.Is(err, errdefs.ErrNotFound) && bounded: // the read's deadline may fire before ctx's timer
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, context.DeadlineExceeded)
	case errors.Is(err, errdefs.ErrNotFound):
		return nil, fmt.Errorf("no multicast DNS responder on the LAN answered for %s within %s (is the host up, and does it answer mDNS, as avahi-daemon does?): %w",
			name, time.Since(start).Round(100*time.Millisecond), err)
	case err != nil:
		return nil, fmt.Errorf("look up %s by multicast DNS: %w", name, err)
	}
	return addrs, nil
}

// awaitLookup reads datagrams from udp until answer finds addresses in
// one, asking once more halfway to deadline; it returns errdefs.ErrNotFound
// at deadline and ctx's error once ctx ended (the caller's AfterFunc cuts
// a read short; the check after each SetReadDeadline keeps a later one
// from undoing that cut).
func awaitLookup(ctx context.Context, udp *net.UDPConn, ask func() error, deadline time.Time, answer func([]byte, netip.AddrPort) []netip.Addr) ([]netip.Addr, error) {
	resend := time.Now().Add(time.Until(deadline) / 2)
	buf := make([]byte, maxLookupPacket)
	for {
		wait := deadline
		if !resend.IsZero() {
			wait = resend
		}
		if err := udp.SetReadDeadline(wait); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		n, src, err := udp.ReadFromUDPAddrPort(buf)
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &ne) && ne.Timeout() && !resend.IsZero() && time.Now().Before(deadline):
			resend = time.Time{}
			_ = ask()
		case errors.As(err, &ne) && ne.Timeout():
			return nil, errdefs.ErrNotFound
		case err != nil:
			return nil, err
		default:
			if addrs := answer(buf[:n], src); len(addrs) > 0 {
				return addrs, nil
			}
		}
	}
}

// hostLabels reports whether every dot-separated label of name is a host
// name label (RFC 1123): 1–63 letters, digits or hyphens, no hyphen at
// either end.
func hostLabels(name string) bool {
	for _, l := range strings.Split(name, ".") {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// lookupQuery builds the one-shot question for name's A records.
func lookupQuery(name string) ([]byte, uint16, error) {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, 0, err
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	m.Id = binary.BigEndian.Uint16(b[:])
	m.RecursionDesired = false
	q, err := m.Pack()
	if err != nil {
		return nil, 0, fmt.Errorf("encode the query for %s: %w", name, err)
	}
	return q, m.Id, nil
}

// sendLookup multicasts q on each interface, succeeding when any send did.
func sendLookup(udp *net.UDPConn, ifis []net.Interface, q []byte) error {
	pc := ipv4.NewPacketConn(udp)
	_ = pc.SetMulticastTTL(255)
	dst := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	var errs []error
	sent := false
	for _, ifi := range ifis {
		err := pc.SetMulticastInterface(&ifi)
		if err == nil {
			_, err = pc.WriteTo(q, nil, dst)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("send on %s: %w", ifi.Name, err))
			continue
		}
		sent = true
	}
	if sent {
		return nil
	}
	return errors.Join(errs...)
}

// onLinkPrefixes are the IPv4 subnets of ifis: where an answer may come from.
func onLinkPrefixes(ifis []net.Interface) []netip.Prefix {
	var out []netip.Prefix
	for _, ifi := range ifis {
		out = append(out, ipv4Prefixes(ifi)...)
	}
	return out
}

// lookupAnswer returns the addresses an answer gives name, or none when
// the datagram is not a well-formed response to query id from an on-link
// responder's port 5353.
func lookupAnswer(b []byte, src netip.AddrPort, id uint16, name string, links []netip.Prefix) []netip.Addr {
	if src.Port() != 5353 {
		return nil
	}
	from := src.Addr().Unmap()
	onLink := false
	for _, p := range links {
		onLink = onLink || p.Contains(from)
	}
	if !onLink {
		return nil
	}
	m := new(dns.Msg)
	if m.Unpack(b) != nil || !m.Response || m.Id != id || m.Rcode != dns.RcodeSuccess {
		return nil
	}
	var out []netip.Addr
	for _, rr := range append(m.Answer, m.Extra...) {
		a, ok := rr.(*dns.A)
		if !ok || !strings.EqualFold(strings.TrimSuffix(a.Hdr.Name, "."), name) {
			continue
		}
		if addr, ok := netip.AddrFromSlice(a.A.To4()); ok && addr.IsValid() && !addr.IsUnspecified() && !addr.IsMulticast() {
			out = append(out, addr)
		}
	}
	return out
}
