//go:build integration

package runtime_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// netRuntime returns a runtime that joins containers to CNI networks, and
// a fresh network of its own (a unique name and subnet) for the test.
func netRuntime(t *testing.T) (*runtime.Runtime, *network.Manager, models.Network) {
	t.Helper()
	nets, err := network.Open(network.Options{DataDir: env.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	r, err := runtime.New(env.Client(), runtime.Options{
		Namespace: testkit.Namespace, DataDir: env.DataDir, NodeName: testkit.NodeName, LogBinary: exe, Networks: nets,
	})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("rt%d", rand.IntN(1_000_000))
	n, err := nets.Create(context.Background(), name, network.CreateOptions{Subnet: fmt.Sprintf("10.203.%d.0/24", rand.IntN(250))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nets.Remove(context.Background(), name) })
	return r, nets, n
}

// netSpec is a container on network n serving its own hostname on port 80.
func netSpec(t *testing.T, n models.Network) models.ContainerSpec {
	s := spec(t, "sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www")
	s.Networks = []string{n.Name}
	return s
}

func runOn(t *testing.T, r *runtime.Runtime, s models.ContainerSpec) models.Container {
	t.Helper()
	c, err := r.Run(context.Background(), s, runtime.RunOptions{})
	if err != nil {
		t.Fatalf("run %s: %v", s.Name, err)
	}
	t.Cleanup(func() { _, _ = r.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true}) })
	return c
}

