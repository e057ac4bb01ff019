package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/budgie-sh/budgie/models"
)

// Leases returns every address lease on the node's networks (from
// host-local's files in DataDir/cni/ipam), sorted by network, then address.
// The endpoints have no ContainerName or MAC: leases do not record them.
func (m *Manager) Leases(ctx context.Context) ([]models.Endpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.leases("")
}

// leases reads the leases of network (all networks when it is "").
// host-local names each lease file after its address and writes the
// container ID and interface name into it, separated by "\r\n".
func (m *Manager) leases(network string) ([]models.Endpoint, error) {
	nets := []string{network}
	if network == "" {
		entries, err := os.ReadDir(m.ipamRoot())
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read leases: %w", err)
		}
		nets = nets[:0]
		for _, e := range entries {
			if e.IsDir() {
				nets = append(nets, e.Name())
			}
		}
	}
	var out []models.Endpoint
	for _, name := range nets {
		eps, err := m.networkLeases(name)
		if err != nil {
			return nil, err
		}
		out = append(out, eps...)
	}
	return out, nil
}

func (m *Manager) networkLeases(name string) ([]models.Endpoint, error) {
	dir := m.ipamDir(name)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read leases of network %s: %w", name, err)
	}
	n, _ := m.read(m.defPath(name)) // zero when the definition is gone
	var out []models.Endpoint
	for _, e := range entries {
		addr, err := netip.ParseAddr(e.Name())
		if err != nil || e.IsDir() {
			continue // host-local's lock and last_reserved_ip files
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read lease %s of network %s: %w", e.Name(), name, err)
		}
		id, ifname := parseLease(string(b))
		out = append(out, models.Endpoint{
			Network: name, ContainerID: id, IfName: ifname, IP: addr.String(),
			PrefixLen: prefixOf(n), Gateway: n.Gateway,
		})
	}
	slices.SortFunc(out, func(a, b models.Endpoint) int {
		return netip.MustParseAddr(a.IP).Compare(netip.MustParseAddr(b.IP))
	})
	return out, nil
}

// parseLease splits a lease file into container ID and interface name;
// files from plugins older than 0.9 hold only the ID (for eth0).
func parseLease(s string) (id, ifname string) {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	if len(lines) == 0 {
		return "", ""
	}
	if len(lines) == 1 {
		return strings.TrimSpace(lines[0]), DefaultIfName
	}
	return strings.TrimSpace(lines[0]), strings.TrimSpace(lines[1])
}

// removeLeaseFile deletes lease l directly, for networks whose definition
// (and so CNI list) is gone.
func (m *Manager) removeLeaseFile(l models.Endpoint) error {
	err := os.Remove(filepath.Join(m.ipamDir(l.Network), l.IP))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("release %s on network %s: %w", l.IP, l.Network, err)
	}
	return nil
}
