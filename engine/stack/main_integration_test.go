//go:build integration

package stack_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/testkit"
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
	if len(os.Args) > 2 && os.Args[1] == logs.DriverArg {
		if err := logs.RunDriver(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	var err error
	env, err = testkit.StartContainerd("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	code := func() int {
		defer func() {
			if err := env.Close(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
		if err := env.LoadBusybox(testkit.ImageOptions{Ref: testImage, Cmd: []string{"sleep", "3600"}}); err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		exe, _ := os.Executable()
		rt, err = runtime.New(env.Client(), runtime.Options{
			Namespace: testkit.Namespace, DataDir: env.DataDir, NodeName: "testnode", LogBinary: exe,
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		ctx, cancel := context.WithCancel(context.Background())
		ready := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- keeper.Run(ctx, keeper.Options{DataDir: env.DataDir, Runtime: rt, Log: os.Stderr, Ready: func() { close(ready) }})
		}()
		select {
		case <-ready:
		case err := <-done:
			fmt.Fprintln(os.Stderr, "integration setup: keeper:", err)
			cancel()
			return 1
		}
		code := m.Run()
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "keeper:", err)
		}
		return code
	}()
	os.Exit(code)
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
