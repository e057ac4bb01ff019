//go:build integration

package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/snapshots"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunListResolve(t *testing.T) {
	ctx := context.Background()
	c := run(t, spec(t))
	if c.State != models.StateRunning || c.Pid == 0 || len(c.ID) != 64 {
		t.Fatalf("after run: %+v", c)
	}
	if c.Node != "testnode" {
		t.Errorf("node = %q", c.Node)
	}
	for _, ref := range []string{c.ID, c.Name, c.ID[:12]} {
		got, err := rt.Get(ctx, ref)
		if err != nil || got.ID != c.ID {
			t.Errorf("Get(%q) = %v, %v", ref, got.ID, err)
		}
	}
	running, err := rt.List(ctx, runtime.ListOptions{})
	if err != nil || !contains(running, c.ID) {
		t.Fatalf("List: %v (has it: %v)", err, contains(running, c.ID))
	}
	filters, _ := runtime.ParseFilters([]string{"name=" + c.Name, "status=running"})
	got, _ := rt.List(ctx, runtime.ListOptions{Filters: filters})
	if len(got) != 1 || got[0].ID != c.ID {
		t.Errorf("filtered list = %d containers", len(got))
	}
	filters, _ = runtime.ParseFilters([]string{"status=exited"})
	got, _ = rt.List(ctx, runtime.ListOptions{All: true, Filters: filters})
	if contains(got, c.ID) {
		t.Errorf("status=exited matched a running container")
	}
	if _, err := rt.Get(ctx, "no-such-container"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown container: %v", err)
	}
	if _, err := rt.Run(ctx, models.ContainerSpec{Name: c.Name, Image: testImage}, runtime.RunOptions{}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("duplicate name: %v", err)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	ctx := context.Background()
	// 17 containers: two must share their first hex digit.
	byDigit := map[byte][]string{}
	for i := 0; i < 17; i++ {
		c, err := rt.Create(ctx, spec(t), runtime.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = rt.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true}) })
		byDigit[c.ID[0]] = append(byDigit[c.ID[0]], c.ID)
	}
	for digit, ids := range byDigit {
		if len(ids) < 2 {
			continue
		}
		_, err := rt.Get(ctx, string(digit))
		if !errors.Is(err, errdefs.ErrAmbiguous) {
			t.Fatalf("prefix %q of %d containers: %v", digit, len(ids), err)
		}
		for _, id := range ids {
			if !strings.Contains(err.Error(), id[:12]) {
				t.Errorf("error does not list candidate %s: %v", id[:12], err)
			}
		}
		return
	}
	t.Fatal("no shared first digit among 17 IDs")
}

func TestResourceLimitsInCgroup(t *testing.T) {
	s := spec(t)
	s.Resources = models.Resources{Memory: 64 << 20, CPUQuota: 50000, CPUPeriod: 100000, PidsLimit: 42, CPUShares: 512}
	c := run(t, s)
	checks := map[string]string{
		"memory/memory.limit_in_bytes": strconv.Itoa(64 << 20),
		"cpu/cpu.cfs_quota_us":         "50000",
		"cpu/cpu.cfs_period_us":        "100000",
		"cpu/cpu.shares":               "512",
		"pids/pids.max":                "42",
	}
	for file, want := range checks {
		ctrl, name, _ := strings.Cut(file, "/")
		path := filepath.Join("/sys/fs/cgroup", ctrl, cgroupPath(t, c.Pid, ctrl), name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if got := strings.TrimSpace(string(b)); got != want {
			t.Errorf("%s = %s, want %s", file, got, want)
		}
	}
}

// cgroupPath returns pid's cgroup path for a v1 controller.
func cgroupPath(t *testing.T, pid uint32, controller string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 {
			for _, c := range strings.Split(parts[1], ",") {
				if c == controller {
					return parts[2]
				}
			}
		}
	}
	t.Fatalf("no %s cgroup for pid %d", controller, pid)
	return ""
}

