//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

var (
	listAll = runtime.ListOptions{All: true}
	runOpts = runtime.RunOptions{}
)

// openTestEngine opens the engine in-process on the test containerd, with
// the built binary as log driver.
func openTestEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	cfg := config.Default()
	cfg.Containerd.Address = ctrEnv.Conn.Address
	cfg.Containerd.Namespace = testkit.Namespace
	cfg.DataDir = ctrEnv.DataDir
	cfg.Networks.DefaultBridge, cfg.Networks.DefaultSubnet = testkit.TestBridge, testkit.TestSubnet
	eng, err := engine.Open(context.Background(), cfg, engine.OpenOptions{NoStart: true, LogBinary: binary})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng
}

func benchSpec(i int) models.ContainerSpec {
	return models.ContainerSpec{Name: fmt.Sprintf("ps300-%03d-%d", i, os.Getpid()), Image: cliImage, Args: []string{"sleep", "3600"}}
}
