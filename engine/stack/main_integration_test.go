//go:build integration

package stack_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

const testImage = "docker.io/library/budgie-stack-test:1"

var (
	env *testkit.Env
	rt  *runtime.Runtime
)

// TestMain starts a private containerd and an in-process keeper (which
// gives the runtime its health state). The test binary is the log driver.
func TestMain(m *testing.M) {
	os.Exit(testkit.RuntimeMain(m, testImage, func(e *testkit.Env, r *runtime.Runtime) (func(), error) {
		env, rt = e, r
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- keeper.Run(ctx, keeper.Options{DataDir: env.DataDir, Runtime: rt, Log: os.Stderr, Ready: func() { close(ready) }})
		}()
		select {
		case <-ready:
		case err := <-done:
			cancel()
			return nil, fmt.Errorf("keeper: %w", err)
		}
		return func() {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "keeper:", err)
			}
		}, nil
	}))
}

var seq int

// spec returns a spec named prefix-N, unique in the test run.
func spec(name string, args ...string) models.ContainerSpec {
	seq++
	return models.ContainerSpec{Name: fmt.Sprintf("%s-%d-%d", name, seq, time.Now().UnixNano()%100000), Image: testImage,
		Args: args, StopTimeout: time.Second}
}

// cleanup removes the named containers when the test ends.
func cleanup(t *testing.T, specs ...models.ContainerSpec) {
	t.Cleanup(func() {
		for _, s := range specs {
			_, _ = rt.Remove(context.Background(), s.Name, runtime.RemoveOptions{Force: true})
		}
	})
}

// exists reports whether a container named name exists.
func exists(name string) bool {
	_, err := rt.Get(context.Background(), name)
	return err == nil
}
