package discovery

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Interfaces returns the interfaces to announce and browse on: the named
// ones (each must exist, be up and do multicast), or, when names is empty,
// every up, multicast-capable, non-loopback interface with an IPv4 address.
func Interfaces(names []string) ([]net.Interface, error) {
	if len(names) > 0 {
		out := make([]net.Interface, 0, len(names))
		for _, name := range names {
			ifi, err := net.InterfaceByName(name)
			if err != nil {
				return nil, fmt.Errorf("discovery interface %q: %w (see: ip link; config key discovery.interfaces): %w", name, err, errdefs.ErrInvalid)
			}
			if !usable(*ifi) {
				return nil, fmt.Errorf("discovery interface %q is down or cannot multicast: %w", name, errdefs.ErrInvalid)
			}
			out = append(out, *ifi)
		}
		return out, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []net.Interface
	for _, ifi := range all {
		if usable(ifi) && ifi.Flags&net.FlagLoopback == 0 && len(ipv4Prefixes(ifi)) > 0 {
			out = append(out, ifi)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no up, multicast-capable network interface with an IPv4 address (set discovery.interfaces): %w", errdefs.ErrUnavailable)
	}
	return out, nil
}

func usable(ifi net.Interface) bool {
	return ifi.Flags&net.FlagUp != 0 && ifi.Flags&net.FlagMulticast != 0
}

// ipv4Prefixes returns the interface's IPv4 addresses with their subnets.
func ipv4Prefixes(ifi net.Interface) []netip.Prefix {
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ones, _ := n.Mask.Size()
		if p, err := netip.AddrFrom4([4]byte(n.IP.To4())).Prefix(ones); err == nil {
			out = append(out, p)
		}
	}
	return out
}
