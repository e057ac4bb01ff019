package network

import (
	"cmp"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// HostEntry is one line of a hosts file: an address and its names.
type HostEntry struct {
	// IP is the address, without prefix length.
	IP string
	// Names are the host names; an entry without names is left out.
	Names []string
}

// Hosts is a container's /etc/hosts beyond the localhost lines.
type Hosts struct {
	// Self are the container's own addresses, written first in the given
	// order (the first is what its names resolve to).
	Self []HostEntry
	// Peers are the containers it shares a network with; they are written
	// sorted by first name, then address, without duplicates.
	Peers []HostEntry
}

const hostsHeader = "# Written by Budgie; rewritten whenever a container on a shared network starts or stops.\n" +
	"127.0.0.1\tlocalhost\n" +
	"::1\tlocalhost ip6-localhost ip6-loopback\n"

// Render returns the hosts file's text.
func (h Hosts) Render() (string, error) {
	var b strings.Builder
	b.WriteString(hostsHeader)
	peers := slices.Clone(h.Peers)
	slices.SortStableFunc(peers, func(a, b HostEntry) int {
		return cmp.Or(strings.Compare(firstName(a), firstName(b)), compareIPs(a.IP, b.IP))
	})
	seen := map[string]bool{}
	for _, e := range append(slices.Clone(h.Self), peers...) {
		names := slices.DeleteFunc(slices.Clone(e.Names), func(n string) bool { return strings.TrimSpace(n) == "" })
		if len(names) == 0 {
			continue
		}
		if _, err := netip.ParseAddr(e.IP); err != nil {
			return "", fmt.Errorf("hosts entry %q for %s: not an IP address: %w", e.IP, strings.Join(names, " "), errdefs.ErrInvalid)
		}
		line := e.IP + "\t" + strings.Join(names, " ") + "\n"
		if !seen[line] {
			seen[line] = true
			b.WriteString(line)
		}
	}
	return b.String(), nil
}

func firstName(e HostEntry) string {
	if len(e.Names) == 0 {
		return ""
	}
	return e.Names[0]
}

func compareIPs(a, b string) int {
	x, errx := netip.ParseAddr(a)
	y, erry := netip.ParseAddr(b)
	if errx != nil || erry != nil {
		return strings.Compare(a, b)
	}
	return x.Compare(y)
}

// WriteHosts writes h to the hosts file at path, creating it when missing.
// An existing file is rewritten in place (truncated, written, synced),
// never replaced by a rename, because the bind mount that shows it to a
// container as /etc/hosts pins its inode.
func WriteHosts(path string, h Hosts) error {
	text, err := h.Render()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts file: %w", err)
	}
	_, err = f.WriteString(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write hosts file %s: %w", path, err)
	}
	return nil
}
