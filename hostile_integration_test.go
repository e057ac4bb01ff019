//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// hostilePort is where the hostile node serves its own "replication".
const hostilePort = 18740

// testHostileNode runs, from node3's namespace, a paired-but-hostile node
// built from Budgie's own protocol code: node2 trusts it and is asked to
// replicate its container, whose plan names the replica's identity
// directory as a volume, a bind mount of / and the host network. Then the
// same namespace floods node1's replication port with idle connections,
// garbage and oversized frames. node2's identity and trust store must be
// unchanged, nothing must run, and node1's keeper must keep serving node2.
func testHostileNode(ctx context.Context, t *testing.T, lab *testkit.Lab, n1, n2 *testkit.LabNode) {
	n3 := lab.Nodes[2]
	evil, err := identity.Load(t.TempDir(), identity.LoadOptions{Name: "hostile"})
	if err != nil {
		t.Fatal(err)
	}
	mustBudgie(ctx, t, n2, "trust", "add", evil.ID.String())
	n2ID, err := identity.ParseID(strings.TrimSpace(mustBudgie(ctx, t, n2, "id")))
	if err != nil {
		t.Fatal(err)
	}
	cid := strings.Repeat("ee", 32)
	inNetNS(t, n3, func() error { return serveHostile(ctx, t, n3.Addr, evil, n2ID, cid) })
	stop := spoof(t, n3, discovery.Announcement{
		Kind: discovery.KindContainer, NodeID: strings.Repeat("e0", 16), NodeName: "hostile", SyncPort: hostilePort,
		Fingerprint: evil.ID.String(), ContainerID: cid, ContainerName: "evil", Image: replImage, State: models.StateRunning,
	})
	defer stop()
	waitAnnounced(ctx, t, n2, "evil", evil.ID.String())

	guarded := []string{filepath.Join(n2.DataDir, identity.DirName), filepath.Join(n2.DataDir, "trust.json")}
	before := hashPaths(t, guarded)
	for _, args := range [][]string{{"chirp", "evil@hostile", "--dry-run"}, {"chirp", "evil@hostile"}} {
		out, err := n2.Budgie(ctx, args...)
		if err == nil || !strings.Contains(err.Error(), "plan is refused") {
			t.Fatalf("%v: out %q err %v; want the plan refused", args, out, err)
		}
		t.Logf("%v was told: %s", args, lastLine(err.Error()))
	}
	if after := hashPaths(t, guarded); after != before {
		t.Fatalf("node2's identity or trust store changed:\nbefore %s\nafter  %s", before, after)
	}
	if ps := mustBudgie(ctx, t, n2, "ps", "-a", "--format", "{{.Name}}"); strings.Contains(ps, "evil") {
		t.Fatalf("node2 made a container from the hostile plan: %q", ps)
	}

	mustBudgie(ctx, t, n1, "trust", "add", evil.ID.String())
	n1ID, err := identity.ParseID(strings.TrimSpace(mustBudgie(ctx, t, n1, "id")))
	if err != nil {
		t.Fatal(err)
	}
	var flood []net.Conn
	inNetNS(t, n3, func() error { flood = floodSyncPort(t, n1.Addr); return nil })
	start := time.Now()
	mustBudgie(ctx, t, n1, "ps")
	t.Logf("node1's keeper answered ps %v after the flood", time.Since(start))
	tree := volDir(n1, "repl-tree")
	writeFile(t, filepath.Join(tree, "after-flood.txt"), "still syncing\n")
	d := waitSame(t, tree, volDir(n2, "repl-tree"), 10*time.Second)
	t.Logf("a change on node1 reached node2 %v after, during the flood", d)
	for _, c := range flood {
		c.Close()
	}
	var closed error
	for try := 0; try < 10; try++ { // the flood's connections leave node1's per-address count as it notices
		inNetNS(t, n3, func() error { closed = oversizedFrame(n1.Addr, evil, n1ID); return nil })
		if closed == nil || !strings.Contains(closed.Error(), "handshake") {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if closed != nil {
		t.Fatalf("a trusted node's oversized frame: %v", closed)
	}
}

// serveHostile serves the hostile node's plan on addr:hostilePort. The
// listener belongs to the calling thread's network namespace.
func serveHostile(ctx context.Context, t *testing.T, addr string, evil *identity.Identity, victim identity.ID, cid string) error {
	store, err := identity.OpenTrustStore(t.TempDir(), identity.TrustStoreOptions{})
	if err != nil {
		return err
	}
	if err := store.Trust(ctx, victim, "victim"); err != nil {
		return err
	}
	payload := t.TempDir()
	if err := os.WriteFile(filepath.Join(payload, "key.pem"), []byte("attacker's key\n"), 0o600); err != nil {
		return err
	}
	plan := models.ReplicaPlan{
		NodeID: strings.Repeat("e0", 16), NodeName: "hostile", Identity: evil.ID.String(), ContainerID: cid, Name: "evil",
		Image: replImage, ImageDigest: "sha256:" + strings.Repeat("0b", 32),
		Spec: models.ContainerSpec{Name: "evil", Image: replImage, Networks: []string{models.HostNetwork},
			Labels: map[string]string{replica.LabelReplicable: "true"},
			Volumes: []models.VolumeMount{
				{Kind: models.VolumeNamed, Source: "../identity", Target: "/steal"},
				{Kind: models.VolumeBind, Source: "/", Target: "/host"},
			}},
		Volumes: []models.ReplicaVolume{{Name: "../identity", Target: "/steal"}},
	}
	srv := volsync.NewServer(volsync.ServerOptions{
		Volumes:   func(string) (string, bool) { return payload, true },
		Authorize: func(volsync.PeerInfo, string) bool { return true },
		Meta:      func(volsync.PeerInfo, string) ([]byte, error) { return json.Marshal(plan) },
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(hostilePort)))
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go srv.Serve(sctx, tls.NewListener(ln, identity.ServerConfig(evil, store)))
	return nil
}

// floodSyncPort opens idle connections that never finish a handshake,
// sends garbage and a frame header announcing a huge payload, all at
// node1's replication port; the caller holds them open while node1 must
// go on serving node2, then closes them.
func floodSyncPort(t *testing.T, addr string) []net.Conn {
	target := net.JoinHostPort(addr, "18733")
	var conns []net.Conn
	junk := make([]byte, 64<<10)
	rand.Read(junk)
	huge := bin.BigEndian.AppendUint32([]byte{0x16, 0x03, 0x01}, 1<<31)
	for i := 0; i < 300; i++ {
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			continue // refused by a connection cap: that is the point
		}
		conns = append(conns, c)
		switch i % 3 {
		case 1:
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(junk)
		case 2:
			c.SetWriteDeadline(time.Now().Add(time.Second))
			c.Write(huge)
		}
	}
	t.Logf("flood: %d of 300 connections to node1's replication port were opened", len(conns))
	return conns
}

// oversizedFrame completes a handshake as a node node1 trusts and sends a
// frame header announcing a 1 GiB payload: node1 must close the
// connection rather than allocate or wait for it.
func oversizedFrame(addr string, evil *identity.Identity, primary identity.ID) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: identity.ClientConfig(evil, primary)}
	c, err := d.Dial("tcp", net.JoinHostPort(addr, "18733"))
	if err != nil {
		return fmt.Errorf("handshake as a trusted node: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(bin.BigEndian.AppendUint32([]byte{0x01}, 1<<30)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return fmt.Errorf("node1 kept the connection of a 1 GiB frame open for 20 s")
			}
			return nil
		}
	}
}

// inNetNS runs f on a thread inside node's network namespace; sockets f
// opens stay in that namespace. The thread is never returned to the pool.
func inNetNS(t *testing.T, node *testkit.LabNode, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		fd, err := os.Open("/run/netns/" + node.NetNS)
		if err == nil {
			err = unix.Setns(int(fd.Fd()), unix.CLONE_NEWNET)
			fd.Close()
		}
		if err == nil {
			err = f()
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatalf("enter %s's namespace: %v", node.Name, err)
	}
}

// hashPaths hashes the files under paths, for a before/after comparison.
func hashPaths(t *testing.T, paths []string) string {
	t.Helper()
	var out []string
	for _, p := range paths {
		if info, err := os.Stat(p); err == nil && !info.IsDir() {
			out = append(out, p+" "+fileHash(t, p))
			continue
		}
		out = append(out, p+" "+treeHash(t, p))
	}
	return strings.Join(out, "\n")
}
