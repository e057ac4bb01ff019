//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// cliImage is the busybox-static image every CLI test runs.
const cliImage = "docker.io/library/budgie-cli-test:1"

var (
	ctrEnv *testkit.Env
	binary string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		var err error
		ctrEnv, err = testkit.StartContainerd("")
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		defer ctrEnv.Close()
		if err := ctrEnv.LoadBusybox(testkit.ImageOptions{Ref: cliImage, Cmd: []string{"sleep", "3600"}}); err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		binary = filepath.Join(ctrEnv.DataDir, "budgie")
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build budgie: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// result is one budgie invocation's outcome.
type result struct {
	stdout, stderr string
	code           int
}

// budgie runs the built binary against the test containerd.
func budgie(t *testing.T, args ...string) result {
	t.Helper()
	return budgieEnv(t, testEnv(), args...)
}

// testEnv points the binary at the test containerd and its data directory.
func testEnv() []string {
	return []string{
		"BUDGIE_CONTAINERD_ADDRESS=" + ctrEnv.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + ctrEnv.DataDir,
		"BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET=" + testkit.TestSubnet,
	}
}

func budgieEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--headless"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("budgie %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// must runs budgie and fails the test unless it exits 0.
func must(t *testing.T, args ...string) string {
	t.Helper()
	r := budgie(t, args...)
	if r.code != 0 {
		t.Fatalf("budgie %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// writeBundle writes a bundle for a unique container name and returns its path and name.
func writeBundle(t *testing.T, body string) (string, string) {
	t.Helper()
	name := fmt.Sprintf("cli%d", time.Now().UnixNano())
	path := filepath.Join(t.TempDir(), name+".bun")
	content := "name: " + name + "\nimage: " + cliImage + "\n" + body
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { budgie(t, "rm", "-f", "-v", name) })
	return path, name
}

func TestCLIRunPsStopStartRm(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"echo ready; trap 'exit 0' TERM; while :; do sleep 0.1; done\"]\n")
	id := strings.TrimSpace(must(t, "run", path))
	if len(id) != 64 {
		t.Fatalf("run printed %q, want a 64-character ID", id)
	}
	if out := must(t, "ps", "-q"); !strings.Contains(out, id[:12]) {
		t.Errorf("ps -q lacks %s:\n%s", id[:12], out)
	}
	var listed []struct {
		ID, Name, State string
	}
	if err := json.Unmarshal([]byte(must(t, "ps", "--format", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range listed {
		found = found || (c.ID == id && c.Name == name && c.State == "running")
	}
	if !found {
		t.Errorf("ps --format json lacks the running container: %+v", listed)
	}
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.Name}} {{.State}}"); out != name+" running\n" {
		t.Errorf("ps template = %q", out)
	}
	if out := must(t, "ps", "--filter", "name="+name); !strings.Contains(out, "Up ") || !strings.Contains(out, "CONTAINER ID") {
		t.Errorf("ps table:\n%s", out)
	}
	must(t, "stop", "-t", "5", name)
	if out := must(t, "ps", "-a", "--filter", "name="+name, "--format", "{{.State}} {{.ExitCode}}"); out != "exited 0\n" {
		t.Errorf("after stop: %q", out)
	}
	must(t, "start", id[:12])
	must(t, "restart", name)
	if r := budgie(t, "rm", name); r.code != 1 || !strings.Contains(r.stderr, "stop it first") {
		t.Errorf("rm of a running container: %d %s", r.code, r.stderr)
	}
	must(t, "rm", "-f", name)
	if r := budgie(t, "inspect", name); r.code != 3 || !strings.Contains(r.stderr, "no such container") {
		t.Errorf("inspect after rm: %d %s", r.code, r.stderr)
	}
}

func TestCLIAttachExitCodeAndRm(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"echo out; echo err >&2; exit 3\"]\n")
	r := budgie(t, "run", "--attach", "--rm", path)
	if r.code != 3 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("run --attach: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := budgie(t, "inspect", name); r.code != 3 {
		t.Errorf("--rm left the container: %d", r.code)
	}
}

func TestCLIDetachedRm(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"sleep 0.5\"]\n")
	must(t, "run", "--rm", path)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if budgie(t, "inspect", name).code == 3 {
			return
		}
	}
	t.Fatal("detached --rm container still exists after it exited")
}

