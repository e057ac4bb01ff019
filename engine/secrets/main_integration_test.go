//go:build integration

package secrets_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// testImage is a busybox-static image loaded into the package's containerd.
const testImage = "docker.io/library/budgie-secrets-test:1"

var (
	env   *testkit.Env
	rt    *runtime.Runtime
	store *secrets.Store
)

// TestMain starts one private containerd for the package, with a runtime
// whose secrets come from a store under its data directory. The test
// binary doubles as Budgie's log driver.
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
		if err == nil {
			store, err = secrets.New(secrets.Options{Dir: secrets.Dir(env.DataDir),
				Containers: func(ctx context.Context) ([]models.Container, error) {
					return rt.List(ctx, runtime.ListOptions{All: true})
				}})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "integration setup:", err)
			return 1
		}
		rt.SetSecrets(store)
		return m.Run()
	}()
	os.Exit(code)
}