func TestVolumesSurviveRmButNotRmV(t *testing.T) {
	ctx := context.Background()
	for _, withV := range []bool{false, true} {
		vol := "vol" + strconv.FormatInt(time.Now().UnixNano(), 36)
		s := spec(t, "sh", "-c", "echo kept > /data/file; sleep 3600")
		s.Volumes = []models.VolumeMount{{Kind: models.VolumeNamed, Source: vol, Target: "/data"}}
		c, err := rt.Run(ctx, s, runtime.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(rt.VolumeDir(vol), "file")
		waitFile(t, file)
		if _, err := rt.Remove(ctx, c.ID, runtime.RemoveOptions{}); !errors.Is(err, errdefs.ErrConflict) {
			t.Fatalf("rm of running container without -f: %v", err)
		}
		if _, err := rt.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true, Volumes: withV}); err != nil {
			t.Fatal(err)
		}
		_, statErr := os.Stat(file)
		if withV && statErr == nil {
			t.Errorf("rm -v kept volume %s", vol)
		}
		if !withV {
			if b, err := os.ReadFile(file); err != nil || string(b) != "kept\n" {
				t.Errorf("rm lost volume data: %q %v", b, err)
			}
			if err := rt.RemoveVolume(ctx, vol, false); err != nil {
				t.Error(err)
			}
		}
		if _, err := os.Stat(rt.LogDir(c.ID)); !os.IsNotExist(err) {
			t.Errorf("rm kept the log dir: %v", err)
		}
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s never appeared", path)
}

func TestStopTimeoutAndSignals(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		script   string
		wantCode int
	}{
		// PID 1 without a handler ignores SIGTERM: stop must SIGKILL after the timeout.
		{"ignores SIGTERM", "while :; do sleep 0.1; done", 137},
		{"handles SIGTERM", "trap 'exit 0' TERM; while :; do sleep 0.1; done", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec(t, "sh", "-c", tt.script)
			s.StopTimeout = time.Second
			c := run(t, s)
			start := time.Now()
			got, err := rt.Stop(ctx, c.ID, runtime.StopOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.State != models.StateExited || got.ExitCode != tt.wantCode {
				t.Errorf("after stop: state %s exit %d, want exited %d", got.State, got.ExitCode, tt.wantCode)
			}
			if tt.wantCode == 137 && time.Since(start) < time.Second {
				t.Errorf("SIGKILL came before stop_timeout (%s)", time.Since(start))
			}
		})
	}
}

func TestStopStartRestartKeepLogs(t *testing.T) {
	ctx := context.Background()
	c := run(t, spec(t, "sh", "-c", "echo started; trap 'exit 0' TERM; while :; do sleep 0.1; done"))
	waitLog(t, c.ID, "started\n")
	if _, err := rt.Restart(ctx, c.ID, runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	waitState(t, c.ID, models.StateRunning)
	waitLog(t, c.ID, "started\nstarted\n")
	stopped, err := rt.Stop(ctx, c.Name, runtime.StopOptions{})
	if err != nil || stopped.State != models.StateExited {
		t.Fatalf("stop: %v %s", err, stopped.State)
	}
	if _, err := rt.Stop(ctx, c.Name, runtime.StopOptions{}); err != nil {
		t.Errorf("stop of a stopped container: %v", err)
	}
	started, err := rt.Start(ctx, c.Name)
	if err != nil || started.State != models.StateRunning {
		t.Fatalf("start: %v %s", err, started.State)
	}
	waitLog(t, c.ID, "started\nstarted\nstarted\n")
}

func waitLog(t *testing.T, id, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, _ = readLogs(t, id); got == want {
			return
		}
	}
	t.Fatalf("logs = %q, want %q", got, want)
}

