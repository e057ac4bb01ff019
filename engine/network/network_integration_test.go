//go:build integration

package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func TestSameNetworkReachable(t *testing.T) {
	m := testManager(t)
	n := testNetwork(t, m, false)
	a, b := newNetns(t), newNetns(t)
	epA, epB := attach(t, m, n, a), attach(t, m, n, b)

	subnet := netip.MustParsePrefix(n.Subnet)
	for _, ep := range []models.Endpoint{epA, epB} {
		if !subnet.Contains(netip.MustParseAddr(ep.IP)) || ep.PrefixLen != 24 || ep.Gateway != n.Gateway ||
			ep.MAC == "" || ep.IfName != "eth0" || ep.Network != n.Name {
			t.Fatalf("endpoint %+v does not fit network %+v", ep, n)
		}
	}
	if epA.IP == epB.IP {
		t.Fatalf("both got %s", epA.IP)
	}
	if !linkExists(n.Bridge) {
		t.Fatalf("bridge %s missing after attach", n.Bridge)
	}
	if out, err := a.run(5*time.Second, "ip", "-br", "link", "show", "lo"); err != nil || !strings.Contains(out, "UP") {
		t.Fatalf("lo is not up in the namespace: %v: %s", err, out)
	}
	if !a.ping("127.0.0.1") {
		t.Fatal("loopback does not answer")
	}
	if !a.ping(epB.IP) || !b.ping(epA.IP) {
		t.Fatalf("%s and %s on the same network cannot ping each other", epA.IP, epB.IP)
	}
	if !a.ping(n.Gateway) {
		t.Fatalf("gateway %s does not answer", n.Gateway)
	}
	a.serve(t, 7777)
	if !b.dial(epA.IP, 7777) {
		t.Fatalf("TCP from %s to %s:7777 failed", epB.IP, epA.IP)
	}
}

func TestNetworksIsolated(t *testing.T) {
	m := testManager(t)
	n1, n2 := testNetwork(t, m, false), testNetwork(t, m, false)
	a, c := newNetns(t), newNetns(t)
	epA, epC := attach(t, m, n1, a), attach(t, m, n2, c)
	if b, err := os.ReadFile(ipForwardPath); err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("ip_forward = %q, %v; want 1 (else isolation is not what stops the traffic)", b, err)
	}
	// Both have a default route to their gateway, and the host routes
	// between the bridges: only the isolation rules stop this.
	if !c.ping(n2.Gateway) {
		t.Fatalf("%s cannot reach its own gateway", epC.IP)
	}
	if c.ping(epA.IP) || a.ping(epC.IP) {
		t.Fatalf("containers on %s and %s reach each other", n1.Name, n2.Name)
	}
	a.serve(t, 7778)
	if c.dial(epA.IP, 7778) {
		t.Fatalf("TCP crossed from %s to %s", n2.Name, n1.Name)
	}
	// Proof that the rules, not routing, stopped it: an ACCEPT for just
	// these two bridges above them lets the traffic through.
	ctx := context.Background()
	hole := rule{"filter", IsolationChain, []string{"-i", n2.Bridge, "-o", n1.Bridge, "-j", "ACCEPT"}}
	back := rule{"filter", IsolationChain, []string{"-i", n1.Bridge, "-o", n2.Bridge, "-j", "ACCEPT"}}
	for _, r := range []rule{hole, back} {
		if err := ensureAt(ctx, r, true); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = deleteRules(ctx, []rule{r}) })
	}
	if !c.dial(epA.IP, 7778) {
		t.Fatal("TCP between the networks fails even with the isolation opened: the test proves nothing")
	}
	if err := deleteRules(ctx, []rule{hole, back}); err != nil {
		t.Fatal(err)
	}
	if c.ping(epA.IP) {
		t.Fatal("isolation did not come back after closing the hole")
	}
	// A second container on n1 still gets through: the DROP is between
	// bridges only.
	b := newNetns(t)
	attach(t, m, n1, b)
	if !b.dial(epA.IP, 7778) {
		t.Fatal("TCP within the network failed")
	}
}

