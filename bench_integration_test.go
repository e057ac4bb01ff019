//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// The benchmarks compare budgie's CLI with containerd's own ctr on the same
// containerd, image and machine. Run them with `make bench`.

func ctr(b *testing.B, args ...string) {
	b.Helper()
	out, err := exec.Command("ctr", append([]string{"-a", ctrEnv.Conn.Address, "-n", testkit.Namespace}, args...)...).CombinedOutput()
	if err != nil {
		b.Fatalf("ctr %v: %v\n%s", args, err, out)
	}
}

func benchBudgie(b *testing.B, args ...string) {
	b.Helper()
	cmd := exec.Command(binary, append([]string{"--headless"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(),
		"BUDGIE_CONTAINERD_ADDRESS=" + ctrEnv.Conn.Address, "BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + ctrEnv.DataDir, "BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET=" + testkit.TestSubnet}
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("budgie %v: %v\n%s", args, err, out)
	}
}

// BenchmarkRunToRunning: `budgie run BUNDLE` returns once the task runs.
func BenchmarkRunToRunning(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("bench%d", time.Now().UnixNano())
		path := filepath.Join(dir, name+".bun")
		os.WriteFile(path, []byte("name: "+name+"\nimage: "+cliImage+"\nargs: [sleep, '3600']\n"), 0o644)
		b.StartTimer()
		benchBudgie(b, "run", path)
		b.StopTimer()
		benchBudgie(b, "rm", "-f", name)
		b.StartTimer()
	}
}

// BenchmarkCtrRunToRunning: `ctr run -d` on the same containerd.
func BenchmarkCtrRunToRunning(b *testing.B) {
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("ctrbench%d", time.Now().UnixNano())
		ctr(b, "run", "-d", cliImage, id, "sleep", "3600")
		b.StopTimer()
		ctr(b, "task", "rm", "-f", id)
		ctr(b, "container", "rm", id)
		b.StartTimer()
	}
}

// with300 makes sure 300 running containers exist for the ps benchmarks.
func with300(b *testing.B) {
	b.Helper()
	eng := openTestEngine(b)
	have, err := eng.Runtime.List(context.Background(), listAll)
	if err != nil {
		b.Fatal(err)
	}
	for i := len(have); i < 300; i++ {
		if _, err := eng.Runtime.Run(context.Background(), benchSpec(i), runOpts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPs300: `budgie ps -a` with 300 running containers.
func BenchmarkPs300(b *testing.B) {
	with300(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchBudgie(b, "ps", "-a")
	}
}

// BenchmarkCtrPs300: `ctr t ls` + `ctr c ls` with the same 300 containers.
func BenchmarkCtrPs300(b *testing.B) {
	with300(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctr(b, "t", "ls")
		ctr(b, "c", "ls")
	}
}
