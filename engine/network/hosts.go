package network

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

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
	peers := h.Peers
	if !slices.IsSortedFunc(peers, comparePeers) { // a caller may sort once for many files
		peers = slices.Clone(peers)
		slices.SortStableFunc(peers, comparePeers)
	}
	var b strings.Builder
	b.Grow(len(hostsHeader) + 40*(len(h.Self)+len(peers)))
	b.WriteString(hostsHeader)
	seen := make(map[string]bool, len(h.Self)+len(peers))
	for _, list := range [][]HostEntry{h.Self, peers} {
		for _, e := range list {
			names := e.Names
			if slices.ContainsFunc(names, blank) {
				names = slices.DeleteFunc(slices.Clone(names), blank)
			}
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
	}
	return b.String(), nil
}

// SortPeers sorts entries in the order Render writes peers: by first
// name, then address.
func SortPeers(entries []HostEntry) { slices.SortStableFunc(entries, comparePeers) }

func comparePeers(a, b HostEntry) int {
	if c := strings.Compare(firstName(a), firstName(b)); c != 0 {
		return c
	}
	return compareIPs(a.IP, b.IP) // parsed only for a tie
}

func blank(name string) bool { return strings.TrimSpace(name) == "" }

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
// An existing file is rewritten in place (written, then cut to length), never
// replaced by a rename, because the bind mount that shows it to a
// container as /etc/hosts pins its inode; a file that already reads as h
// is left alone. It is not synced: every start of a container writes its
// hosts file again, so a file a crash cut short is rewritten before any
// task reads it.
func WriteHosts(path string, h Hosts) error {
	text, err := h.Render()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("write hosts file: %w", err)
	}
	defer f.Close()
	if readsAs(f, text) {
		return nil
	}
	// Written over, then cut to length: truncating to zero first would have
	// ext4 flush the file on close (auto_da_alloc), a disk wait per file.
	if _, err = f.WriteAt([]byte(text), 0); err == nil {
		err = f.Truncate(int64(len(text)))
	}
	if err != nil {
		return fmt.Errorf("write hosts file %s: %w", path, err)
	}
	return nil
}

// readsAs reports whether f holds exactly text, reading at most one byte
// more than text (the container may have written to its /etc/hosts).
func readsAs(f *os.File, text string) bool {
	buf := make([]byte, len(text)+1)
	n, err := io.ReadFull(f, buf)
	return n == len(text) && errors.Is(err, io.ErrUnexpectedEOF) && string(buf[:n]) == text ||
		len(text) == 0 && n == 0 && errors.Is(err, io.EOF)
}
