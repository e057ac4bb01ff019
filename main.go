// Command budgie is a container manager for the LAN: run containers from
// YAML bundles on containerd, discover every node's containers over mDNS and
// replicate them. Without a command it opens nest, the full-screen TUI;
// with --headless it runs one command for scripts. Exit codes are listed in
// the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/containerd/log"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Globals are the flags every command takes, and the lazily opened engine.
type Globals struct {
	Headless bool   `help:"Run one command for scripts; never open nest."`
	Config   string `help:"Configuration file (default: the first budgie.yaml found)." type:"path" placeholder:"FILE"`
	LogLevel string `help:"Log level: debug, info, warn, error." enum:"debug,info,warn,error," default:""`

	ctx context.Context
	cfg *config.Config
	eng *engine.Engine
}

// CLI is budgie's command line. Each command is a struct with a Run method.
type CLI struct {
	Globals

	// commands:
	Chirp    ChirpCmd    `cmd:"" help:"List the containers running on the LAN (found over mDNS), or replicate one to this node."`
	Share    ShareCmd    `cmd:"" help:"Let trusted nodes replicate containers (budgie chirp NAME@NODE on theirs)."`
	Unshare  UnshareCmd  `cmd:"" help:"Stop letting other nodes replicate containers."`
	Replicas ReplicasCmd `cmd:"" help:"List this node's replicas and how their sync goes."`
	Secret   SecretCmd   `cmd:"" help:"Manage secrets (mounted at /run/secrets/NAME)."`
	Nest     NestCmd     `cmd:"" default:"withargs" help:"Open nest, the full-screen TUI (the default)."`
	Run      RunCmd      `cmd:"" help:"Create and start containers from bundles."`
	Ps       PsCmd       `cmd:"" aliases:"ls" help:"List containers."`
	Start    StartCmd    `cmd:"" help:"Start stopped containers."`
	Stop     StopCmd     `cmd:"" help:"Stop running containers."`
	Restart  RestartCmd  `cmd:"" help:"Restart containers."`
	Rm       RmCmd       `cmd:"" aliases:"remove,delete" help:"Remove containers."`
	Kill     KillCmd     `cmd:"" help:"Send a signal to containers."`
	Wait     WaitCmd     `cmd:"" help:"Wait for containers to stop; print their exit codes."`
	Logs     LogsCmd     `cmd:"" help:"Show a container's output."`
	Exec     ExecCmd     `cmd:"" help:"Run a command in a running container."`
	Inspect  InspectCmd  `cmd:"" help:"Show containers as JSON (docker inspect's shape)."`
	Volume   VolumeCmd   `cmd:"" help:"Manage named volumes."`
	System   SystemCmd   `cmd:"" help:"Node-level information."`
	Version  VersionCmd  `cmd:"" help:"Print budgie's version."`
	Config   ConfigCmd   `cmd:"" help:"Show and manage the configuration."`
	Pull     PullCmd     `cmd:"" help:"Pull an image from a registry."`
	Images   ImagesCmd   `cmd:"" help:"List images."`
	Rmi      RmiCmd      `cmd:"" help:"Remove images."`
	Load     LoadCmd     `cmd:"" help:"Load images from an archive (OCI layout or docker save)."`
	Serve    ServeCmd    `cmd:"" help:"Run the node keeper in the foreground (restart policies, health checks)."`
	Network  NetworkCmd  `cmd:"" help:"Manage networks."`
	Scale    ScaleCmd    `cmd:"" help:"Set the number of replicas of a service."`
	Trust    TrustCmd    `cmd:"" help:"Manage which nodes may replicate with this one."`
	ID       IDCmd       `cmd:"" name:"id" help:"Print this node's ID (give it to the nodes that should trust this one)."`
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run(g *Globals) error {
	fmt.Printf("budgie %s\n", version)
	return nil
}

// Exit codes, documented in the README.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitNotFound    = 3
	exitUnavailable = 4
)

// exitCoder is an error that carries its own exit code (a container's).
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	var ec exitCoder
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, errdefs.ErrInvalid):
		return exitUsage
	case errors.Is(err, errdefs.ErrNotFound):
		return exitNotFound
	case errors.Is(err, errdefs.ErrUnavailable):
		return exitUnavailable
	}
	return exitError
}

// LoadConfig loads the configuration once.
func (g *Globals) LoadConfig() (*config.Config, error) {
	if g.cfg != nil {
		return g.cfg, nil
	}
	cfg, err := loadConfig(g.Config)
	if err != nil {
		return nil, err
	}
	if g.LogLevel != "" {
		cfg.LogLevel = g.LogLevel
	}
	if cfg.LogLevel == "debug" {
		_ = log.SetLevel("debug")
	}
	g.cfg = cfg
	return cfg, nil
}

// Engine opens the engine once, saying on stderr when it started the managed containerd.
func (g *Globals) Engine() (*engine.Engine, error) {
	if g.eng != nil {
		return g.eng, nil
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	eng, err := engine.Open(g.ctx, cfg, engine.OpenOptions{SecretsPassphrase: secretsPassphrase})
	if err != nil {
		return nil, err
	}
	if eng.Conn.Started {
		fmt.Fprintf(os.Stderr, "budgie: started managed containerd (pid %d, socket %s)\n", eng.Conn.Pid, eng.Conn.Address)
	}
	g.eng = eng
	return eng, nil
}

// Context returns the command's context in Budgie's namespace.
func (g *Globals) Context() context.Context {
	if g.eng != nil {
		return g.eng.Context(g.ctx)
	}
	return g.ctx
}

func main() {
	// containerd's shim runs "budgie _log-driver DIR" for every task: keep
	// that path free of flag parsing and configuration.
	if len(os.Args) == 3 && os.Args[1] == logs.DriverArg {
		if err := logs.RunDriver(os.Args[2]); err != nil {
			fmt.Fprintf(os.Stderr, "budgie log driver: %v\n", err)
			os.Exit(1)
		}
		return
	}
	// containerd's client logs through logrus; keep its chatter ("trying
	// next host") off the user's terminal unless asked for.
	_ = log.SetLevel("warn")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var cli CLI
	cli.ctx = ctx
	parser := kong.Must(&cli,
		kong.Name("budgie"),
		kong.Description("A container manager for the LAN. Without a command: open nest, the TUI."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	kctx, err := parser.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "budgie: %v\n", err)
		stop()
		os.Exit(exitUsage)
	}
	err = kctx.Run(&cli.Globals)
	if cli.eng != nil {
		cli.eng.Close()
	}
	stop()
	if err != nil {
		var ec exitCoder
		if !errors.As(err, &ec) || err.Error() != "" {
			fmt.Fprintf(os.Stderr, "budgie: %s\n", errdefs.Message(err))
		}
		os.Exit(exitCode(err))
	}
}
