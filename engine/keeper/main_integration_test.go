//go:build integration

package keeper_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

const testImage = "docker.io/library/budgie-keeper-test:1"

// keeperEnv, when set, makes the test binary a keeper process: the value
// is "CONTAINERD_DATA_DIR:KEEPER_DATA_DIR".
const keeperEnv = "BUDGIE_TEST_KEEPER"

var (
	env *testkit.Env
	rt  *runtime.Runtime
)

// TestMain starts one private containerd for the package. The test binary
// doubles as Budgie's log driver ("_log-driver DIR") and as the keeper
// process the tests start, kill -9 and start again.
func TestMain(m *testing.M) {
	if v := os.Getenv(keeperEnv); v != "" {
		os.Exit(runKeeper(v))
	}
	os.Exit(testkit.RuntimeMain(m, testImage, func(e *testkit.Env, r *runtime.Runtime) (func(), error) {
		env, rt = e, r
		return nil, nil
	}))
}

// runKeeper is the keeper process: its own containerd connection and runtime.
func runKeeper(arg string) int {
	ctrdDir, dir, _ := strings.Cut(arg, ":")
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	opts := daemon.Options{DataDir: ctrdDir, Namespace: testkit.Namespace, NoStart: true}
	conn, err := daemon.Connect(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keeper:", err)
		return 1
	}
	krt, err := (&testkit.Env{DataDir: ctrdDir, Conn: conn}).Runtime()
	if err != nil {
		fmt.Fprintln(os.Stderr, "keeper:", err)
		return 1
	}
	if err := keeper.Run(ctx, keeper.Options{DataDir: dir, Runtime: krt, Version: "test"}); err != nil {
		fmt.Fprintln(os.Stderr, "keeper:", err)
		return 1
	}
	return 0
}

// keeperProc is a keeper running as a child process.
type keeperProc struct {
	dir    string
	cmd    *exec.Cmd
	client *keeper.Client
	done   chan struct{}
}

// startKeeper starts a keeper process on dir (a new temp dir when empty)
// and waits until it answers. It is killed when the test ends.
func startKeeper(t *testing.T, dir string) *keeperProc {
	t.Helper()
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "bgk"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	exe, _ := os.Executable()
	logf, err := os.OpenFile(filepath.Join(dir, "test-keeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), keeperEnv+"="+env.DataDir+":"+dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &keeperProc{dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill(syscall.SIGTERM) })
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := keeper.Dial(context.Background(), dir)
		if err == nil {
			p.client = c
			rt.SetKeeperState(c)
			return p
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(dir, "test-keeper.log"))
			t.Fatalf("keeper exited at start: %s", b)
		case <-time.After(30 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("keeper does not answer: %v", err)
		}
	}
}

// kill signals the keeper and waits until it is gone.
func (p *keeperProc) kill(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// spec returns a spec on the test image with a unique name.
func spec(args ...string) models.ContainerSpec {
	s := models.ContainerSpec{Name: fmt.Sprintf("k%d", time.Now().UnixNano()), Image: testImage, StopTimeout: time.Second}
	s.Args = args
	return s
}

// run starts s and removes it when the test ends.
func run(t *testing.T, s models.ContainerSpec) models.Container {
	t.Helper()
	c, err := rt.Run(context.Background(), s, runtime.RunOptions{})
	if err != nil {
		t.Fatalf("run %s: %v", s.Name, err)
	}
	t.Cleanup(func() {
		_, _ = rt.Stop(context.Background(), c.ID, runtime.StopOptions{})
		_, _ = rt.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true})
	})
	return c
}

// recorder keeps containerd's task events, to measure restarts by.
type recorder struct {
	mu     sync.Mutex
	events []models.Event
}

func record(t *testing.T) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events, _ := rt.Events(ctx)
	r := &recorder{}
	go func() {
		for ev := range events {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription settle
	return r
}

// times returns when container id had events of type typ.
func (r *recorder) times(id string, typ models.EventType) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []time.Time
	for _, ev := range r.events {
		if ev.ContainerID == id && ev.Type == typ {
			out = append(out, ev.Time)
		}
	}
	return out
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keeperEvents collects the keeper's events for the test.
type keeperEvents struct {
	mu     sync.Mutex
	events []keeper.Notice
}

func watchKeeper(t *testing.T, c *keeper.Client) *keeperEvents {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, _ := c.Events(ctx)
	k := &keeperEvents{}
	go func() {
		for ev := range ch {
			k.mu.Lock()
			k.events = append(k.events, ev)
			k.mu.Unlock()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	return k
}

func (k *keeperEvents) of(id string, typ keeper.NoticeType) []keeper.Notice {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []keeper.Notice
	for _, ev := range k.events {
		if ev.ContainerID == id && ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}
