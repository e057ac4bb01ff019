//go:build integration

package discovery_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/testkit"
	"github.com/budgie-sh/budgie/models"
)

// Stated latencies (docs/discovery.md): a started container appears on
// every other node within ~1 s (measured: tens of milliseconds, by the
// unsolicited announcement); a stopped container or a killed node's
// containers disappear within 2–3 s (expiry 2.5 s after the last answer,
// checked at the end of each 1 s round). The bounds below leave room for a
// loaded machine.
const (
	appearBound = 1500 * time.Millisecond
	expireBound = 4500 * time.Millisecond
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
// disappears from node2 and node3 within expireBound, while a container
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
		if d > expireBound {
			t.Errorf("%s: expired after %v (bound %v)", w.node.Name, d, expireBound)
		}
		if n := w.count(models.PeerExpired, map[string]string{"keepme": ids["keepme"]}); n != 0 {
			t.Errorf("%s: the running container expired %d times", w.node.Name, n)
		}
	}
}

// TestLabKilledNodeExpires kills node3's keeper (no goodbye is sent) and
// checks that node1 and node2 drop its containers and the node itself
// within expireBound; the keeper is started again afterwards.
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
		seen := w.waitAll(t, models.PeerExpired, ids, 10*time.Second)
		worst, ds := latencies(seen, map[string]time.Time{"victim-a": killed, "victim-b": killed})
		t.Logf("%s: killed node's containers expired after %v", w.node.Name, ds)
		if worst > expireBound {
			t.Errorf("%s: expired after %v (bound %v)", w.node.Name, worst, expireBound)
		}
		for _, n := range peers(t, w.node).Nodes {
			if n.Name == n3.Name {
				t.Errorf("%s still lists the killed node: %+v", w.node.Name, n)
			}
		}
	}
}

// TestLabFiftyContainers runs 50 containers on node1 and checks that node2
// sees every one (no drops) and keeps seeing them over several rounds.
func TestLabFiftyContainers(t *testing.T) {
	lab := sharedLab(t)
	w := watch(t, lab.Nodes[1])
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
	t.Logf("50 containers: run took %v; last appeared %v after run began; worst start→appear %v",
		time.Since(runStart).Round(time.Millisecond), last.Sub(runStart).Round(time.Millisecond), worst)
	if worst > 3*time.Second {
		t.Errorf("a container appeared %v after it started", worst)
	}
	time.Sleep(4 * time.Second) // four rounds: every one must answer every time
	if n := w.count(models.PeerExpired, ids); n != 0 {
		t.Errorf("%d of the 50 expired while running (answers dropped)", n)
	}
	if got := countContainers(peers(t, w.node).Nodes, ids); got != 50 {
		t.Errorf("node2 lists %d of 50", got)
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
