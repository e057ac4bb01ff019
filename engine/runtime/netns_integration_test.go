//go:build integration

package runtime_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/containerd/typeurl/v2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// pinnedInode returns the namespace inode pinned at path; ok is false when
// nothing is pinned there.
func pinnedInode(t *testing.T, path string) (uint64, bool) {
	t.Helper()
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, false
	}
	if fs.Type != unix.NSFS_MAGIC {
		return 0, false
	}
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino, true
}

// taskNetNS returns the inode of the network namespace c's task is in.
func taskNetNS(t *testing.T, id string) uint64 {
	t.Helper()
	cc, err := env.Client().LoadContainer(env.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	task, err := cc.Task(env.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", task.Pid()), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// fetchName GETs / from the container's address on port 80, from the
// host, and returns the body (netSpec serves the container's hostname).
func fetchName(t *testing.T, c models.Container) string {
	t.Helper()
	if len(c.Endpoints) == 0 {
		t.Fatalf("%s has no endpoint", c.Name)
	}
	var last error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort(c.Endpoints[0].IP, "80"), time.Second)
		if err != nil {
			last = err
			continue
		}
		_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
		_, _ = io.WriteString(conn, "GET / HTTP/1.0\r\n\r\n")
		b, err := io.ReadAll(conn)
		conn.Close()
		if err != nil {
			last = err
			continue
		}
		if _, body, ok := strings.Cut(string(b), "\r\n\r\n"); ok {
			return strings.TrimSpace(body)
		}
	}
	t.Fatalf("no answer from %s at %s: %v", c.Name, c.Endpoints[0].IP, last)
	return ""
}

func specNetNS(t *testing.T, id string) string {
	t.Helper()
	cc, err := env.Client().LoadContainer(env.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cc.Spec(env.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			return ns.Path
		}
	}
	t.Fatalf("the spec of %s has no network namespace", id)
	return ""
}

// TestPinnedNetNS: a container on a network runs in the namespace Budgie
// pinned for it (its spec names it; the task is in it; it answers on its
// address); the namespace ends when its task is stopped, collected when
// its task died unwatched, and is made again by the next start; removal
// leaves no file.
func TestPinnedNetNS(t *testing.T) {
	r, nets, n := netRuntime(t)
	ctx := context.Background()
	c := runOn(t, r, netSpec(t, n))
	path := r.NetNSPath(c.ID)
	if got := specNetNS(t, c.ID); got != path {
		t.Fatalf("spec's network namespace is %q, want %q", got, path)
	}
	ino, ok := pinnedInode(t, path)
	if !ok || ino != taskNetNS(t, c.ID) {
		t.Fatalf("pinned %v inode %d; the task's namespace is %d", ok, ino, taskNetNS(t, c.ID))
	}
	if got := fetchName(t, c); got != c.Name {
		t.Fatalf("%s answered %q, want its hostname %q", c.Endpoints[0].IP, got, c.Name)
	}

	// Stopped: the namespace and the lease are gone.
	if _, err := r.Stop(ctx, c.ID, runtime.StopOptions{Timeout: ptr(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("stopped container's namespace file: %v", err)
	}
	// Started again: a new namespace, joined again.
	c2, err := r.Start(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	ino2, ok := pinnedInode(t, path)
	if !ok || ino2 == ino || ino2 != taskNetNS(t, c.ID) {
		t.Fatalf("after a start: pinned %v inode %d (was %d), task's %d", ok, ino2, ino, taskNetNS(t, c.ID))
	}
	if got := fetchName(t, c2); got != c.Name {
		t.Fatalf("after a start %s answered %q", c2.Endpoints[0].IP, got)
	}

	// Killed with nobody watching: the namespace stays pinned until the
	// next start on the node collects it with the lease.
	if _, err := r.Kill(ctx, c.ID, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	waitStateOn(t, r, c.ID, models.StateExited)
	if _, ok := pinnedInode(t, path); !ok {
		t.Fatal("the killed task's namespace is gone already; the collection below proves nothing")
	}
	runOn(t, r, netSpec(t, n))
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Errorf("the dead task's namespace survived the next start: %v", err)
	}
	if l, held := leaseOf(t, nets, c.ID); held {
		t.Errorf("the dead task's lease survived the next start: %+v", l)
	}

	if _, err := r.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + ".start"} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("removed container left %s: %v", p, err)
		}
	}
}

// TestStartAfterTaskVanished: a container on a network whose task is gone
// from containerd without Budgie seeing it end (the machine rebooted, or
// containerd lost its state) still holds its lease and pinned namespace;
// starting that same container again releases them and joins it anew,
// rather than refusing because it "already has interface eth0" (its own
// start lock, held by the start, used to make the stale lease look busy).
func TestStartAfterTaskVanished(t *testing.T) {
	r, nets, n := netRuntime(t)
	ctx := context.Background()
	c := runOn(t, r, netSpec(t, n))
	cc, err := env.Client().LoadContainer(env.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	task, err := cc.Task(env.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// containerd's own kill and delete: no Budgie code runs, as when the
	// task dies with the machine.
	if _, err := task.Delete(env.Context(), containerd.WithProcessKill); err != nil {
		t.Fatal(err)
	}
	if _, held := leaseOf(t, nets, c.ID); !held {
		t.Fatal("the vanished task's lease is gone already; the start below proves nothing")
	}
	c2, err := r.Start(ctx, c.ID)
	if err != nil {
		t.Fatalf("start after the task vanished: %v", err)
	}
	if len(c2.Endpoints) != 1 {
		t.Fatalf("endpoints after the start: %+v", c2.Endpoints)
	}
	if got := fetchName(t, c2); got != c.Name {
		t.Fatalf("%s answered %q, want %q", c2.Endpoints[0].IP, got, c.Name)
	}
	if ino, ok := pinnedInode(t, r.NetNSPath(c.ID)); !ok || ino != taskNetNS(t, c.ID) {
		t.Fatalf("pinned %v inode %d; the task's namespace is %d", ok, ino, taskNetNS(t, c.ID))
	}
}

// TestPinnedNetNSStartInProgress: a start holds its container's start lock
// from before its namespace and lease exist until its task does; the
// collector of another start (another Budgie process, as far as the locks
// go) leaves both alone meanwhile, and collects them once the lock is free
// and no task came.
func TestPinnedNetNSStartInProgress(t *testing.T) {
	r, nets, n := netRuntime(t)
	ctx := context.Background()
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	id := hex.EncodeToString(b)
	unlock, err := r.LockStart(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.PinNetNS(id); err != nil {
		unlock()
		t.Fatal(err)
	}
	if _, err := nets.Attach(ctx, network.AttachOptions{ContainerID: id, Network: n.Name, NetNS: r.NetNSPath(id)}); err != nil {
		unlock()
		t.Fatal(err)
	}
	if err := r.CollectLeases(ctx); err != nil {
		unlock()
		t.Fatal(err)
	}
	_, pinned := pinnedInode(t, r.NetNSPath(id))
	_, leased := leaseOf(t, nets, id)
	unlock()
	if !pinned || !leased {
		t.Fatalf("a start in progress lost its namespace (%v) or its lease (%v) to the collector", pinned, leased)
	}
	if err := r.CollectLeases(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(r.NetNSPath(id)); !os.IsNotExist(err) {
		t.Errorf("a start that made no task left its namespace: %v", err)
	}
	if l, held := leaseOf(t, nets, id); held {
		t.Errorf("a start that made no task left its lease: %+v", l)
	}
	_ = os.Remove(r.NetNSPath(id) + ".start")
}

// TestUnpinnedSpecStillJoins: a container whose spec names no namespace
// (made by an earlier Budgie) is joined through its task's namespace, as
// before.
func TestUnpinnedSpecStillJoins(t *testing.T) {
	r, _, n := netRuntime(t)
	ctx := context.Background()
	c, err := r.Create(ctx, netSpec(t, n), runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = r.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true}) })
	cc, err := env.Client().LoadContainer(env.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	err = cc.Update(env.Context(), func(_ context.Context, _ *containerd.Client, ci *containers.Container) error {
		var s oci.Spec
		if err := json.Unmarshal(ci.Spec.GetValue(), &s); err != nil {
			return err
		}
		for i := range s.Linux.Namespaces {
			if s.Linux.Namespaces[i].Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = ""
			}
		}
		ci.Spec, err = typeurl.MarshalAny(&s)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err = r.Start(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(r.NetNSPath(c.ID)); !os.IsNotExist(err) {
		t.Errorf("an unpinned container got a namespace file: %v", err)
	}
	if got := fetchName(t, c); got != c.Name {
		t.Fatalf("%s answered %q, want %q", c.Endpoints[0].IP, got, c.Name)
	}
}

// listenEnv names the socket the test binary, run again as a helper,
// listens on (TestMain).
const listenEnv = "BUDGIE_TEST_LISTEN"

// listenUntilEOF listens on the unix socket at path, says "ready" on
// stdout and holds every connection until stdin ends.
func listenUntilEOF(path string) int {
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestOtherMountNamespaceJoinsUnpinned: when what answers on containerd's
// socket runs in another mount namespace (runc would not see Budgie's
// mount), a container is made without a pinned namespace, and one made
// with a path has it taken out of its spec at its next start; both join
// their network the old way and answer on their address.
func TestOtherMountNamespaceJoinsUnpinned(t *testing.T) {
	r, nets, n := netRuntime(t)
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "other.sock")
	helper := exec.Command("unshare", "--mount", "--propagation", "private", os.Args[0])
	helper.Env = append(os.Environ(), listenEnv+"="+sock)
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	helper.Stderr = os.Stderr
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = helper.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("helper in another mount namespace: %q %v", line, err)
	}
	exe, _ := os.Executable()
	other, err := runtime.New(env.Client(), runtime.Options{
		Namespace: testkit.Namespace, DataDir: env.DataDir, NodeName: testkit.NodeName, LogBinary: exe, Networks: nets,
		ContainerdAddress: sock,
	})
	if err != nil {
		t.Fatal(err)
	}

	a := runOn(t, other, netSpec(t, n))
	if got := specNetNS(t, a.ID); got != "" {
		t.Errorf("made across mount namespaces, the spec names %q; want no path", got)
	}
	if got := fetchName(t, a); got != a.Name {
		t.Errorf("%s answered %q, want %q", a.Endpoints[0].IP, got, a.Name)
	}

	b, err := r.Create(ctx, netSpec(t, n), runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = r.Remove(context.Background(), b.ID, runtime.RemoveOptions{Force: true}) })
	if got := specNetNS(t, b.ID); got != r.NetNSPath(b.ID) {
		t.Fatalf("made by a pinning runtime, the spec names %q", got)
	}
	b, err = other.Start(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := specNetNS(t, b.ID); got != "" {
		t.Errorf("started across mount namespaces, the spec still names %q", got)
	}
	if _, err := os.Lstat(r.NetNSPath(b.ID)); !os.IsNotExist(err) {
		t.Errorf("started across mount namespaces, a namespace file: %v", err)
	}
	if got := fetchName(t, b); got != b.Name {
		t.Errorf("%s answered %q, want %q", b.Endpoints[0].IP, got, b.Name)
	}
}
