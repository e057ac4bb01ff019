package discovery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// mdnsPort is the mDNS port; mdnsGroup is the IPv4 group.
const mdnsPort = 5353

var mdnsGroup = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: mdnsPort}

// recvBuffer is the socket receive buffer asked for: a node joining a
// large LAN receives hundreds of answer packets at once.
const recvBuffer = 4 << 20

// conn is one mDNS socket on one interface: bound to port 5353 (shared
// with other mDNS software through SO_REUSEADDR/SO_REUSEPORT), joined to
// 224.0.0.251 on that interface only, multicasting there with TTL 255.
type conn struct {
	ifi     net.Interface
	pc      *ipv4.PacketConn
	udp     net.PacketConn
	payload int // largest datagram sent
	nets    []netip.Prefix
}

// listen opens an mDNS socket on ifi.
func listen(ifi net.Interface) (*conn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = setSockopts(int(fd))
		})
		return errors.Join(err, serr)
	}}
	udp, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", mdnsPort))
	if err != nil {
		return nil, fmt.Errorf("mdns socket on %s: %w", ifi.Name, err)
	}
	pc := ipv4.NewPacketConn(udp)
	c := &conn{ifi: ifi, pc: pc, udp: udp, payload: defaultPayload, nets: prefixes(ifi)}
	if ifi.MTU > 0 {
		c.payload = min(max(ifi.MTU-28, legacyPayload), maxPacket)
	}
	err = errors.Join(
		pc.JoinGroup(&ifi, mdnsGroup),
		pc.SetMulticastInterface(&ifi),
		pc.SetMulticastTTL(255),
		pc.SetMulticastLoopback(true),
		pc.SetControlMessage(ipv4.FlagInterface, true),
	)
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("mdns socket on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// setSockopts lets other mDNS software share the port, keeps the socket
// to the groups it joined itself, and enlarges its receive buffer.
func setSockopts(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return err
	}
	// Without this Linux delivers every group joined on any interface.
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, recvBuffer) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, recvBuffer)
	}
	return nil
}

// packet is one datagram received on the conn's interface.
type packet struct {
	data []byte
	src  netip.AddrPort
}

// read returns the next datagram that arrived on the conn's interface;
// others (the socket may see some) are skipped, and so are transient
// read errors. It fails once the conn is closed.
func (c *conn) read(buf []byte) (packet, error) {
	for {
		n, cm, src, err := c.pc.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return packet{}, err
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if cm != nil && cm.IfIndex != 0 && cm.IfIndex != c.ifi.Index {
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		ap := ua.AddrPort()
		return packet{data: buf[:n], src: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}, nil
	}
}

// multicast sends b to the group on the conn's interface.
func (c *conn) multicast(b []byte) error {
	_, err := c.pc.WriteTo(b, nil, mdnsGroup)
	return err
}

// unicast sends b to dst, only when dst is on the interface's own
// subnets (RFC 6762 §11: answers stay on the link).
func (c *conn) unicast(b []byte, dst netip.AddrPort) error {
	if !c.onLink(dst.Addr()) {
		return fmt.Errorf("%s is not on %s's subnets", dst.Addr(), c.ifi.Name)
	}
	_, err := c.udp.WriteTo(b, net.UDPAddrFromAddrPort(dst))
	return err
}

func (c *conn) onLink(a netip.Addr) bool {
	for _, p := range c.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// onLinkSelf reports whether a is one of the interface's own addresses.
func (c *conn) onLinkSelf(a netip.Addr) bool {
	for _, p := range c.nets {
		if p.Addr() == a {
			return true
		}
	}
	return false
}

// firstIPv4 returns the interface's first IPv4 address, or nil.
func (c *conn) firstIPv4() net.IP {
	if len(c.nets) == 0 {
		return nil
	}
	return net.IP(c.nets[0].Addr().AsSlice())
}

func (c *conn) close() error { return c.udp.Close() }

// prefixes returns the interface's IPv4 subnets.
func prefixes(ifi net.Interface) []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ip, _ := netip.AddrFromSlice(n.IP.To4())
		ones, _ := n.Mask.Size()
		out = append(out, netip.PrefixFrom(ip, ones))
	}
	return out
}