// outside is a namespace reached from the host over a plain veth pair:
// "the world" for a container, without leaving the machine.
func outside(t *testing.T) (ns netns, ip string) {
	t.Helper()
	ns = newNetns(t)
	host, peer := "bnt-h"+suffix(), "bnt-p"+suffix()
	sub := netip.MustParsePrefix(nextTestSubnet())
	hostIP, nsIP := sub.Addr().Next(), sub.Addr().Next().Next()
	for _, args := range [][]string{
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", ns.name},
		{"addr", "add", hostIP.String() + "/24", "dev", host},
		{"link", "set", host, "up"},
		{"netns", "exec", ns.name, "ip", "addr", "add", nsIP.String() + "/24", "dev", peer},
		{"netns", "exec", ns.name, "ip", "link", "set", peer, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", host).Run() })
	return ns, nsIP.String()
}

func TestInternalHasNoWayOut(t *testing.T) {
	m := testManager(t)
	normal, internal := testNetwork(t, m, false), testNetwork(t, m, true)
	_, worldIP := outside(t)
	a, i := newNetns(t), newNetns(t)
	attach(t, m, normal, a)
	epI := attach(t, m, internal, i)

	// The normal network goes out (masqueraded: the world has no route back
	// to 10.199.X.0/24 otherwise).
	if !a.ping(worldIP) {
		t.Fatalf("a container on a normal network cannot reach %s", worldIP)
	}
	routes, err := i.run(5*time.Second, "ip", "route")
	if err != nil || strings.Contains(routes, "default") {
		t.Fatalf("internal container routes (%v):\n%s\nwant no default route", err, routes)
	}
	if i.ping(worldIP) {
		t.Fatal("internal container reached the outside without a route")
	}
	// Even a container that adds the route itself is dropped at the bridge.
	if out, err := i.run(5*time.Second, "ip", "route", "add", "default", "via", internal.Gateway); err != nil {
		t.Fatalf("add route: %v: %s", err, out)
	}
	if i.ping(worldIP) {
		t.Fatal("internal container reached the outside through its gateway")
	}
	// With the internal network's DROP rules gone (and a masquerade rule
	// like a normal network's) the same ping works: the rules are what
	// stopped it.
	ctx := context.Background()
	filter, _ := networkRules(internal)
	masq := rule{"nat", MasqueradeChain, []string{"-s", internal.Subnet, "!", "-o", internal.Bridge, "-j", "MASQUERADE"}}
	if err := deleteRules(ctx, filter[1:]); err != nil {
		t.Fatal(err)
	}
	if err := ensureAt(ctx, masq, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = deleteRules(ctx, []rule{masq}) })
	if !i.ping(worldIP) {
		t.Fatal("internal container cannot reach the outside even without its rules: the test proves nothing")
	}
	if err := deleteRules(ctx, []rule{masq}); err != nil {
		t.Fatal(err)
	}
	if err := ensureRules(ctx, internal); err != nil {
		t.Fatal(err)
	}
	if i.ping(worldIP) {
		t.Fatal("ensureRules did not restore the internal network's rules")
	}
	// It still reaches its own network.
	j := newNetns(t)
	attach(t, m, internal, j)
	if !j.ping(epI.IP) {
		t.Fatal("containers on the internal network cannot reach each other")
	}
}

func TestDetachAndGC(t *testing.T) {
	m := testManager(t)
	ctx := context.Background()
	n := testNetwork(t, m, false)
	a := newNetns(t)
	ep := attach(t, m, n, a)
	if !hasLease(t, m, ep) {
		t.Fatalf("no lease for %+v", ep)
	}
	if _, err := m.Attach(ctx, AttachOptions{ContainerID: ep.ContainerID, Network: n.Name, NetNS: a.path}); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("second attach with the same ifname: err = %v, want ErrConflict", err)
	}
	if !a.ping(n.Gateway) {
		t.Fatal("the refused second attach broke the first")
	}
	opts := DetachOptions{ContainerID: ep.ContainerID, Network: n.Name, NetNS: a.path, IfName: "eth0"}
	if err := m.Detach(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if hasLease(t, m, ep) {
		t.Fatal("lease kept after Detach")
	}
	if out, _ := a.run(5*time.Second, "ip", "link", "show", "eth0"); !strings.Contains(out, "does not exist") {
		t.Fatalf("eth0 still in the namespace after Detach: %s", out)
	}
	if err := m.Detach(ctx, opts); err != nil {
		t.Fatalf("second Detach: %v", err)
	}

	// A dead container: its namespace is gone, its lease is not.
	dead, alive := newNetns(t), newNetns(t)
	epDead, epAlive := attach(t, m, n, dead), attach(t, m, n, alive)
	if out, err := exec.Command("ip", "netns", "del", dead.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns del: %v: %s", err, out)
	}
	released, err := m.GC(ctx, keepIf(func(id string) bool { return id != epDead.ContainerID }))
	if err != nil {
		t.Fatal(err)
	}
	if len(released) != 1 || released[0].ContainerID != epDead.ContainerID || released[0].IP != epDead.IP {
		t.Fatalf("GC released %+v, want only %s", released, epDead.IP)
	}
	if hasLease(t, m, epDead) || !hasLease(t, m, epAlive) {
		t.Fatal("GC released the wrong leases")
	}

	// Detach without a namespace (the task is gone) releases the lease.
	if err := m.Detach(ctx, DetachOptions{ContainerID: epAlive.ContainerID, Network: n.Name}); err != nil {
		t.Fatal(err)
	}
	if hasLease(t, m, epAlive) {
		t.Fatal("lease kept after Detach without a namespace")
	}
}

func TestAttachFailureLeavesNothing(t *testing.T) {
	m := testManager(t)
	n := testNetwork(t, m, false)
	_, err := m.Attach(context.Background(), AttachOptions{
		ContainerID: "c-missing-" + suffix(), Network: n.Name, NetNS: "/var/run/netns/budgie-nettest-missing-" + suffix(),
	})
	if err == nil {
		t.Fatal("attach to a missing namespace succeeded")
	}
	leases, lerr := m.Leases(context.Background())
	if lerr != nil || len(leases) != 0 {
		t.Fatalf("leases after a failed attach: %+v (%v)", leases, lerr)
	}
}

func hasLease(t *testing.T, m *Manager, ep models.Endpoint) bool {
	t.Helper()
	leases, err := m.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range leases {
		if l.ContainerID == ep.ContainerID && l.IP == ep.IP && l.Network == ep.Network && l.IfName == ep.IfName {
			return true
		}
	}
	return false
}

func TestParallelAttach(t *testing.T) {
	m := testManager(t)
	// A second Manager on the same DataDir stands in for another process.
	other, err := Open(Options{DataDir: m.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	n := testNetwork(t, m, false)
	const count = 20
	nss := make([]netns, count)
	for i := range nss {
		nss[i] = newNetns(t)
	}
	eps := make([]models.Endpoint, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	for i := range count {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mgr := m
			if i%2 == 1 {
				mgr = other
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			eps[i], errs[i] = mgr.Attach(ctx, AttachOptions{
				ContainerID: fmt.Sprintf("c%02d-%s", i, nss[i].name), Network: n.Name, NetNS: nss[i].path,
			})
		}()
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range count {
		if errs[i] != nil {
			t.Fatalf("attach %d: %v", i, errs[i])
		}
		if j, dup := seen[eps[i].IP]; dup {
			t.Fatalf("attach %d and %d both got %s", i, j, eps[i].IP)
		}
		seen[eps[i].IP] = i
	}
	leases, err := m.Leases(context.Background())
	if err != nil || len(leases) != count {
		t.Fatalf("%d leases (%v), want %d", len(leases), err, count)
	}
	if !nss[0].ping(eps[count-1].IP) {
		t.Fatal("first and last container cannot reach each other")
	}
}

func TestRemove(t *testing.T) {
	m := testManager(t)
	ctx := context.Background()
	n, err := m.Create(ctx, "nettest-rm-"+suffix(), CreateOptions{Subnet: nextTestSubnet()})
	if err != nil {
		t.Fatal(err)
	}
	filter, nat := networkRules(n)
	rules := append(filter, nat...)
	t.Cleanup(func() { _ = removeRules(ctx, n); _ = deleteLink(ctx, n.Bridge) })
	for _, r := range rules {
		if !exists(ctx, r) {
			t.Fatalf("rule missing after Create: %s", r)
		}
	}
	a := newNetns(t)
	ep := attach(t, m, n, a)
	err = m.Remove(ctx, n.Name)
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), models.ShortID(ep.ContainerID)) {
		t.Fatalf("Remove with a lease = %v, want ErrConflict naming %s", err, models.ShortID(ep.ContainerID))
	}
	if err := m.Detach(ctx, DetachOptions{ContainerID: ep.ContainerID, Network: n.Name, NetNS: a.path}); err != nil {
		t.Fatal(err)
	}
	if err := m.Remove(ctx, n.Name); err != nil {
		t.Fatal(err)
	}
	if linkExists(n.Bridge) {
		t.Fatalf("bridge %s left after Remove", n.Bridge)
	}
	for _, r := range rules {
		if exists(ctx, r) {
			t.Fatalf("rule left after Remove: %s", r)
		}
	}
	if _, err := m.Get(ctx, n.Name); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get after Remove = %v, want ErrNotFound", err)
	}
}

// TestFirewallFastPath: after an Attach, the one-listing check recognizes
// every rule of the network (else each start would take the slow path of
// nine iptables commands, and nothing would show it); with a rule deleted
// by hand it does not, and the next Attach puts the rule back.
func TestFirewallFastPath(t *testing.T) {
	m := testManager(t)
	n := testNetwork(t, m, false)
	attach(t, m, n, newNetns(t))
	ctx := context.Background()
	filter, nat := networkRules(n)
	all := append(append(chainRules(), filter...), nat...)
	if !rulesPresent(ctx, all) {
		t.Fatalf("rulesPresent = false right after Attach installed them: the fast path never applies\n%s", listRules(t))
	}
	gone := nat[0]
	if err := deleteRules(ctx, []rule{gone}); err != nil {
		t.Fatal(err)
	}
	if rulesPresent(ctx, all) {
		t.Fatalf("rulesPresent = true with %s deleted", gone)
	}
	attach(t, m, n, newNetns(t))
	if !exists(ctx, gone) {
		t.Fatalf("Attach did not restore %s\n%s", gone, listRules(t))
	}
}

func listRules(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"filter", "nat"} {
		out, err := iptables(context.Background(), "-t", table, "-S")
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(out)
	}
	return b.String()
}
