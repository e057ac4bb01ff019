//go:build integration

package discovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// Stated latencies (docs/discovery.md): a started container appears on
// every other node within 1 s (measured: milliseconds, by the unsolicited
// announcement); a stopped or removed container, or a keeper that shuts
// down, disappears within 1 s (its goodbye); a killed node's containers
// disappear with the node's record, within its TTL (20 s, bound 30 s).
const (
	appearBound  = time.Second
	goodbyeBound = time.Second
	killedBound  = 30 * time.Second
	// restartGrace bounds how long a container stopped while its keeper
	// was down stays listed after the keeper restarts (3 s, plus margin).
	restartGrace = 5 * time.Second
)

// TestLabEveryNodeSeesTheOthers runs a container on each of 3 nodes and
// checks that every node sees all of them, each within appearBound of its
// start.
func TestLabEveryNodeSeesTheOthers(t *testing.T) {
	lab := sharedLab(t)
	ws := make([]*watcher, len(lab.Nodes))
	for i, n := range lab.Nodes {
		ws[i] = watch(t, n)
	}
	all := map[string]string{}
	started := map[string]time.Time{}
	for _, n := range lab.Nodes {
		ids, at := runContainers(t, n, "seen-"+n.Name)
		for k, v := range ids {
			all[k], started[k] = v, at[k]
		}
	}
	t.Cleanup(func() { removeAll(t, lab) })
	for _, w := range ws {
		seen := w.waitAll(t, models.PeerAppeared, all, 5*time.Second)
		worst, ds := latencies(seen, started)
		t.Logf("%s saw %d containers; start→appear %v (worst %v)", w.node.Name, len(seen), ds, worst)
		if worst > appearBound {
			t.Errorf("%s: a container appeared %v after it started (bound %v)", w.node.Name, worst, appearBound)
		}
	}
	for _, n := range lab.Nodes {
		resp := peers(t, n)
		if got := countContainers(resp.Nodes, all); got != len(all) {
			t.Errorf("%s lists %d of the %d containers: %+v", n.Name, got, len(all), resp.Nodes)
		}
		if len(resp.Nodes) < len(lab.Nodes) || !resp.Nodes[0].Local || resp.Nodes[0].Name != n.Name {
			t.Errorf("%s: nodes %+v, want all %d with itself first", n.Name, resp.Nodes, len(lab.Nodes))
		}
	}
}

