//go:build integration

package discovery_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// counter counts the mDNS packets multicast on a lab's bridge: a socket
// on port 5353 in one node's namespace, joined to the group on its lab
// interface, sees every node's packets (its own node's by loopback).
type counter struct {
	n    atomic.Int64
	conn net.PacketConn
}

// countMDNS starts a counter in network namespace netns (under /run/netns).
func countMDNS(tb testing.TB, netns string) *counter {
	tb.Helper()
	type result struct {
		c   net.PacketConn
		err error
	}
	res := make(chan result, 1)
	go func() {
		// The thread stays in the namespace and dies with this goroutine.
		goruntime.LockOSThread()
		c, err := inNetNS(netns, func() (net.PacketConn, error) {
			lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
				return rc.Control(func(fd uintptr) {
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
					_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
				})
			}}
			c, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
			if err != nil {
				return nil, err
			}
			ifi, err := net.InterfaceByName(testkit.LabIface)
			if err == nil {
				err = ipv4.NewPacketConn(c).JoinGroup(ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251)})
			}
			if err != nil {
				c.Close()
			}
			return c, err
		})
		res <- result{c, err}
	}()
	r := <-res
	if r.err != nil {
		tb.Fatalf("mdns counter in %s: %v", netns, r.err)
	}
	ct := &counter{conn: r.c}
	go func() {
		buf := make([]byte, 9000)
		for {
			if _, _, err := r.c.ReadFrom(buf); err != nil {
				return
			}
			ct.n.Add(1)
		}
	}()
	tb.Cleanup(func() { r.c.Close() })
	return ct
}

// inNetNS runs f with the calling (locked) thread in netns.
func inNetNS[T any](netns string, f func() (T, error)) (T, error) {
	var zero T
	fd, err := os.Open("/run/netns/" + netns)
	if err != nil {
		return zero, err
	}
	defer fd.Close()
	if err := unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET); err != nil {
		return zero, err
	}
	return f()
}

// cpuTicks returns the user+system clock ticks process pid has used.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times.
const clockTicks = 100

// keeperPID finds the keeper (`budgie … serve`) running in netns.
func keeperPID(netns string) (int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	nsIno, err := os.Stat("/run/netns/" + netns)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		if len(args) == 0 || filepath.Base(args[0]) != "budgie" || args[len(args)-1] != "serve" {
			continue
		}
		st, err := os.Stat(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err == nil && os.SameFile(st, nsIno) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no keeper runs in %s", netns)
}

// BenchmarkIdleMulticast runs 20 containers on node1 of the 3-node lab,
// lets discovery settle for 20 s and then counts every mDNS packet on the
// lab's bridge for 60 s; it reports packets per second for the whole LAN
// (idle-pkts/s) and node1's keeper CPU over the window (keeper-cpu-%).
func BenchmarkIdleMulticast(b *testing.B) {
	lab := sharedLab(b)
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("idle-%02d", i)
	}
	ids, _ := runContainers(b, lab.Nodes[0], names...)
	b.Cleanup(func() { removeAll(b, lab) })
	for _, n := range lab.Nodes[1:] {
		waitListed(b, n, ids)
	}
	time.Sleep(20 * time.Second)
	pid, err := keeperPID(lab.Nodes[0].NetNS)
	if err != nil {
		b.Fatal(err)
	}
	ct := countMDNS(b, lab.Nodes[1].NetNS)
	window := 60 * time.Second
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before, start := ct.n.Load(), time.Now()
		cpu0, _ := cpuTicks(pid)
		time.Sleep(window)
		cpu1, _ := cpuTicks(pid)
		secs := time.Since(start).Seconds()
		pkts := float64(ct.n.Load()-before) / secs
		b.ReportMetric(pkts, "idle-pkts/s")
		b.ReportMetric(float64(cpu1-cpu0)/clockTicks/secs*100, "keeper-cpu-%")
		b.Logf("3 nodes, 20 containers on node1: %d packets in %.0f s", ct.n.Load()-before, secs)
	}
	for _, n := range lab.Nodes[1:] {
		if got := countContainers(peers(b, n).Nodes, ids); got != len(ids) {
			b.Errorf("%s lists %d of %d containers after the idle window", n.Name, got, len(ids))
		}
	}
}

// mdnsSockets counts the UDP sockets on port 5353 that process pid holds.
func mdnsSockets(pid int) (int, error) {
	table, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "net", "udp"))
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, l := range strings.Split(string(table), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) > 9 && strings.HasSuffix(f[1], ":14E9") {
			inodes["socket:["+f[9]+"]"] = true
		}
	}
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name())); err == nil && inodes[link] {
			n++
		}
	}
	return n, nil
}
