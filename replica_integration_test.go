//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

const replImage = "localhost/budgie-repl:latest"

// replVolumes are the three volumes of the replicated container.
var replVolumes = []string{"repl-big", "repl-tree", "repl-links"}

// TestLabReplication runs the scenarios on a 3-node lab: a
// container with three volumes (a 100 MiB file, nested directories,
// symlinks, empty files) is replicated from node1 to node2 with --sync and
// the trees compared; creates, edits, renames and deletes follow within a
// few seconds; node1's keeper is killed mid-transfer of a big file and the
// transfer resumes after it restarts; node3, which node1 does not trust,
// gets nothing and is recorded; a spoofed announcement claiming node1's
// identity from node3's address is refused; a paired-but-hostile node
// (testHostileNode) gets its plan refused and cannot stall node1; nest
// opened on node3 with no keeper starts one and lists the LAN.
func TestLabReplication(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	lab, err := testkit.StartLab(ctx, testkit.LabOptions{Nodes: 3, Binary: binary})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lab.Close() })
	n1, n2, n3 := lab.Nodes[0], lab.Nodes[1], lab.Nodes[2]
	if err := n1.LoadBusybox(ctx, testkit.ImageOptions{Ref: replImage, Cmd: []string{"sleep", "3600"}}); err != nil {
		t.Fatal(err)
	}
	runPrimary(ctx, t, n1)
	mustBudgie(ctx, t, n1, "share", "data")
	ids := map[string]string{}
	for _, n := range lab.Nodes {
		ids[n.Name] = strings.TrimSpace(mustBudgie(ctx, t, n, "id"))
	}
	mustBudgie(ctx, t, n1, "trust", "add", ids["node2"])
	mustBudgie(ctx, t, n2, "trust", "add", ids["node1"])
	mustBudgie(ctx, t, n3, "trust", "add", ids["node1"])
	waitAnnounced(ctx, t, n2, "data", ids["node1"])
	t.Logf("lab ready in %v", time.Since(start))

	plan := mustBudgie(ctx, t, n2, "chirp", "data@node1", "--dry-run")
	t.Logf("dry run:\n%s", plan)
	if strings.Count(plan, "volume:") != 3 || !strings.Contains(plan, "repl-big → /mnt/repl-big: 2 files") || !strings.Contains(plan, "copied from the primary") {
		t.Fatalf("dry-run plan lacks the volumes or the image: %q", plan)
	}
	for _, v := range replVolumes {
		if _, err := os.Stat(volDir(n2, v)); err == nil {
			t.Fatalf("--dry-run made volume %s on node2", v)
		}
	}
	t0 := time.Now()
	out := mustBudgie(ctx, t, n2, "chirp", "data@node1", "--sync")
	t.Logf("chirp data@node1 --sync took %v; replica %s", time.Since(t0), strings.TrimSpace(out))
	for _, v := range replVolumes {
		if a, b := treeHash(t, volDir(n1, v)), treeHash(t, volDir(n2, v)); a != b {
			t.Fatalf("volume %s differs after chirp:\nnode1 %s\nnode2 %s", v, a, b)
		}
	}
	if ps := mustBudgie(ctx, t, n2, "ps", "--format", "{{.Name}} {{.State}}"); !strings.Contains(ps, "data running") {
		t.Fatalf("node2 runs no replica named data: %q", ps)
	}
	waitReplicaOK(ctx, t, n2)

	t.Run("continuous", func(t *testing.T) { testContinuous(t, n1, n2) })
	t.Run("kill primary mid-transfer", func(t *testing.T) { testKillResume(ctx, t, n1, n2) })
	t.Run("untrusted node", func(t *testing.T) { testUntrusted(ctx, t, n1, n3, ids["node3"]) })
	t.Run("spoofed announcement", func(t *testing.T) { testSpoofed(ctx, t, lab, n2, ids["node1"]) })
	t.Run("hostile node", func(t *testing.T) { testHostileNode(ctx, t, lab, n1, n2) })
	t.Run("nest first launch", func(t *testing.T) { testNestFirstLaunch(ctx, t, n3) })
	t.Logf("total %v", time.Since(start))
}