func execIn(t *testing.T, r *runtime.Runtime, id string, cmd ...string) (string, int) {
	t.Helper()
	var out safeBuffer
	code, err := r.Exec(context.Background(), id, runtime.ExecOptions{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	return out.String(), code
}

func leaseOf(t *testing.T, nets *network.Manager, id string) (models.Endpoint, bool) {
	t.Helper()
	ls, err := nets.Leases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ls, func(e models.Endpoint) bool { return e.ContainerID == id })
	if i < 0 {
		return models.Endpoint{}, false
	}
	return ls[i], true
}

func TestNetworkAddressesNamesAndLeases(t *testing.T) {
	r, nets, n := netRuntime(t)
	ctx := context.Background()
	a := runOn(t, r, netSpec(t, n))
	b := runOn(t, r, netSpec(t, n))
	if len(a.Endpoints) != 1 || a.Endpoints[0].IfName != "eth0" || a.Endpoints[0].Network != n.Name {
		t.Fatalf("endpoints of a: %+v", a.Endpoints)
	}
	subnet := netip.MustParsePrefix(n.Subnet)
	if ip, err := netip.ParseAddr(a.Endpoints[0].IP); err != nil || !subnet.Contains(ip) {
		t.Errorf("a's address %q is not in %s", a.Endpoints[0].IP, n.Subnet)
	}
	// a reaches b by name (the hosts file Budgie keeps), and b's answer is its hostname.
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var code int
		if out, code = execIn(t, r, a.ID, "timeout", "3", "wget", "-q", "-O-", "http://"+b.Name+"/"); code == 0 {
			break
		}
	}
	if strings.TrimSpace(out) != b.Name {
		hosts, _ := execIn(t, r, a.ID, "cat", "/etc/hosts")
		t.Fatalf("a fetched %q from http://%s/; hosts:\n%s", out, b.Name, hosts)
	}
	if hosts, _ := execIn(t, r, a.ID, "cat", "/etc/hosts"); !strings.Contains(hosts, b.Endpoints[0].IP+"\t"+b.Name) &&
		!strings.Contains(hosts, b.Endpoints[0].IP+" "+b.Name) {
		t.Errorf("a's /etc/hosts lacks b (%s %s):\n%s", b.Endpoints[0].IP, b.Name, hosts)
	}

	// Stopping b releases its lease and drops it from a's hosts file.
	if _, err := r.Stop(ctx, b.ID, runtime.StopOptions{Timeout: ptr(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if l, held := leaseOf(t, nets, b.ID); held {
		t.Errorf("stopped b still holds %+v", l)
	}
	if hosts, _ := execIn(t, r, a.ID, "cat", "/etc/hosts"); strings.Contains(hosts, b.Name) {
		t.Errorf("a's hosts file still lists stopped b:\n%s", hosts)
	}
	if got, _ := r.Get(ctx, b.ID); len(got.Endpoints) != 0 {
		t.Errorf("stopped b reports endpoints %+v", got.Endpoints)
	}
	// Started again, it gets a lease again.
	b2, err := r.Start(ctx, b.ID)
	if err != nil || len(b2.Endpoints) != 1 {
		t.Fatalf("restart b: %v %+v", err, b2.Endpoints)
	}

	// A task that dies with no one watching keeps its lease until the next
	// attach on the node collects it (stale leases, nerdctl #665).
	if _, err := r.Kill(ctx, b.ID, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	waitStateOn(t, r, b.ID, models.StateExited)
	if _, held := leaseOf(t, nets, b.ID); !held {
		t.Fatalf("the killed task's lease is gone already; the GC test proves nothing")
	}
	runOn(t, r, netSpec(t, n))
	if l, held := leaseOf(t, nets, b.ID); held {
		t.Errorf("the dead task's lease survived the next attach: %+v", l)
	}
	// Starting b again deletes its dead task and writes the hosts files once,
	// after the new task joined: a finds b at its new address.
	b3, err := r.Start(ctx, b.ID)
	if err != nil || len(b3.Endpoints) != 1 {
		t.Fatalf("start b after its task died: %v %+v", err, b3.Endpoints)
	}
	if hosts, _ := execIn(t, r, a.ID, "cat", "/etc/hosts"); !strings.Contains(hosts, b3.Endpoints[0].IP+"\t"+b.Name) &&
		!strings.Contains(hosts, b3.Endpoints[0].IP+" "+b.Name) {
		t.Errorf("a's /etc/hosts lacks b at its new address %s:\n%s", b3.Endpoints[0].IP, hosts)
	}

	// Removing a container leaves no lease and no hosts file.
	if _, err := r.Remove(ctx, a.ID, runtime.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, held := leaseOf(t, nets, a.ID); held {
		t.Errorf("removed a still holds a lease")
	}
	if _, err := os.Stat(r.HostsPath(a.ID)); !os.IsNotExist(err) {
		t.Errorf("removed a's hosts file: %v", err)
	}
}

func TestNetworkConnectDisconnectLive(t *testing.T) {
	r, _, n := netRuntime(t)
	_, _, other := netRuntime(t)
	ctx := context.Background()
	a := runOn(t, r, netSpec(t, n))
	b := runOn(t, r, netSpec(t, other))
	if _, code := execIn(t, r, a.ID, "timeout", "3", "wget", "-q", "-O-", "http://"+b.Endpoints[0].IP+"/"); code == 0 {
		t.Fatalf("a reached b across networks before connect")
	}
	ep, err := r.Connect(ctx, a.ID, runtime.NetworkOptions{Network: other.Name})
	if err != nil || ep.IfName != "eth1" {
		t.Fatalf("connect: %v %+v", err, ep)
	}
	if out, code := execIn(t, r, a.ID, "timeout", "3", "wget", "-q", "-O-", "http://"+b.Name+"/"); code != 0 || strings.TrimSpace(out) != b.Name {
		t.Errorf("after connect a fetched %q (exit %d)", out, code)
	}
	got, _ := r.Get(ctx, a.ID)
	if !slices.Equal(got.Spec.Networks, []string{n.Name, other.Name}) || len(got.Endpoints) != 2 {
		t.Errorf("after connect: networks %v endpoints %+v", got.Spec.Networks, got.Endpoints)
	}
	if err := r.Disconnect(ctx, a.ID, runtime.NetworkOptions{Network: other.Name}); err != nil {
		t.Fatal(err)
	}
	if _, code := execIn(t, r, a.ID, "timeout", "3", "wget", "-q", "-O-", "http://"+b.Endpoints[0].IP+"/"); code == 0 {
		t.Errorf("a still reaches b after disconnect")
	}
	if out, _ := execIn(t, r, a.ID, "ip", "addr"); strings.Contains(out, "eth1") {
		t.Errorf("eth1 still in a after disconnect:\n%s", out)
	}
	if err := r.Disconnect(ctx, a.ID, runtime.NetworkOptions{Network: other.Name}); err == nil {
		t.Errorf("disconnecting twice succeeded")
	}
}

func waitStateOn(t *testing.T, r *runtime.Runtime, id string, state models.ContainerState) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := r.Get(context.Background(), id); err == nil && c.State == state {
			return
		}
	}
	t.Fatalf("%s never reached %s", id, state)
}

func ptr[T any](v T) *T { return &v }

// TestDeferHostsBatch: a start with DeferHosts leaves the hosts files as
// they were (a does not list b, b lists nothing), and the next start
// without it writes every running container's file: a, b and c each list
// the other two, as after Scale or a bundle's replicas.
func TestDeferHostsBatch(t *testing.T) {
	r, _, n := netRuntime(t)
	a := runOn(t, r, netSpec(t, n))
	b, err := r.Run(context.Background(), netSpec(t, n), runtime.RunOptions{DeferHosts: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = r.Remove(context.Background(), b.ID, runtime.RemoveOptions{Force: true}) })
	hostsOf := func(c models.Container) string {
		text, err := os.ReadFile(r.HostsPath(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		return string(text)
	}
	if h := hostsOf(a); strings.Contains(h, b.Name) {
		t.Errorf("a's hosts file lists b, whose start deferred the refresh:\n%s", h)
	}
	if h := hostsOf(b); strings.Contains(h, a.Name) {
		t.Errorf("b's hosts file was refreshed although its start deferred it:\n%s", h)
	}
	c := runOn(t, r, netSpec(t, n))
	all := []models.Container{a, b, c}
	for _, x := range all {
		h := hostsOf(x)
		for _, y := range all {
			if y.ID != x.ID && !strings.Contains(h, y.Endpoints[0].IP+"\t"+y.Name) {
				t.Errorf("%s's hosts file lacks %s (%s) after the batch's last start:\n%s", x.Name, y.Name, y.Endpoints[0].IP, h)
			}
		}
	}
}