func TestExecExitCodes(t *testing.T) {
	ctx := context.Background()
	c := run(t, spec(t))
	var out safeBuffer
	code, err := rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"sh", "-c", "echo hi; exit 7"}, Stdout: &out})
	if err != nil || code != 7 || out.String() != "hi\n" {
		t.Errorf("exec exit 7: code %d err %v out %q", code, err, out.String())
	}
	var ee *runtime.ExitError
	if _, err := rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"no-such-command"}}); !errors.As(err, &ee) || ee.Code != 127 {
		t.Errorf("missing command: %v", err)
	}
	out = safeBuffer{}
	code, err = rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"cat"}, Stdin: strings.NewReader("from stdin"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "from stdin" {
		t.Errorf("exec with stdin: %d %v %q", code, err, out.String())
	}
	out = safeBuffer{}
	if _, err := rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"id", "-u"}, User: "nobody", Stdout: &out}); err != nil || out.String() != "65534\n" {
		t.Errorf("exec -u nobody: %v %q", err, out.String())
	}
	out = safeBuffer{}
	if _, err := rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"sh", "-c", "pwd; echo $X"}, Workdir: "/tmp", Env: []string{"X=y"}, Stdout: &out}); err != nil || out.String() != "/tmp\ny\n" {
		t.Errorf("exec -w -e: %v %q", err, out.String())
	}
	if _, err := rt.Stop(ctx, c.ID, runtime.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Exec(ctx, c.Name, runtime.ExecOptions{Cmd: []string{"true"}}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("exec in stopped container: %v", err)
	}
}

func TestLogs(t *testing.T) {
	tests := []struct {
		name   string
		script string
		check  func(stdout, stderr string) string // "" when right
	}{
		{"100000 lines", "seq 1 100000", func(out, _ string) string {
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 100000 || lines[0] != "1" || lines[99999] != "100000" {
				return fmt.Sprintf("got %d lines, first %q last %q", len(lines), lines[0], lines[len(lines)-1])
			}
			return ""
		}},
		{"one 100 KiB line", "head -c 102400 /dev/zero | tr '\\0' a; echo", func(out, _ string) string {
			if out != strings.Repeat("a", 102400)+"\n" {
				return fmt.Sprintf("got %d bytes", len(out))
			}
			return ""
		}},
		{"no final newline", "printf 'no newline'", func(out, _ string) string {
			if out != "no newline" {
				return fmt.Sprintf("got %q", out)
			}
			return ""
		}},
		{"stdout and stderr", "echo out; echo err >&2", func(out, errs string) string {
			if out != "out\n" || errs != "err\n" {
				return fmt.Sprintf("stdout %q stderr %q", out, errs)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := run(t, spec(t, "sh", "-c", tt.script))
			code, err := rt.Wait(context.Background(), c.ID)
			if err != nil || code != 0 {
				t.Fatalf("wait: %d %v", code, err)
			}
			// The driver may still be flushing just after the task exits.
			var problem string
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if problem = tt.check(readLogs(t, c.ID)); problem == "" {
					return
				}
			}
			t.Error(problem)
		})
	}
}

