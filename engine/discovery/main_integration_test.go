//go:build integration

package discovery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// labImage is the image every lab container runs.
const labImage = "localhost/budgie-lab:latest"

var (
	binDir string // holds the budgie binary built for the tests
	binary string

	sharedOnce sync.Once
	shared     *testkit.Lab
	sharedErr  error
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == rogueArg {
		os.Exit(runRogue(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == simArg {
		os.Exit(runSim(os.Args[2:]))
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if err := testkit.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "bgd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	if binary, err = testkit.BuildBudgie(dir); err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		return 1
	}
	code := m.Run()
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "lab teardown:", err)
		}
	}
	return code
}

// sharedLab returns the package's 3-node lab, starting it on first use.
func sharedLab(t testing.TB) *testkit.Lab {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = startLab(3) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// startLab starts a lab of n nodes with the lab image loaded on each.
func startLab(n int) (*testkit.Lab, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	lab, err := testkit.StartLab(ctx, testkit.LabOptions{Nodes: n, Binary: binary})
	if err != nil {
		return nil, err
	}
	for _, node := range lab.Nodes {
		if err := node.LoadBusybox(ctx, testkit.ImageOptions{Ref: labImage, Cmd: []string{"sleep", "3600"}}); err != nil {
			lab.Close()
			return nil, err
		}
	}
	return lab, nil
}

// runContainers runs containers named names on node from one bundle and
// returns their IDs by name, and when each started.
func runContainers(t testing.TB, node *testkit.LabNode, names ...string) (map[string]string, map[string]time.Time) {
	t.Helper()
	var b strings.Builder
	b.WriteString("containers:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  - name: %s\n    image: %s\n    command: [sleep, \"3600\"]\n    stop_timeout: 1s\n", name, labImage)
	}
	path := filepath.Join(node.Dir, names[0]+".bun")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := node.Budgie(ctx, "run", path); err != nil {
		t.Fatal(err)
	}
	out, err := node.Budgie(ctx, append([]string{"inspect"}, names...)...)
	if err != nil {
		t.Fatal(err)
	}
	var infos []models.Inspect
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("inspect output: %v", err)
	}
	ids, started := map[string]string{}, map[string]time.Time{}
	for _, in := range infos {
		name := strings.TrimPrefix(in.Name, "/")
		ids[name] = in.ID
		started[name], _ = time.Parse(time.RFC3339Nano, in.State.StartedAt)
	}
	return ids, started
}

// watcher records the peer events of one node's keeper.
type watcher struct {
	node   *testkit.LabNode
	mu     sync.Mutex
	events []models.PeerEvent
	notify chan struct{}
}

// watch follows node's keeper events until the test ends.
func watch(t testing.TB, node *testkit.LabNode) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w := &watcher{node: node, notify: make(chan struct{}, 1)}
	client := keeper.NewClient(node.DataDir)
	events, _ := client.Events(ctx)
	go func() {
		for ev := range events {
			if ev.Type != keeper.NoticePeer || ev.Peer == nil {
				continue
			}
			w.mu.Lock()
			w.events = append(w.events, *ev.Peer)
			w.mu.Unlock()
			select {
			case w.notify <- struct{}{}:
			default:
			}
		}
	}()
	// The stream is open once the keeper answers a request after it.
	time.Sleep(50 * time.Millisecond)
	return w
}

// waitAll waits until an event of type typ has been seen for every
// container ID in ids, and returns when each was seen.
func (w *watcher) waitAll(t testing.TB, typ models.PeerEventType, ids map[string]string, timeout time.Duration) map[string]time.Time {
	t.Helper()
	want := map[string]string{}
	for name, id := range ids {
		want[id] = name
	}
	seen := map[string]time.Time{}
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		for _, ev := range w.events {
			if name, ok := want[ev.Peer.ContainerID]; ok && ev.Type == typ {
				if _, dup := seen[name]; !dup {
					seen[name] = ev.Time
				}
			}
		}
		w.mu.Unlock()
		if len(seen) == len(want) {
			return seen
		}
		select {
		case <-w.notify:
		case <-deadline:
			t.Fatalf("%s: %d of %d containers got %s within %s", w.node.Name, len(seen), len(want), typ, timeout)
		}
	}
}

// count returns how many events of typ concern a container in ids.
func (w *watcher) count(typ models.PeerEventType, ids map[string]string) int {
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, ev := range w.events {
		if ev.Type == typ && in[ev.Peer.ContainerID] {
			n++
		}
	}
	return n
}

// peers returns node's keeper's table.
func peers(t testing.TB, node *testkit.LabNode) keeper.PeersResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := keeper.NewClient(node.DataDir).Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// latencies turns event times into delays after the start times.
func latencies(seen, since map[string]time.Time) (worst time.Duration, all []time.Duration) {
	for name, at := range seen {
		d := at.Sub(since[name])
		all = append(all, d)
		worst = max(worst, d)
	}
	return worst, all
}
