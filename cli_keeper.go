package main

import (
	"context"
	"fmt"
	"os"

	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/engine/keeper"
)

// ServeCmd runs the node keeper in the foreground.
type ServeCmd struct{}

// Run runs the keeper until SIGINT or SIGTERM. A second keeper on the same
// data directory fails, naming the pid of the first.
func (c *ServeCmd) Run(g *Globals) error {
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	cfg := eng.Config
	return keeper.Run(g.ctx, keeper.Options{
		DataDir:     cfg.DataDir,
		Runtime:     eng.Runtime,
		Version:     version,
		Discovery:   discoveryOptions(cfg),
		Replication: replicationOptions(cfg),
		EnsureContainerd: func(ctx context.Context) error {
			conn, err := daemon.Connect(ctx, daemon.Options{
				Address: cfg.Containerd.Address, Namespace: cfg.Containerd.Namespace, DataDir: cfg.DataDir,
			})
			if err != nil {
				return err
			}
			return conn.Close()
		},
	})
}

// keeperArgv is the command line of a detached keeper for this configuration.
func keeperArgv(g *Globals) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find budgie executable to start the keeper: %w", err)
	}
	argv := []string{exe, "--headless"}
	if g.Config != "" {
		argv = append(argv, "--config", g.Config)
	}
	return append(argv, "serve"), nil
}

// ensureKeeper starts the node's keeper detached when one of specs needs
// it (a restart policy or a health check) and none answers.
