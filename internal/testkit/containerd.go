package testkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/budgie-sh/budgie/engine/daemon"
)

// Namespace is the containerd namespace test environments use.
const Namespace = "budgie-test"

// Env is a private containerd for a test package: its own root, state,
// socket and config in a temporary data directory.
type Env struct {
	// DataDir is the Budgie data directory of the environment.
	DataDir string
	// Conn is the connection to the private containerd.
	Conn *daemon.Connection
}

// Client returns the containerd client.
func (e *Env) Client() *containerd.Client { return e.Conn.Client }

// Context returns a context in the test namespace.
func (e *Env) Context() context.Context {
	return namespaces.WithNamespace(context.Background(), Namespace)
}

// Check reports what an integration test run lacks: root, containerd, runc,
// busybox-static. Integration tests fail (never skip) on a non-empty answer.
func Check() error {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root")
	}
	for _, bin := range []string{"containerd", "runc", "containerd-shim-runc-v2"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if _, err := os.Stat(BusyboxPath); err != nil {
		missing = append(missing, "busybox-static")
	}
	if len(missing) > 0 {
		return fmt.Errorf("integration tests need %s (run as root after: make deps)", strings.Join(missing, ", "))
	}
	return nil
}

// StartContainerd starts a private containerd under a new directory in
// parent (os.TempDir() when empty). Short paths matter: unix socket paths
// are limited to 108 bytes.
func StartContainerd(parent string) (*Env, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "bgt")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := daemon.Connect(ctx, daemon.Options{DataDir: dir, Namespace: Namespace})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Env{DataDir: dir, Conn: conn}, nil
}

// Close stops a keeper of the data directory (see StopKeeper), kills and
// deletes every task and container in the test namespace,
// stops the private containerd, unmounts anything left under the data
// directory and removes it.
func (e *Env) Close() error {
	var errs []string
	if err := StopKeeper(e.DataDir); err != nil {
		errs = append(errs, err.Error())
	}
	ctx, cancel := context.WithTimeout(e.Context(), 5*time.Minute)
	defer cancel()
	if cs, err := e.Client().Containers(ctx); err == nil {
		errs = append(errs, removeAll(ctx, cs)...)
	}
	e.Conn.Close()
	if err := daemon.Stop(e.DataDir, 10*time.Second); err != nil {
		errs = append(errs, err.Error())
	}
	unmountUnder(e.DataDir)
	if err := os.RemoveAll(e.DataDir); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("testkit cleanup: %s", strings.Join(errs, "; "))
	}
	return nil
}

// removeAll kills and deletes every container, eight at a time (a bench
// leaves 500), and returns what failed.
func removeAll(ctx context.Context, cs []containerd.Container) []string {
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for _, c := range cs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := remove(ctx, c); err != nil {
				mu.Lock()
				errs = append(errs, err.Error())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// remove kills c's task, waits up to 10 s for it to exit, and deletes both.
func remove(ctx context.Context, c containerd.Container) error {
	if t, err := c.Task(ctx, nil); err == nil {
		_ = t.Kill(ctx, syscall.SIGKILL)
		if ch, err := t.Wait(ctx); err == nil {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
			}
		}
		if _, err := t.Delete(ctx, containerd.WithProcessKill); err != nil {
			return err
		}
	}
	return c.Delete(ctx, containerd.WithSnapshotCleanup)
}

// unmountUnder lazily unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		_ = syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}

// LoadBusybox builds a busybox-static image named opts.Ref and imports and
// unpacks it into the environment's containerd.
func (e *Env) LoadBusybox(opts ImageOptions) error {
	return LoadBusybox(e.Context(), e.Client(), opts)
}

// LoadBusybox builds a busybox-static image and imports and unpacks it into
// the namespace of ctx.
func LoadBusybox(ctx context.Context, client *containerd.Client, opts ImageOptions) error {
	var buf bytes.Buffer
	if err := WriteBusyboxArchive(&buf, opts); err != nil {
		return err
	}
	imgs, err := client.Import(ctx, &buf)
	if err != nil {
		return fmt.Errorf("import test image: %w", err)
	}
	for _, img := range imgs {
		if err := containerd.NewImage(client, img).Unpack(ctx, ""); err != nil {
			return fmt.Errorf("unpack test image %s: %w", img.Name, err)
		}
	}
	return nil
}

// The default network of test and benchmark data directories: a bridge and
// subnet of their own, so that they never share budgie0 (and its
// addresses) with a Budgie that runs on the same host.
const (
	// TestBridge is the default network's bridge in tests.
	TestBridge = "budgiet0"
	// TestSubnet is the default network's subnet in tests.
	TestSubnet = "10.250.0.0/16"
)

// NetworkEnv are the BUDGIE_ variables that give a budgie process the
// test default network.
func NetworkEnv() []string {
	return []string{"BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + TestBridge, "BUDGIE_NETWORKS_DEFAULT_SUBNET=" + TestSubnet}
}
