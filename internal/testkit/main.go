package testkit

import (
	"fmt"
	"os"
	"testing"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
)

// NodeName is the node name test runtimes record on containers.
const NodeName = "testnode"

// RuntimeMain is the TestMain body of an engine package's integration
// tests. The test binary doubles as Budgie's log driver (the shim runs it
// with "_log-driver DIR", and then RuntimeMain only drives the logs). Else
// it starts a private containerd, loads a busybox-static image named image
// (running `sleep 3600` by default), builds a runtime whose log driver is
// the test binary, calls setup (which may be nil) and m.Run, and tears all
// down. It returns the exit code for os.Exit.
func RuntimeMain(m *testing.M, image string, setup func(env *Env, rt *runtime.Runtime) (teardown func(), err error)) int {
	if len(os.Args) > 2 && os.Args[1] == logs.DriverArg {
		if err := logs.RunDriver(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	env, err := StartContainerd("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		return 1
	}
	defer func() {
		if err := env.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if err := env.LoadBusybox(ImageOptions{Ref: image, Cmd: []string{"sleep", "3600"}}); err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		return 1
	}
	rt, err := env.Runtime()
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		return 1
	}
	if setup != nil {
		teardown, err := setup(env, rt)
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		if teardown != nil {
			defer teardown()
		}
	}
	return m.Run()
}

// Runtime returns a runtime on the environment's containerd whose log
// driver is the running (test) executable.
func (e *Env) Runtime() (*runtime.Runtime, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return runtime.New(e.Client(), runtime.Options{Namespace: Namespace, DataDir: e.DataDir, NodeName: NodeName, LogBinary: exe})
}