func TestCLIExecLogsInspect(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"seq 1 5; sleep 3600\"]\nenv: {GREETING: hello}\n")
	must(t, "run", path)
	if r := budgie(t, "exec", name, "sh", "-c", "echo $GREETING; exit 5"); r.code != 5 || r.stdout != "hello\n" {
		t.Errorf("exec: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := budgie(t, "exec", name, "no-such-cmd"); r.code != 127 {
		t.Errorf("exec of a missing command: exit %d %s", r.code, r.stderr)
	}
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out = must(t, "logs", "--tail", "2", name); out == "4\n5\n" {
			break
		}
	}
	if out != "4\n5\n" {
		t.Errorf("logs --tail 2 = %q", out)
	}
	if out := must(t, "logs", "-t", "--tail", "1", name); !strings.HasSuffix(out, " 5\n") || !strings.HasPrefix(out, "20") {
		t.Errorf("logs -t = %q", out)
	}
	var in []map[string]any
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect: %v %d", err, len(in))
	}
	state := in[0]["State"].(map[string]any)
	if in[0]["Name"] != "/"+name || state["Running"] != true {
		t.Errorf("inspect: Name %v State %v", in[0]["Name"], state)
	}
	if out := must(t, "inspect", "-f", "{{.State.Status}}", name); out != "running\n" {
		t.Errorf("inspect -f = %q", out)
	}
}

func TestCLIErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.bun")
	os.WriteFile(bad, []byte("name: x\nimgae: busybox\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"unknown container", []string{"stop", "no-such-thing"}, 3, "no such container"},
		{"bad bundle", []string{"run", bad}, 2, "bad.bun:2"},
		{"bad filter", []string{"ps", "--filter", "colour=red"}, 2, "filter"},
		{"bad tail", []string{"logs", "--tail", "x", "y"}, 2, "--tail"},
		{"unknown command", []string{"frobnicate"}, 2, "frobnicate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := budgie(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.contains) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", r.code, tt.code, r.stderr, tt.contains)
			}
		})
	}
}

func TestCLIVolumes(t *testing.T) {
	vol := fmt.Sprintf("v%d", time.Now().UnixNano())
	path, name := writeBundle(t, "args: [sh, -c, \"echo data > /data/f; sleep 3600\"]\nvolumes: [\""+vol+":/data\"]\n")
	must(t, "run", path)
	if out := must(t, "volume", "ls"); !strings.Contains(out, vol) || !strings.Contains(out, name) {
		t.Errorf("volume ls:\n%s", out)
	}
	if r := budgie(t, "volume", "rm", vol); r.code != 1 || !strings.Contains(r.stderr, "in use") {
		t.Errorf("volume rm in use: %d %s", r.code, r.stderr)
	}
	must(t, "rm", "-f", name)
	if out := must(t, "volume", "inspect", vol); !strings.Contains(out, `"used_by": []`) {
		t.Errorf("volume inspect after rm:\n%s", out)
	}
	must(t, "volume", "rm", vol)
	if r := budgie(t, "volume", "inspect", vol); r.code != 3 {
		t.Errorf("volume inspect after rm: %d", r.code)
	}
}

// TestCLIManagedContainerd checks the embedded default: with nothing at the
// configured address, budgie starts its own containerd under data_dir, says
// so once, and later invocations reuse it.
func TestCLIManagedContainerd(t *testing.T) {
	dir, err := os.MkdirTemp("", "bgm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Stop(dir, 10*time.Second)
		os.RemoveAll(dir)
	})
	env := []string{"BUDGIE_CONTAINERD_ADDRESS=" + filepath.Join(dir, "none.sock"), "BUDGIE_DATA_DIR=" + dir}
	first := budgieEnv(t, env, "system", "info")
	if first.code != 0 || !strings.Contains(first.stderr, "started managed containerd") || !strings.Contains(first.stdout, "managed") {
		t.Fatalf("first run: %d\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	second := budgieEnv(t, env, "system", "info", "--format", "json")
	var info struct{ Containerd, Socket, Version string }
	if err := json.Unmarshal([]byte(second.stdout), &info); err != nil {
		t.Fatal(err, second.stdout)
	}
	if second.stderr != "" || info.Containerd != "managed" || info.Socket != filepath.Join(dir, "containerd", "containerd.sock") || info.Version == "" {
		t.Errorf("second run: %+v stderr %q", info, second.stderr)
	}
}
