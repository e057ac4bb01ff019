package network

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// BridgePrefix starts every Budgie bridge's name; iptables matches them all
// as "budgie+".
const BridgePrefix = "budgie"

// maxNameLen bounds network names (they become file names).
const maxNameLen = 64

// reservedNames cannot be created: "host" is the host's namespace and
// "none" means loopback only.
var reservedNames = []string{models.HostNetwork, "none"}

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// ValidateName checks a network name against Docker's rules: a letter or
// digit, then letters, digits, '_', '.' and '-'. It fails with ErrInvalid.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("network name is empty: %w", errdefs.ErrInvalid)
	case len(name) > maxNameLen:
		return fmt.Errorf("network name %.20q... is longer than %d characters: %w", name, maxNameLen, errdefs.ErrInvalid)
	case !nameRE.MatchString(name):
		return fmt.Errorf("network name %q is invalid (use letters, digits, '_', '.' and '-', starting with a letter or digit): %w",
			name, errdefs.ErrInvalid)
	}
	for _, r := range reservedNames {
		if strings.EqualFold(name, r) {
			return fmt.Errorf("network name %q is reserved: %w", name, errdefs.ErrInvalid)
		}
	}
	return nil
}

// BridgeName is the bridge of network name: budgie0 for the default
// network, otherwise "budgie-" and 8 hex digits of the name's SHA-256.
func BridgeName(name string) string {
	if name == models.DefaultNetwork {
		return DefaultBridge
	}
	sum := sha256.Sum256([]byte(name))
	return BridgePrefix + "-" + hex.EncodeToString(sum[:])[:8]
}

// plan builds a new network's definition, checking it against the
// existing networks and (for automatic subnets only) the host's own
// subnets.
func plan(name string, opts CreateOptions, existing []models.Network, host []netip.Prefix) (models.Network, error) {
	n := models.Network{Name: name, Bridge: BridgeName(name), Internal: opts.Internal, Created: time.Now().UTC()}
	for _, e := range existing {
		if e.Bridge == n.Bridge {
			return n, fmt.Errorf("bridge %s of network %s would also serve %s (rename the network): %w",
				n.Bridge, e.Name, name, errdefs.ErrConflict)
		}
	}
	var subnet netip.Prefix
	if opts.Subnet == "" {
		if opts.Gateway != "" {
			return n, fmt.Errorf("gateway %s given without a subnet (add --subnet): %w", opts.Gateway, errdefs.ErrInvalid)
		}
		var err error
		if subnet, err = nextSubnet(existing, host); err != nil {
			return n, err
		}
	} else {
		var err error
		if subnet, err = ParseSubnet(opts.Subnet); err != nil {
			return n, err
		}
		if other, ok := overlapping(subnet, existing); ok {
			return n, fmt.Errorf("subnet %s overlaps network %s (%s) (choose another --subnet): %w",
				subnet, other.Name, other.Subnet, errdefs.ErrConflict)
		}
	}
	gw, err := gatewayFor(subnet, opts.Gateway)
	if err != nil {
		return n, err
	}
	n.Subnet, n.Gateway = subnet.String(), gw.String()
	return n, nil
}

// ParseSubnet parses an IPv4 CIDR whose host bits are zero and that holds at
// least two host addresses. It fails with ErrInvalid.
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, fmt.Errorf("subnet %q is not a CIDR like 10.30.0.0/24: %w", s, errdefs.ErrInvalid)
	}
	if !p.Addr().Is4() {
		return p, fmt.Errorf("subnet %s: only IPv4 subnets are supported: %w", s, errdefs.ErrInvalid)
	}
	if p.Masked() != p {
		return p, fmt.Errorf("subnet %s has host bits set (did you mean %s?): %w", s, p.Masked(), errdefs.ErrInvalid)
	}
	if p.Bits() > 30 || p.Bits() < 8 {
		return p, fmt.Errorf("subnet %s: the prefix length must be between /8 and /30: %w", s, errdefs.ErrInvalid)
	}
	return p, nil
}

// gatewayFor checks gw (or picks the first host address when it is empty):
// it must be a host address inside subnet.
func gatewayFor(subnet netip.Prefix, gw string) (netip.Addr, error) {
	if gw == "" {
		return subnet.Addr().Next(), nil
	}
	a, err := netip.ParseAddr(gw)
	if err != nil || !a.Is4() {
		return a, fmt.Errorf("gateway %q is not an IPv4 address: %w", gw, errdefs.ErrInvalid)
	}
	if !subnet.Contains(a) {
		return a, fmt.Errorf("gateway %s is outside subnet %s: %w", a, subnet, errdefs.ErrInvalid)
	}
	if a == subnet.Addr() || a == lastAddr(subnet) {
		return a, fmt.Errorf("gateway %s is the network or broadcast address of %s: %w", a, subnet, errdefs.ErrInvalid)
	}
	return a, nil
}

// lastAddr is the broadcast address of an IPv4 prefix.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// overlapping returns the first existing network whose subnet overlaps p.
func overlapping(p netip.Prefix, existing []models.Network) (models.Network, bool) {
	for _, e := range existing {
		q, err := netip.ParsePrefix(e.Subnet)
		if err == nil && q.Overlaps(p) {
			return e, true
		}
	}
	return models.Network{}, false
}

// nextSubnet picks the first of 172.21.0.0/16 … 172.31.0.0/16, then
// 192.168.0.0/24 … 192.168.255.0/24, that overlaps neither a network nor a
// host subnet.
func nextSubnet(existing []models.Network, host []netip.Prefix) (netip.Prefix, error) {
	var candidates []netip.Prefix
	for i := 21; i <= 31; i++ {
		candidates = append(candidates, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(i), 0, 0}), 16))
	}
	for i := 0; i <= 255; i++ {
		candidates = append(candidates, netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 168, byte(i), 0}), 24))
	}
	for _, c := range candidates {
		if _, taken := overlapping(c, existing); taken {
			continue
		}
		if overlapsAny(c, host) {
			continue
		}
		return c, nil
	}
	return netip.Prefix{}, fmt.Errorf("no free subnet left in 172.21-31.0.0/16 or 192.168.0-255.0/24 (give one with --subnet): %w",
		errdefs.ErrConflict)
}

func overlapsAny(p netip.Prefix, ps []netip.Prefix) bool {
	for _, q := range ps {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}

// hostSubnets lists the IPv4 subnets on the host's interfaces other than
// loopback and Budgie's own bridges, which automatic subnets avoid.
func hostSubnets() []netip.Prefix {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 || strings.HasPrefix(ifc.Name, BridgePrefix) {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			ones, _ := ipn.Mask.Size()
			addr, _ := netip.AddrFromSlice(ipn.IP.To4())
			out = append(out, netip.PrefixFrom(addr, ones).Masked())
		}
	}
	return out
}
