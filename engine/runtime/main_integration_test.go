//go:build integration

package runtime_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// testImage is a busybox-static image loaded into the package's containerd.
const testImage = "docker.io/library/budgie-rt-test:1"

var (
	env *testkit.Env
	rt  *runtime.Runtime
)

// TestMain starts one private containerd for the package; the test binary
// doubles as Budgie's log driver.
func TestMain(m *testing.M) {
	if path := os.Getenv(listenEnv); path != "" {
		os.Exit(listenUntilEOF(path)) // the helper of TestOtherMountNamespaceJoinsUnpinned
	}
	os.Exit(testkit.RuntimeMain(m, testImage, func(e *testkit.Env, r *runtime.Runtime) (func(), error) {
		env, rt = e, r
		return nil, nil
	}))
}

// spec returns a container spec on the test image with a unique name.
func spec(t *testing.T, args ...string) models.ContainerSpec {
	t.Helper()
	s := models.ContainerSpec{Name: fmt.Sprintf("t%d", time.Now().UnixNano()), Image: testImage}
	if len(args) > 0 {
		s.Args = args
	}
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
		_, _ = rt.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true, Volumes: true})
	})
	return c
}

// waitState polls until the container reaches state or the deadline passes.
func waitState(t *testing.T, ref string, state models.ContainerState) models.Container {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := rt.Get(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == state {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s, want %s", ref, c.State, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readLogs returns all of a container's stdout and stderr.
func readLogs(t *testing.T, id string) (string, string) {
	t.Helper()
	var out, errb safeBuffer
	if err := logs.Read(context.Background(), rt.LogDir(id), logs.ReadOptions{Stdout: &out, Stderr: &errb, Tail: -1}); err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String()
}
