package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/replica"
)

// ServeOptions tune Serve.
type ServeOptions struct {
	// Log receives the keeper's log; nil means stderr.
	Log io.Writer
	// Version is the budgie version the keeper reports.
	Version string
	// Dashboard runs the web dashboard in the keeper (see
	// keeper.Options.Dashboard); nil means none. `budgie serve` passes
	// the web package's server when web.enabled is true.
	Dashboard func(ctx context.Context, log *slog.Logger, containers *livelist.List) error
}

// Serve runs this node's keeper (supervisor, load balancer, discovery,
// replication server) in the foreground until ctx ends, configured from
// the engine's configuration: `budgie --headless serve` calls it. A second
// keeper on the same data directory fails, naming the pid of the first.
func (e *Engine) Serve(ctx context.Context, opts ServeOptions) error {
	cfg := e.Config
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated by config: debug, info, warn, error
	return keeper.Run(ctx, keeper.Options{
		DataDir:     cfg.DataDir,
		Runtime:     e.Runtime,
		Log:         opts.Log,
		LogLevel:    level,
		Version:     opts.Version,
		Discovery:   e.discoveryOptions(),
		Replication: e.replicationOptions(),
		Dashboard:   opts.Dashboard,
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

// discoveryOptions are the keeper's discovery settings; the node's
// identity is announced so that replicating peers can pin it.
func (e *Engine) discoveryOptions() *discovery.Options {
	cfg := e.Config
	o := &discovery.Options{
		NodeName:   cfg.NodeName,
		Interfaces: cfg.Discovery.Interfaces,
		SyncPort:   cfg.Discovery.SyncPort,
		Interval:   cfg.Discovery.Interval,
		Expiry:     cfg.Discovery.Expiry,
	}
	if id, err := identity.Load(cfg.DataDir, identity.LoadOptions{Name: cfg.NodeName}); err == nil {
		o.Fingerprint = id.ID.String()
	}
	return o
}

// replicationOptions are the keeper's replication server settings.
func (e *Engine) replicationOptions() *replica.KeeperOptions {
	port := e.Config.Discovery.SyncPort
	if port == 0 {
		port = discovery.DefaultSyncPort
	}
	return &replica.KeeperOptions{NodeName: e.Config.NodeName, Addr: fmt.Sprintf(":%d", port)}
}
