package keeper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/engine/runtime"
)

// Options configure Run.
type Options struct {
	// DataDir holds the lock, the socket and the log; required.
	DataDir string
	// Runtime is the node's runtime; required. Run makes it read keeper
	// state from this keeper (SetKeeperState).
	Runtime *runtime.Runtime
	// EnsureContainerd is called while containerd's event stream is broken,
	// before each reconnection attempt, e.g. to start the managed containerd
	// again; nil means only retry.
	EnsureContainerd func(ctx context.Context) error
	// Log receives the keeper's log lines; nil means os.Stderr. A detached
	// keeper writes to DataDir/keeper.log through a logs.RotatingFile.
	Log io.Writer
	// LogLevel is the lowest level logged; nil means slog.LevelInfo. Peer
	// churn (containers coming and going on the LAN) is logged at debug.
	LogLevel slog.Leveler
	// Version is reported by the API.
	Version string
	// Ready is called once the API answers; nil means nothing.
	Ready func()
	// Discovery announces this node's containers and browses the LAN's
	// (see engine/discovery); nil means no discovery. Empty Source,
	// NodeName and NodeID default to Runtime, its node name and the ID
	// kept in DataDir.
	Discovery *discovery.Options
	// Replication serves the node's shared containers to trusted nodes and
	// keeps local replicas in sync (see engine/replica); nil means off.
	// Its Runtime, DataDir, NodeID, Peers and Logger are filled in.
	Replication *replica.KeeperOptions
	// Dashboard runs the web dashboard beside the keeper's services until
	// its context ends, drawing containers from the keeper's live list;
	// nil means none. An error it returns (its address taken, say) is
	// logged and the keeper goes on without it.
	Dashboard func(ctx context.Context, log *slog.Logger, containers *livelist.List) error
}

type keeper struct {
	sup  *supervisor
	bal  *balancer
	info Info
	disc *discovery.Service // nil without discovery
	repl *replica.Service   // nil without replication
	list *livelist.List     // the live container list, idle until asked
}

// Run runs the keeper in the foreground until ctx ends: it takes the
// node's keeper lock (a second keeper fails with errdefs.ErrConflict naming
// the pid holding it), serves the API on DataDir/keeper.sock (mode 0600),
// reconciles every supervised container and then follows containerd's
// events, reconnecting when containerd goes away.
func Run(ctx context.Context, opts Options) error {
	if opts.DataDir == "" || opts.Runtime == nil {
		return fmt.Errorf("keeper needs a data dir and a runtime: %w", errdefs.ErrInvalid)
	}
	lockFile, err := lock(opts.DataDir)
	if err != nil {
		return err
	}
	defer lockFile.Close()
	out := opts.Log
	if out == nil {
		out = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: opts.LogLevel}))
	ln, err := listen(SocketPath(opts.DataDir))
	if err != nil {
		return err
	}
	sup := newSupervisor(opts.Runtime, log, opts.EnsureContainerd)
	opts.Runtime.SetKeeperState(sup)
	bal := newBalancer(opts.Runtime, log)
	k := &keeper{sup: sup, bal: bal, info: Info{Pid: os.Getpid(), Version: opts.Version, Started: time.Now()}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	k.list = newLiveList(ctx, opts.Runtime, sup, log)
	health, unsubscribe := sup.subscribe()
	defer unsubscribe()
	balDone := make(chan struct{})
	go func() {
		defer close(balDone)
		bal.run(ctx, health)
	}()
	discDone := k.runDiscovery(ctx, opts.Discovery, opts.Runtime, log, opts.DataDir)
	replDone := k.runReplication(ctx, opts, log)
	srv := &http.Server{Handler: k.handler(), ReadHeaderTimeout: 5 * time.Second}
	supDone := make(chan struct{})
	go func() {
		defer close(supDone)
		sup.run(ctx)
	}()
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	log.Info("keeper running", "pid", os.Getpid(), "socket", SocketPath(opts.DataDir))
	dashDone := runDashboard(ctx, opts.Dashboard, k.list, log)
	if opts.Ready != nil {
		opts.Ready()
	}
	select {
	case <-ctx.Done():
	case err = <-srvErr:
		err = fmt.Errorf("keeper API: %w", err)
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	<-supDone
	<-balDone
	<-dashDone
	discDone()
	replDone()
	_ = os.Remove(SocketPath(opts.DataDir))
	log.Info("keeper stopped")
	return err
}

// runDashboard runs the dashboard, when there is one, until ctx ends; the
// channel closes once it has stopped.
func runDashboard(ctx context.Context, serve func(context.Context, *slog.Logger, *livelist.List) error, list *livelist.List, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	if serve == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		if err := serve(ctx, log, list); err != nil && ctx.Err() == nil {
			log.Error("dashboard stopped; the keeper goes on without it", "err", err)
		}
	}()
	return done
}

// listen opens the API socket with mode 0600 (the data directory is not
// world-writable, so the moment before chmod exposes nothing). The caller
// holds the lock, so a socket file already there is a dead keeper's.
func listen(path string) (net.Listener, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale keeper socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, nil
}