// runPrimary runs "data" on node with three volumes and fills them.
func runPrimary(ctx context.Context, t *testing.T, n *testkit.LabNode) {
	t.Helper()
	bun := fmt.Sprintf("containers:\n  - name: data\n    image: %s\n    command: [sleep, \"3600\"]\n    stop_timeout: 1s\n    volumes:\n", replImage)
	for _, v := range replVolumes {
		bun += fmt.Sprintf("      - %s:/mnt/%s\n", v, v)
	}
	path := filepath.Join(n.Dir, "data.bun")
	if err := os.WriteFile(path, []byte(bun), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBudgie(ctx, t, n, "run", path)
	big := volDir(n, "repl-big")
	writeRandom(t, filepath.Join(big, "big.bin"), 100<<20)
	writeFile(t, filepath.Join(big, "empty"), "")
	tree := volDir(n, "repl-tree")
	for _, d := range []string{"a/b/c/d", "a/x", "empty-dir"} {
		if err := os.MkdirAll(filepath.Join(tree, d), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(tree, "a/b/c/d/deep.txt"), "deep\n")
	writeFile(t, filepath.Join(tree, "a/x/empty.txt"), "")
	writeFile(t, filepath.Join(tree, "top.txt"), "top\n")
	links := volDir(n, "repl-links")
	writeFile(t, filepath.Join(links, "target.txt"), "target\n")
	for name, target := range map[string]string{"rel": "target.txt", "abs": "/etc/hostname", "dangling": "nowhere/else", "dirlink": "."} {
		if err := os.Symlink(target, filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// testContinuous changes node1's volumes and waits for node2 to match.
func testContinuous(t *testing.T, n1, n2 *testkit.LabNode) {
	tree := volDir(n1, "repl-tree")
	steps := []struct {
		name   string
		change func()
	}{
		{"create", func() { writeFile(t, filepath.Join(tree, "a/new.txt"), "new file\n") }},
		{"edit", func() { writeFile(t, filepath.Join(tree, "top.txt"), "top, edited\n") }},
		{"rename", func() { mustRename(t, filepath.Join(tree, "a/b/c/d/deep.txt"), filepath.Join(tree, "a/moved.txt")) }},
		{"delete", func() { mustRemove(t, filepath.Join(tree, "a/x/empty.txt")) }},
		{"mkdir", func() { _ = os.MkdirAll(filepath.Join(tree, "n1/n2"), 0o755) }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.change()
			d := waitSame(t, volDir(n1, "repl-tree"), volDir(n2, "repl-tree"), 5*time.Second)
			t.Logf("%s visible on node2 after %v", s.name, d)
		})
	}
}

// testKillResume writes a big file on node1, kills node1's keeper once
// part of it reached node2, and checks that nothing partial shows under
// the real name and that the sync completes after a restart.
func testKillResume(ctx context.Context, t *testing.T, n1, n2 *testkit.LabNode) {
	throttle(t, n1, "120mbit")
	big := volDir(n1, "repl-big")
	tmp := filepath.Join(n1.Dir, "big2.staging") // written aside, renamed in whole
	writeRandom(t, tmp, 60<<20)
	mustRename(t, tmp, filepath.Join(big, "big2.bin"))
	partial := filepath.Join(volDir(n2, "repl-big"), ".budgie-sync.big2.bin.tmp")
	deadline := time.Now().Add(20 * time.Second)
	var got int64
	for got < 4<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("no part of big2.bin reached node2 within 20s (temp file %d bytes)", got)
		}
		if info, err := os.Stat(partial); err == nil {
			got = info.Size()
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := n1.KillKeeper(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	time.Sleep(time.Second)
	info, _ := os.Stat(partial)
	t.Logf("killed node1's keeper with %d bytes in node2's temp file (%d after a second)", got, sizeOf(info))
	if _, err := os.Lstat(filepath.Join(volDir(n2, "repl-big"), "big2.bin")); err == nil {
		t.Fatal("a partial big2.bin is visible under its real name on node2")
	}
	unthrottle(t, n1)
	if err := n1.StartKeeper(ctx); err != nil {
		t.Fatal(err)
	}
	d := waitSame(t, volDir(n1, "repl-big"), volDir(n2, "repl-big"), 40*time.Second)
	t.Logf("resumed and complete %v after the kill (%v after the restart)", time.Since(killed), d)
	if _, err := os.Stat(partial); err == nil {
		t.Error("the temp file is still there after the sync completed")
	}
}

// testUntrusted has node3 (trusting node1, not trusted by it) try.
func testUntrusted(ctx context.Context, t *testing.T, n1, n3 *testkit.LabNode, id3 string) {
	waitAnnounced(ctx, t, n3, "data", "")
	out, err := n3.Budgie(ctx, "chirp", "data@node1")
	if err == nil || !strings.Contains(err.Error(), "not trusted by node node1") {
		t.Fatalf("chirp from untrusted node3: out %q err %v", out, err)
	}
	t.Logf("node3 was told: %v", lastLine(err.Error()))
	for _, v := range replVolumes {
		if entries, _ := os.ReadDir(volDir(n3, v)); len(entries) > 0 {
			t.Errorf("node3 got %d entries of volume %s", len(entries), v)
		}
	}
	var list models.TrustList
	if err := json.Unmarshal([]byte(mustBudgie(ctx, t, n1, "trust", "ls", "--format", "json")), &list); err != nil {
		t.Fatal(err)
	}
	pending := false
	for _, p := range list.Pending {
		pending = pending || p.ID == id3
	}
	if !pending {
		t.Errorf("node1's trust list does not show node3 pending: %+v", list)
	}
	log, _ := os.ReadFile(filepath.Join(n1.Dir, "keeper.log"))
	if !strings.Contains(string(log), "refused replication from an untrusted node") {
		t.Errorf("node1's keeper log does not record the attempt:\n%s", log)
	}
}

// testSpoofed announces, from node3's namespace, a node named node1 with
// node1's identity and a container "vault": node2 trusts that identity,
// but node3's certificate answers, so chirp must refuse.
func testSpoofed(ctx context.Context, t *testing.T, lab *testkit.Lab, n2 *testkit.LabNode, id1 string) {
	stop := spoof(t, lab.Nodes[2], discovery.Announcement{
		Kind: discovery.KindContainer, NodeID: "5b0f5b0f5b0f5b0f5b0f5b0f5b0f5b0f", NodeName: "node1", SyncPort: 18733,
		Fingerprint: id1, ContainerID: strings.Repeat("ab", 32), ContainerName: "vault", Image: replImage, State: models.StateRunning,
	})
	defer stop()
	waitAnnounced(ctx, t, n2, "vault", id1)
	out, err := n2.Budgie(ctx, "chirp", "vault@node1")
	if err == nil || !strings.Contains(err.Error(), "does not match the identity node node1 announced") {
		t.Fatalf("chirp of a spoofed container: out %q err %v", out, err)
	}
	t.Logf("node2 was told: %v", lastLine(err.Error()))
	if ps := mustBudgie(ctx, t, n2, "ps", "-a", "--format", "{{.Name}}"); strings.Contains(ps, "vault") {
		t.Errorf("node2 made a container from the spoofed record: %q", ps)
	}
}

// spoof runs a discovery announcer inside node's network namespace.
func spoof(t *testing.T, node *testkit.LabNode, ann discovery.Announcement) (stop func()) {
	t.Helper()
	errc := make(chan error, 1)
	var a *discovery.Announcer
	go func() {
		// The thread stays in the namespace and dies with this goroutine.
		goruntime.LockOSThread()
		f, err := os.Open("/run/netns/" + node.NetNS)
		if err == nil {
			err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
			f.Close()
		}
		if err == nil {
			var ifs []net.Interface
			if ifs, err = discovery.Interfaces([]string{testkit.LabIface}); err == nil {
				a = discovery.NewAnnouncer(discovery.AnnouncerOptions{Interfaces: ifs, Port: 18733})
				err = a.Set([]discovery.Announcement{ann})
			}
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		t.Fatalf("spoofed announcer: %v", err)
	}
	return a.Close
}

// mustBudgie runs budgie on n and fails the test on error.
func mustBudgie(ctx context.Context, t *testing.T, n *testkit.LabNode, args ...string) string {
	t.Helper()
	out, err := n.Budgie(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitAnnounced waits until n's keeper lists container name (announced
// with identity fp, unless fp is empty).
func waitAnnounced(ctx context.Context, t *testing.T, n *testkit.LabNode, name, fp string) {
	t.Helper()
	kc := keeper.NewClient(n.DataDir)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, _ := kc.Peers(ctx)
		for _, node := range resp.Nodes {
			for _, p := range node.Containers {
				if p.Name == name && !node.Local && (fp == "" || p.Fingerprint == fp) {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never saw container %s announced with identity %q", n.Name, name, fp)
}

// waitReplicaOK waits until n's keeper reports its replicas in sync.
func waitReplicaOK(ctx context.Context, t *testing.T, n *testkit.LabNode) {
	t.Helper()
	kc := keeper.NewClient(n.DataDir)
	var reps []models.ReplicaStatus
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		reps, _ = kc.Replicas(ctx)
		if len(reps) == 1 && reps[0].State == models.ReplicaOK && reps[0].Syncs >= len(replVolumes) {
			t.Logf("%s: replica %s in sync with %s", n.Name, reps[0].Name, reps[0].PrimaryNode)
			return
		}
	}
	t.Fatalf("%s: replicas not in sync: %+v", n.Name, reps)
}

func volDir(n *testkit.LabNode, vol string) string { return filepath.Join(n.DataDir, "volumes", vol) }

func writeRandom(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.CopyN(f, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o640); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func mustRemove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// treeHash hashes a directory tree: every entry's path, kind, mode,
// symlink target, and for files size, mtime and content. The root's own
// metadata and sync temp files are left out.
func treeHash(t *testing.T, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(d.Name(), ".budgie-sync.") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case info.Mode().IsRegular():
			line += fmt.Sprintf(" %d %d %s", info.Size(), info.ModTime().UnixNano(), fileHash(t, p))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return fmt.Sprintf("%d entries %s", len(lines), hex.EncodeToString(sum[:8]))
}

func fileHash(t *testing.T, p string) string {
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// waitSame waits until two trees hash the same and returns how long it took.
func waitSame(t *testing.T, a, b string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ha, hb := treeHash(t, a), treeHash(t, b)
		if ha == hb {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s and %s still differ after %v: %s vs %s", a, b, timeout, ha, hb)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// throttle limits what n sends, so that a transfer takes long enough to
// be interrupted.
func throttle(t *testing.T, n *testkit.LabNode, rate string) {
	t.Helper()
	out, err := n.Exec(context.Background(), "tc", "qdisc", "add", "dev", testkit.LabIface, "root", "tbf",
		"rate", rate, "burst", "256kb", "latency", "200ms").CombinedOutput()
	if err != nil {
		t.Fatalf("tc: %v: %s", err, out)
	}
	t.Cleanup(func() { unthrottle(t, n) })
}

func unthrottle(t *testing.T, n *testkit.LabNode) {
	_ = n.Exec(context.Background(), "tc", "qdisc", "del", "dev", testkit.LabIface, "root").Run()
}

func sizeOf(info fs.FileInfo) int64 {
	if info == nil {
		return -1
	}
	return info.Size()
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
