// Package cli is budgie's command line: one kong command struct per
// command, one file per noun (container, image, network, volume, secret,
// peer, replica, trust, keeper, system, config, nest), each Run calling the
// engine it is given. The engine is opened once, lazily, and injected by
// kong into every Run that names it; typed errors become exit codes in one
// place (exitCode). main.go at the top of the module only calls Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/containerd/log"
	"github.com/sirupsen/logrus"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/timing"
)

// Globals are the flags every command takes, and the lazily opened engine.
type Globals struct {
	Headless bool   `help:"Run one command for scripts; never open nest."`
	Config   string `help:"Configuration file (default: the first budgie.yaml found)." type:"path" placeholder:"FILE"`
	LogLevel string `help:"Log level: debug, info, warn, error." enum:"debug,info,warn,error," default:""`

	ctx     context.Context
	version string
	cfg     *config.Config
	eng     *engine.Engine
}

// CLI is budgie's command line. Each command is a struct with a Run method.
type CLI struct {
	Globals

	// commands:
	Chirp      ChirpCmd      `cmd:"" help:"List the containers running on the LAN (found over mDNS), or replicate one to this node."`
	Share      ShareCmd      `cmd:"" help:"Let trusted nodes replicate containers (budgie chirp NAME@NODE on theirs)."`
	Unshare    UnshareCmd    `cmd:"" help:"Stop letting other nodes replicate containers."`
	Replicas   ReplicasCmd   `cmd:"" help:"List this node's replicas and how their sync goes."`
	Secret     SecretCmd     `cmd:"" help:"Manage secrets (mounted at /run/secrets/NAME)."`
	Nest       NestCmd       `cmd:"" default:"withargs" help:"Open nest, the full-screen TUI (the default)."`
	Run        RunCmd        `cmd:"" help:"Create and start containers from bundles (again: reconcile them), or from an image with docker's flags."`
	Ps         PsCmd         `cmd:"" aliases:"ls" help:"List containers."`
	Start      StartCmd      `cmd:"" help:"Start stopped containers."`
	Stop       StopCmd       `cmd:"" help:"Stop running containers."`
	Restart    RestartCmd    `cmd:"" help:"Restart containers."`
	Rm         RmCmd         `cmd:"" aliases:"remove,delete" help:"Remove containers."`
	Down       DownCmd       `cmd:"" help:"Stop and remove the containers of bundles (-v: and their volumes)."`
	Convert    ConvertCmd    `cmd:"" help:"Convert a docker compose file into a bundle (run then runs the same containers)."`
	Kube       KubeCmd       `cmd:"" help:"Write Kubernetes manifests of containers (kube generate), run a manifest (kube play), undo it (kube down)."`
	Kill       KillCmd       `cmd:"" help:"Send a signal to containers."`
	Wait       WaitCmd       `cmd:"" help:"Wait for containers to stop; print their exit codes."`
	Logs       LogsCmd       `cmd:"" help:"Show a container's output, or several containers' or a service's replicas', prefixed."`
	Exec       ExecCmd       `cmd:"" help:"Run a command in a running container."`
	Pause      PauseCmd      `cmd:"" help:"Freeze every process of running containers."`
	Unpause    UnpauseCmd    `cmd:"" help:"Let paused containers run again."`
	Top        TopCmd        `cmd:"" help:"Show a container's processes (docker top)."`
	Cp         CpCmd         `cmd:"" help:"Copy files between a container and the host, or a tar stream."`
	Inspect    InspectCmd    `cmd:"" help:"Show containers as JSON (docker inspect's shape)."`
	Stats      StatsCmd      `cmd:"" help:"Show containers' resource use (CPU, memory, network, block I/O), live."`
	Events     EventsCmd     `cmd:"" help:"Show container and keeper events, live (docker events)."`
	Volume     VolumeCmd     `cmd:"" help:"Manage named volumes."`
	System     SystemCmd     `cmd:"" help:"Node-level information."`
	Version    VersionCmd    `cmd:"" help:"Print budgie's version."`
	Config     ConfigCmd     `cmd:"" help:"Show and manage the configuration."`
	Pull       PullCmd       `cmd:"" help:"Pull an image from a registry."`
	Images     ImagesCmd     `cmd:"" help:"List images."`
	Image      ImageCmd      `cmd:"" help:"Manage images (image prune; images, pull, load and rmi are top-level)."`
	Rmi        RmiCmd        `cmd:"" help:"Remove images."`
	Load       LoadCmd       `cmd:"" help:"Load images from an archive (OCI layout or docker save)."`
	Save       SaveCmd       `cmd:"" help:"Save images to an archive (docker or OCI format) that budgie load reads back."`
	Tag        TagCmd        `cmd:"" help:"Give an image a new name (for instance a registry's, to push it there)."`
	Push       PushCmd       `cmd:"" help:"Push an image to its registry."`
	Login      LoginCmd      `cmd:"" help:"Log in to a registry; pull and push then use the credentials."`
	Logout     LogoutCmd     `cmd:"" help:"Remove the stored credentials of a registry."`
	Serve      ServeCmd      `cmd:"" help:"Run the node keeper in the foreground (restart policies, health checks)."`
	Keeper     KeeperCmd     `cmd:"" help:"Show, stop, restart the node keeper or read its log."`
	Network    NetworkCmd    `cmd:"" help:"Manage networks."`
	Scale      ScaleCmd      `cmd:"" help:"Set the number of replicas of a service."`
	Trust      TrustCmd      `cmd:"" help:"Manage which nodes may replicate with this one."`
	ID         IDCmd         `cmd:"" name:"id" help:"Print this node's ID (give it to the nodes that should trust this one)."`
	Completion CompletionCmd `cmd:"" help:"Print the shell completion script for bash, zsh or fish."`
	Dashboard  DashboardCmd  `cmd:"" help:"Print the web dashboard's URL with a one-time login link, or set its password."`
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run(g *Globals) error {
	fmt.Printf("budgie %s\n", g.version)
	return nil
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
	eng, err := engine.Open(g.ctx, cfg, engine.OpenOptions{SecretsPassphrase: secretsPassphrase, GlobalArgs: g.globalArgs()})
	if err != nil {
		return nil, err
	}
	if eng.Conn.Started {
		fmt.Fprintf(os.Stderr, "budgie: started managed containerd (pid %d, socket %s)\n", eng.Conn.Pid, eng.Conn.Address)
	}
	g.eng = eng
	return eng, nil
}

// globalArgs are the global flags a command line the engine starts (a
// keeper, a shell, nest's palette) must carry to reach this configuration.
func (g *Globals) globalArgs() []string {
	if g.Config != "" {
		return []string{"--config", g.Config}
	}
	return nil
}

// Main runs budgie with args (os.Args[1:]) and returns the process's exit
// code (see the README's exit codes). version is what `budgie version`
// prints.
func Main(args []string, version string) int {
	// containerd's shim runs "budgie _log-driver DIR" for every task: keep
	// that path free of flag parsing and configuration.
	if len(args) == 2 && args[0] == logs.DriverArg {
		if err := logs.RunDriver(args[1]); err != nil {
			fmt.Fprintf(os.Stderr, "budgie log driver: %v\n", err)
			return 1
		}
		return 0
	}
	// containerd's client logs through logrus; keep its chatter ("trying
	// next host") off the user's terminal unless asked for.
	_ = log.SetLevel("warn")
	logrus.SetFormatter(libraryLogFormat{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	rec := timingsRecorder()
	if rec != nil {
		ctx = timing.NewContext(ctx, rec)
		defer printTimings(os.Stderr, rec)
	}
	var cli CLI
	cli.ctx, cli.version = ctx, version
	if len(args) == 0 && os.Getenv("COMP_LINE") == "" {
		// Plain `budgie` opens nest with every global at its zero value
		// (Globals has no defaults and reads no environment): building
		// the parser for every command would add about 10 ms to nest's
		// start for nothing.
		return finish(&cli, NestCmd{}.Run(&cli.Globals, nil), stop)
	}
	parser := kong.Must(&cli,
		kong.Name("budgie"),
		kong.Description("A container manager for the LAN. Without a command: open nest, the TUI."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		// The engine is opened once, when the first command asks for it
		// (Run(g *Globals, eng *engine.Engine)); commands that need no
		// containerd never open it.
		kong.BindSingletonProvider(func() (*engine.Engine, error) { return cli.Globals.Engine() }),
	)
	completeLine(parser, &cli.Globals) // answers the shell's completion requests, then exits
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "budgie: %v\n", err)
		stop()
		return exitUsage
	}
	return finish(&cli, kctx.Run(&cli.Globals), stop)
}

// finish closes the engine a command opened and turns its error into an
// exit code, printing it unless it is an exit coder's silent one.
func finish(cli *CLI, err error, stop func()) int {
	if cli.eng != nil {
		cli.eng.Close()
	}
	stop()
	if err != nil {
		var ec exitCoder
		if !errors.As(err, &ec) || err.Error() != "" {
			fmt.Fprintf(os.Stderr, "budgie: %s\n", errdefs.Message(err))
		}
		return exitCode(err)
	}
	return exitOK
}