// TestLabStoppedContainerExpires stops a container on node1 and checks it
// disappears from node2 and node3 within goodbyeBound, while a container
// left running stays.
func TestLabStoppedContainerExpires(t *testing.T) {
	lab := sharedLab(t)
	n1 := lab.Nodes[0]
	ids, _ := runContainers(t, n1, "stopme", "keepme")
	t.Cleanup(func() { removeAll(t, lab) })
	ws := []*watcher{watch(t, lab.Nodes[1]), watch(t, lab.Nodes[2])}
	for _, w := range ws {
		waitListed(t, w.node, ids)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n1.Budgie(ctx, "stop", "-t", "1", "stopme"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	gone := map[string]string{"stopme": ids["stopme"]}
	for _, w := range ws {
		seen := w.waitAll(t, models.PeerExpired, gone, 10*time.Second)
		d := seen["stopme"].Sub(stopped)
		t.Logf("%s: stopped container expired %v after stop returned", w.node.Name, d)
		if d > goodbyeBound {
			t.Errorf("%s: expired after %v (bound %v)", w.node.Name, d, goodbyeBound)
		}
		if n := w.count(models.PeerExpired, map[string]string{"keepme": ids["keepme"]}); n != 0 {
			t.Errorf("%s: the running container expired %d times", w.node.Name, n)
		}
	}
}

// TestLabKilledNodeExpires kills node3's keeper (no goodbye is sent) and
// checks that node1 and node2 drop its containers and the node itself
// within killedBound; the keeper is started again afterwards.
func TestLabKilledNodeExpires(t *testing.T) {
	lab := sharedLab(t)
	n3 := lab.Nodes[2]
	ids, _ := runContainers(t, n3, "victim-a", "victim-b")
	t.Cleanup(func() { removeAll(t, lab) })
	ws := []*watcher{watch(t, lab.Nodes[0]), watch(t, lab.Nodes[1])}
	for _, w := range ws {
		waitListed(t, w.node, ids)
	}
	if err := n3.KillKeeper(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := n3.StartKeeper(ctx); err != nil {
			t.Error(err)
		}
	})
	for _, w := range ws {
		seen := w.waitAll(t, models.PeerExpired, ids, killedBound+5*time.Second)
		worst, ds := latencies(seen, map[string]time.Time{"victim-a": killed, "victim-b": killed})
		t.Logf("%s: killed node's containers expired after %v", w.node.Name, ds)
		if worst > killedBound {
			t.Errorf("%s: expired after %v (bound %v)", w.node.Name, worst, killedBound)
		}
		for _, n := range peers(t, w.node).Nodes {
			if n.Name == n3.Name {
				t.Errorf("%s still lists the killed node: %+v", w.node.Name, n)
			}
		}
	}
}

// TestLabFiftyContainers runs 50 containers on node1 and checks that node2
// sees every one (no drops) and keeps seeing them, and that node1's keeper
// still holds at most two mDNS sockets on its one interface.
func TestLabFiftyContainers(t *testing.T) {
	lab := sharedLab(t)
	w, local := watch(t, lab.Nodes[1]), watch(t, lab.Nodes[0])
	names := make([]string, 50)
	for i := range names {
		names[i] = fmt.Sprintf("many-%02d", i)
	}
	runStart := time.Now()
	ids, started := runContainers(t, lab.Nodes[0], names...)
	t.Cleanup(func() { removeAll(t, lab) })
	seen := w.waitAll(t, models.PeerAppeared, ids, 15*time.Second)
	worst, _ := latencies(seen, started)
	last := time.Time{}
	for _, at := range seen {
		if at.After(last) {
			last = at
		}
	}
	// node1's own browser hears each announcement over loopback: the
	// difference is what the network and node2 add.
	here := local.waitAll(t, models.PeerAppeared, ids, 15*time.Second)
	localWorst, _ := latencies(here, started)
	wire, _ := latencies(seen, here)
	t.Logf("50 containers: run took %v; last appeared %v after run began; worst start→appear %v (on node1 itself: %v; node1→node2 at worst %v)",
		time.Since(runStart).Round(time.Millisecond), last.Sub(runStart).Round(time.Millisecond), worst, localWorst, wire)
	if wire > appearBound {
		t.Errorf("a container reached node2 %v after node1 announced it (bound %v)", wire, appearBound)
	}
	// The keeper looks each container up in containerd, which answers
	// slowly while it starts 50 tasks: 0.1–4.1 s measured on a loaded machine.
	if worst > 5*time.Second {
		t.Errorf("a container appeared %v after it started", worst)
	}
	time.Sleep(4 * time.Second) // the browser's next queries: none may flap
	if n := w.count(models.PeerExpired, ids); n != 0 {
		t.Errorf("%d of the 50 expired while running (answers dropped)", n)
	}
	if got := countContainers(peers(t, w.node).Nodes, ids); got != 50 {
		t.Errorf("node2 lists %d of 50", got)
	}
	pid, err := keeperPID(lab.Nodes[0].NetNS)
	if err != nil {
		t.Fatal(err)
	}
	// One responder and one browser socket on lab0, whatever the number of containers.
	if n, err := mdnsSockets(pid); err != nil || n > 2 {
		t.Errorf("node1's keeper holds %d sockets on port 5353 (%v), want at most 2", n, err)
	} else {
		t.Logf("node1's keeper holds %d sockets on port 5353 with 50 containers", n)
	}
}

// TestLabGoodbyes removes a container on node1, then stops node1's
// keeper gracefully: each time node2 must drop what went within
// goodbyeBound (the goodbyes), long before any TTL.
func TestLabGoodbyes(t *testing.T) {
	lab := sharedLab(t)
	n1 := lab.Nodes[0]
	ids, _ := runContainers(t, n1, "rmme", "staysup")
	t.Cleanup(func() { removeAll(t, lab) })
	w := watch(t, lab.Nodes[1])
	waitListed(t, w.node, ids)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n1.Budgie(ctx, "rm", "-f", "rmme"); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	seen := w.waitAll(t, models.PeerExpired, map[string]string{"rmme": ids["rmme"]}, 10*time.Second)
	t.Logf("removed container gone from node2 %v after rm returned", seen["rmme"].Sub(removed))
	if d := seen["rmme"].Sub(removed); d > goodbyeBound {
		t.Errorf("removed container gone after %v (bound %v)", d, goodbyeBound)
	}
	if err := n1.StopKeeper(); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := n1.StartKeeper(ctx); err != nil {
			t.Error(err)
		}
	})
	seen = w.waitAll(t, models.PeerExpired, map[string]string{"staysup": ids["staysup"]}, 10*time.Second)
	d := seen["staysup"].Sub(stopped)
	t.Logf("keeper shut down: its container gone from node2 %v after the keeper exited", d)
	if d > goodbyeBound {
		t.Errorf("gone after %v (bound %v)", d, goodbyeBound)
	}
}

