//go:build integration

package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

func TestMain(m *testing.M) {
	if err := prerequisites(); err != nil {
		fmt.Fprintln(os.Stderr, "network integration tests:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func prerequisites() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("must run as root")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := findTool(tool, ""); err != nil {
			return err
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		return fmt.Errorf("busybox-static missing: %w", err)
	}
	m := &Manager{pluginDirs: DefaultPluginDirs}
	return m.checkPlugins()
}

// suffix is a random hex string that keeps test resources unique.
func suffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// subnetBase and subnetSeq hand out distinct 10.199.X.0/24 subnets.
var (
	subnetBase = func() uint32 { b := make([]byte, 1); _, _ = rand.Read(b); return uint32(b[0] % 128) }()
	subnetSeq  atomic.Uint32
)

func nextTestSubnet() string {
	return fmt.Sprintf("10.199.%d.0/24", (subnetBase+subnetSeq.Add(1))%250)
}

// testManager opens a Manager on a temporary DataDir.
func testManager(t *testing.T) *Manager {
	t.Helper()
	m, err := Open(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testNetwork creates a uniquely named network on a fresh 10.199.X.0/24
// and removes it (with its leases, bridge and rules) when the test ends.
func testNetwork(t *testing.T, m *Manager, internal bool) models.Network {
	t.Helper()
	ctx := context.Background()
	n, err := m.Create(ctx, "nettest-"+suffix(), CreateOptions{Subnet: nextTestSubnet(), Internal: internal})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		leases, _ := m.leases(n.Name)
		for _, l := range leases {
			_ = m.Detach(ctx, DetachOptions{ContainerID: l.ContainerID, Network: n.Name, IfName: l.IfName})
		}
		if err := m.Remove(ctx, n.Name); err != nil {
			t.Errorf("cleanup: %v", err)
			_ = removeRules(ctx, n)
			_ = deleteLink(ctx, n.Bridge)
		}
	})
	return n
}

// netns is a network namespace standing in for a container.
type netns struct {
	name string
	path string
}

func newNetns(t *testing.T) netns {
	t.Helper()
	name := "budgie-nettest-" + suffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return netns{name: name, path: "/var/run/netns/" + name}
}

// run runs a command inside the namespace, bounded by timeout.
func (ns netns) run(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, args...)...).CombinedOutput()
	return string(out), err
}

// ping reports whether one ICMP echo to ip is answered within a second.
func (ns netns) ping(ip string) bool {
	_, err := ns.run(5*time.Second, "/bin/busybox", "ping", "-c", "1", "-W", "1", ip)
	return err == nil
}

// serve answers one TCP connection on port with "pong" until the test ends.
func (ns netns) serve(t *testing.T, port int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.name,
		"/bin/busybox", "nc", "-ll", "-p", fmt.Sprint(port), "-e", "/bin/busybox", "echo", "pong")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	time.Sleep(200 * time.Millisecond) // let nc bind
}

// dial reports whether a TCP connection to ip:port gets "pong" back.
func (ns netns) dial(ip string, port int) bool {
	out, err := ns.run(5*time.Second, "/bin/busybox", "nc", "-w", "2", ip, fmt.Sprint(port))
	return err == nil && strings.Contains(out, "pong")
}

func attach(t *testing.T, m *Manager, n models.Network, ns netns) models.Endpoint {
	t.Helper()
	ep, err := m.Attach(context.Background(), AttachOptions{
		ContainerID: "c-" + ns.name, ContainerName: ns.name, Network: n.Name, NetNS: ns.path,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}