func TestInspect(t *testing.T) {
	s := spec(t, "sleep", "3600")
	s.Env = []string{"A=1"}
	s.Labels = map[string]string{"tier": "back"}
	s.Resources = models.Resources{Memory: 32 << 20, CPUQuota: 25000, PidsLimit: 10}
	s.StopTimeout = 3 * time.Second
	c := run(t, s)
	in, err := rt.Inspect(context.Background(), c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != c.ID || in.Name != "/"+s.Name || in.Path != "sleep" || strings.Join(in.Args, " ") != "3600" {
		t.Errorf("identity: %s %s %s %v", in.ID, in.Name, in.Path, in.Args)
	}
	if !in.State.Running || in.State.Status != "running" || in.State.Pid == 0 || in.State.StartedAt == "0001-01-01T00:00:00Z" {
		t.Errorf("state: %+v", in.State)
	}
	if in.HostConfig.Memory != 32<<20 || in.HostConfig.NanoCpus != 250000000 || in.HostConfig.CPUPeriod != 100000 || in.HostConfig.PidsLimit != 10 {
		t.Errorf("host config: %+v", in.HostConfig)
	}
	if in.HostConfig.RestartPolicy.Name != "no" || in.Config.StopTimeout != 3 || in.Config.Labels["tier"] != "back" {
		t.Errorf("config: %+v / %+v", in.HostConfig.RestartPolicy, in.Config)
	}
	if !hasEnv(in.Config.Env, "A=1") || !hasEnvPrefix(in.Config.Env, "PATH=") {
		t.Errorf("env: %v", in.Config.Env)
	}
	if in.Budgie.Node != "testnode" || in.Budgie.Spec.Name != s.Name {
		t.Errorf("budgie section: %+v", in.Budgie)
	}
}

func TestFailedRunLeavesNothing(t *testing.T) {
	ctx := context.Background()
	before := snapshotCount(t)
	vol := "fail" + strconv.FormatInt(time.Now().UnixNano(), 36)
	tests := []struct {
		name string
		spec models.ContainerSpec
		is   error
	}{
		{"missing image", models.ContainerSpec{Name: "f1", Image: "docker.io/library/nope:1"}, errdefs.ErrNotFound},
		{"missing bind source", models.ContainerSpec{Name: "f2", Image: testImage, Volumes: []models.VolumeMount{
			{Kind: models.VolumeNamed, Source: vol, Target: "/v"},
			{Kind: models.VolumeBind, Source: "/nonexistent/dir", Target: "/b"}}}, errdefs.ErrInvalid},
		{"command not found", models.ContainerSpec{Name: "f3", Image: testImage, Args: []string{"/no/such/binary"},
			Volumes: []models.VolumeMount{{Kind: models.VolumeNamed, Source: vol, Target: "/v"}}}, nil},
		{"unsupported field", models.ContainerSpec{Name: "f4", Image: testImage, Networks: []string{"backend"}}, errdefs.ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rt.Run(ctx, tt.spec, runtime.RunOptions{})
			if err == nil {
				t.Fatal("run succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if _, err := rt.Get(ctx, tt.spec.Name); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("container left behind: %v", err)
			}
			if _, err := os.Stat(rt.VolumeDir(vol)); !os.IsNotExist(err) {
				t.Errorf("new volume left behind")
			}
			if n := snapshotCount(t); n != before {
				t.Errorf("snapshots: %d before, %d after", before, n)
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Dir(rt.LogDir("x")))
	for _, e := range entries {
		if _, err := rt.Get(ctx, e.Name()); err != nil {
			t.Errorf("log dir %s has no container", e.Name())
		}
	}
}

func snapshotCount(t *testing.T) int {
	t.Helper()
	n := 0
	err := env.Client().SnapshotService("overlayfs").Walk(env.Context(), func(context.Context, snapshots.Info) error { n++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func contains(cs []models.Container, id string) bool {
	for _, c := range cs {
		if c.ID == id {
			return true
		}
	}
	return false
}

func hasEnv(env []string, kv string) bool {
	for _, e := range env {
		if e == kv {
			return true
		}
	}
	return false
}

func hasEnvPrefix(env []string, p string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, p) {
			return true
		}
	}
	return false
}

func TestNamedVolumeCopyUp(t *testing.T) {
	ctx := context.Background()
	const ref = "docker.io/library/budgie-rt-www:1"
	if err := env.LoadBusybox(testkit.ImageOptions{Ref: ref, Cmd: []string{"sleep", "3600"},
		Files: map[string]string{"var/www/index.html": "from the image"}}); err != nil {
		t.Fatal(err)
	}
	vol := "www" + strconv.FormatInt(time.Now().UnixNano(), 36)
	s := spec(t)
	s.Image = ref
	s.Volumes = []models.VolumeMount{{Kind: models.VolumeNamed, Source: vol, Target: "/var/www"}}
	c := run(t, s)
	b, err := os.ReadFile(filepath.Join(rt.VolumeDir(vol), "index.html"))
	if err != nil || string(b) != "from the image" {
		t.Fatalf("new volume was not filled from the image: %q %v", b, err)
	}
	// An existing volume keeps its own content.
	os.WriteFile(filepath.Join(rt.VolumeDir(vol), "index.html"), []byte("mine"), 0o644)
	if _, err := rt.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	s2 := spec(t)
	s2.Image, s2.Volumes = ref, s.Volumes
	run(t, s2)
	if b, _ := os.ReadFile(filepath.Join(rt.VolumeDir(vol), "index.html")); string(b) != "mine" {
		t.Errorf("existing volume was overwritten: %q", b)
	}
}