// TestLabRestartedKeeper kills node1's keeper, stops one of its two
// containers while no keeper runs (so no goodbye is sent) and starts the
// keeper again within the node record's TTL: node2 must drop the stopped
// container soon after the restart (the node record's new epoch) and
// keep the other.
func TestLabRestartedKeeper(t *testing.T) {
	lab := sharedLab(t)
	n1 := lab.Nodes[0]
	ids, _ := runContainers(t, n1, "gone-while-down", "up-throughout")
	t.Cleanup(func() { removeAll(t, lab) })
	w := watch(t, lab.Nodes[1])
	waitListed(t, w.node, ids)
	if err := n1.KillKeeper(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := n1.Budgie(ctx, "stop", "-t", "1", "gone-while-down"); err != nil {
		t.Fatal(err)
	}
	if err := n1.StartKeeper(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := time.Now()
	gone := map[string]string{"gone-while-down": ids["gone-while-down"]}
	seen := w.waitAll(t, models.PeerExpired, gone, 15*time.Second)
	d := seen["gone-while-down"].Sub(restarted)
	t.Logf("container stopped while the keeper was down: gone from node2 %v after the keeper restarted", d)
	if d > restartGrace {
		t.Errorf("gone after %v (bound %v)", d, restartGrace)
	}
	if n := w.count(models.PeerExpired, map[string]string{"up": ids["up-throughout"]}); n != 0 {
		t.Errorf("the running container expired %d times", n)
	}
}

// waitListed waits until node's keeper lists every container in ids.
func waitListed(t testing.TB, node *testkit.LabNode, ids map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for countContainers(peers(t, node).Nodes, ids) != len(ids) {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not list %v within 10s", node.Name, ids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countContainers counts the containers of ids listed in nodes.
func countContainers(nodes []models.PeerNode, ids map[string]string) int {
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	n := 0
	for _, node := range nodes {
		for _, p := range node.Containers {
			if in[p.ContainerID] {
				n++
			}
		}
	}
	return n
}

// removeAll removes every container of every node.
func removeAll(t testing.TB, lab *testkit.Lab) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range lab.Nodes {
		out, err := n.Budgie(ctx, "ps", "-aq")
		if err != nil {
			t.Error(err)
			continue
		}
		if ids := fieldsOf(out); len(ids) > 0 {
			if _, err := n.Budgie(ctx, append([]string{"rm", "-f"}, ids...)...); err != nil {
				t.Error(err)
			}
		}
	}
}

// killedGone runs a container on node, kills node's keeper and returns
// how long w's node took to drop the container (the node's record
// expiring, its containers with it).
func killedGone(tb testing.TB, node *testkit.LabNode, w *watcher) time.Duration {
	tb.Helper()
	ids, _ := runContainers(tb, node, "killed-keeper")
	w.waitAll(tb, models.PeerAppeared, ids, 10*time.Second)
	if err := node.KillKeeper(); err != nil {
		tb.Fatal(err)
	}
	killed := time.Now()
	seen := w.waitAll(tb, models.PeerExpired, ids, killedBound+5*time.Second)
	return seen["killed-keeper"].Sub(killed)
}
