// Package engine is Budgie's core: it opens the connection to containerd
// (starting Budgie's managed one when none answers) and hands out the
// services of its subpackages. The CLI and nest both work through it. It
// never imports terminal or CLI libraries.
package engine

import (
	"context"
	"fmt"

	containerd "github.com/containerd/containerd"

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/daemon"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/engine/timing"
)

// Engine is an open connection to containerd plus the configuration it was
// opened with. Close it when done.
type Engine struct {
	// Config is the effective configuration.
	Config *config.Config
	// Conn is the containerd connection.
	Conn *daemon.Connection
	// Runtime runs and manages containers.
	Runtime *runtime.Runtime
	// ImageService pulls, loads, lists and removes images (front ends
	// call the Engine's methods: Images, PullImage, LoadImages, RemoveImages).
	ImageService *images.Service
	// Keeper is a client of the node's keeper (which may not run); Runtime
	// reads health and restart state through it.
	Keeper *keeper.Client
	// SecretStore is the node's secret store; Runtime mounts from it.
	SecretStore *secrets.Store
	// NetworkManager manages the node's container networks; Runtime joins
	// containers to them.
	NetworkManager *network.Manager

	// exe and globalArgs are the budgie command line for what the engine
	// starts: the keeper, a shell in a container, a headless command.
	exe        string
	globalArgs []string
}

// OpenOptions tune Open.
type OpenOptions struct {
	// NoStart forbids starting a managed containerd.
	NoStart bool
	// LogBinary is the budgie executable the shim runs as log driver; empty
	// means this process's executable.
	LogBinary string
	// Executable is the budgie binary the engine runs for a detached
	// keeper, a shell in a container or a headless command; empty means
	// this process's executable.
	Executable string
	// GlobalArgs are the global flags those command lines carry before
	// their own (e.g. --config FILE).
	GlobalArgs []string
	// SecretsPassphrase supplies the passphrase of the node's secret key;
	// nil means the BUDGIE_SECRETS_PASSPHRASE variable only.
	SecretsPassphrase secrets.PassphraseFunc
}

// Open connects to containerd as cfg says, starting the managed containerd
// under cfg.DataDir when nothing answers.
func Open(ctx context.Context, cfg *config.Config, opts OpenOptions) (*Engine, error) {
	defer timing.Start(ctx, "open")()
	end := timing.Start(ctx, "open/containerd")
	conn, err := daemon.Connect(ctx, daemon.Options{
		Address:   cfg.Containerd.Address,
		Namespace: cfg.Containerd.Namespace,
		DataDir:   cfg.DataDir,
		NoStart:   opts.NoStart,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errdefs.ErrUnavailable, err)
	}
	end()
	nets, err := network.Open(network.Options{DataDir: cfg.DataDir,
		DefaultBridge: cfg.Networks.DefaultBridge, DefaultSubnet: cfg.Networks.DefaultSubnet})
	if err != nil {
		conn.Close()
		return nil, err
	}
	rt, err := runtime.New(conn.Client, runtime.Options{
		Networks:    nets,
		Namespace:   cfg.Containerd.Namespace,
		DataDir:     cfg.DataDir,
		NodeName:    cfg.NodeName,
		LogMaxSize:  cfg.Logs.MaxSize,
		LogMaxFiles: cfg.Logs.MaxFiles,
		LogBinary:   opts.LogBinary,

		ContainerdAddress: conn.Address,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	kc := keeper.NewClient(cfg.DataDir)
	rt.SetKeeperState(kc)
	store, err := openSecrets(cfg, rt, opts.SecretsPassphrase)
	if err != nil {
		conn.Close()
		return nil, err
	}
	imgs := images.New(conn.Client, images.Options{Insecure: cfg.Registries.Insecure})
	return &Engine{Config: cfg, Conn: conn, Runtime: rt, ImageService: imgs, Keeper: kc, SecretStore: store, NetworkManager: nets,
		exe: opts.Executable, globalArgs: opts.GlobalArgs}, nil
}

// Client returns the containerd client.
func (e *Engine) Client() *containerd.Client { return e.Conn.Client }

// Close closes the containerd connection.
func (e *Engine) Close() error { return e.Conn.Close() }
