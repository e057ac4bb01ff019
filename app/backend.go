package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Backend is common.Backend over the real engine. Methods that act on
// containerd put ctx in Budgie's namespace first.
type Backend struct {
	eng    *engine.Engine
	images *images.Service
	// exe and globalArgs run headless budgie commands (the palette, exec).
	exe        string
	globalArgs []string
}

// BackendOptions tune NewBackend.
type BackendOptions struct {
	// Executable is the budgie binary; empty means this process's.
	Executable string
	// GlobalArgs are passed to every headless command before its own
	// arguments (e.g. --config FILE).
	GlobalArgs []string
}

// NewBackend returns a Backend over eng.
func NewBackend(eng *engine.Engine, opts BackendOptions) (*Backend, error) {
	exe := opts.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the budgie executable for shells and commands: %w", err)
		}
	}
	return &Backend{eng: eng, images: eng.Images, exe: exe, globalArgs: opts.GlobalArgs}, nil
}

func (b *Backend) ns(ctx context.Context) context.Context { return b.eng.Context(ctx) }

// Containers lists every container.
func (b *Backend) Containers(ctx context.Context) ([]models.Container, error) {
	return b.eng.Runtime.List(b.ns(ctx), runtime.ListOptions{All: true})
}

// Container returns one container.
func (b *Backend) Container(ctx context.Context, ref string) (models.Container, error) {
	return b.eng.Runtime.Get(b.ns(ctx), ref)
}

// Start starts a container.
func (b *Backend) Start(ctx context.Context, id string) error {
	_, err := b.eng.Runtime.Start(b.ns(ctx), id)
	return err
}

// Stop stops a container with its own stop timeout.
func (b *Backend) Stop(ctx context.Context, id string) error {
	_, err := b.eng.Runtime.Stop(b.ns(ctx), id, runtime.StopOptions{})
	return err
}

// Restart restarts a container.
func (b *Backend) Restart(ctx context.Context, id string) error {
	_, err := b.eng.Runtime.Restart(b.ns(ctx), id, runtime.StopOptions{})
	return err
}

// Remove removes a container.
func (b *Backend) Remove(ctx context.Context, id string, force bool) error {
	_, err := b.eng.Runtime.Remove(b.ns(ctx), id, runtime.RemoveOptions{Force: force})
	return err
}

// Inspect returns docker-inspect-shaped details.
func (b *Backend) Inspect(ctx context.Context, id string) (models.Inspect, error) {
	return b.eng.Inspect(ctx, id, engine.InspectOptions{})
}

// Events streams container events.
// containerd's stream is merged with the keeper's (health changes and
// restarts are not containerd events); each keeper event becomes an
// EventUpdate of its container so that the view re-reads that one row.
// The keeper stream is re-dialled while ctx lives, since the keeper may
// start after nest does.
func (b *Backend) Events(ctx context.Context) (<-chan models.Event, <-chan error) {
	events, errc := b.eng.Runtime.Events(b.ns(ctx))
	out := make(chan models.Event, 256)
	go func() {
		defer close(out)
		for ev := range events {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	go b.forwardKeeperEvents(ctx, out)
	return out, errc
}

// forwardKeeperEvents turns keeper events into row updates until ctx ends.
func (b *Backend) forwardKeeperEvents(ctx context.Context, out chan<- models.Event) {
	for ctx.Err() == nil {
		kev, kerr := b.eng.Keeper.Events(ctx)
		for ev := range kev {
			if ev.ContainerID == "" {
				continue
			}
			select {
			case out <- models.Event{Type: models.EventUpdate, ContainerID: ev.ContainerID, Time: time.Now()}:
			case <-ctx.Done():
				return
			}
		}
		<-kerr
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// Stats samples every running container.
func (b *Backend) Stats(ctx context.Context) (map[string]models.Stats, error) {
	return b.eng.Runtime.Stats(b.ns(ctx))
}

// Logs reads a container's log files, following until it stops.
func (b *Backend) Logs(ctx context.Context, id string, opts common.LogOptions, stdout, stderr io.Writer) error {
	ctx = b.ns(ctx)
	rt := b.eng.Runtime
	err := logs.Read(ctx, rt.LogDir(id), logs.ReadOptions{
		Stdout: stdout, Stderr: stderr, Tail: opts.Tail, Since: opts.Since,
		Timestamps: opts.Timestamps, Follow: opts.Follow,
		Done: func() bool {
			c, err := rt.Get(ctx, id)
			return err != nil || (c.State != models.StateRunning && c.State != models.StatePaused)
		},
	})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// ExecCommand opens sh in the container through `budgie --headless exec -it`.
func (b *Backend) ExecCommand(id string) []string {
	argv := append([]string{b.exe, "--headless"}, b.globalArgs...)
	return append(argv, "exec", "-it", id, "sh")
}

// Images lists images.
func (b *Backend) Images(ctx context.Context) ([]models.Image, error) {
	return b.images.List(b.ns(ctx), images.ListOptions{})
}

// PullImage pulls ref, reporting per-layer progress.
func (b *Backend) PullImage(ctx context.Context, ref string, progress func(common.PullProgress)) error {
	_, err := b.images.Pull(b.ns(ctx), ref, images.PullOptions{Progress: func(p images.Progress) {
		if progress != nil {
			progress(common.PullProgress{Layer: shortDigest(p.Digest), Status: string(p.Status), Offset: p.Offset, Total: p.Total})
		}
	}})
	return err
}

func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

// LoadImages loads an image archive.
func (b *Backend) LoadImages(ctx context.Context, path string) ([]models.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open image archive: %w", err)
	}
	defer f.Close()
	return b.images.Load(b.ns(ctx), f, images.LoadOptions{})
}

// RemoveImage removes an image.
func (b *Backend) RemoveImage(ctx context.Context, ref string, force bool) error {
	_, err := b.images.Remove(b.ns(ctx), []string{ref}, images.RemoveOptions{Force: force})
	return err
}

// ValidateBundle returns the problems of bundle text, one per line.
func (b *Backend) ValidateBundle(name string, data []byte) []string {
	_, err := bundle.Parse(name, data, bundle.ParseOptions{})
	if err == nil {
		return nil
	}
	return strings.Split(err.Error(), "\n")
}

// RunBundle runs a bundle file as `budgie run` does (engine.RunBundles),
// starting the node's keeper when a container needs it.
func (b *Backend) RunBundle(ctx context.Context, path string) ([]models.Container, error) {
	return b.eng.RunBundles(ctx, []string{path}, engine.RunBundleOptions{KeeperArgv: b.keeperArgv()})
}

func (b *Backend) keeperArgv() []string {
	return engine.KeeperArgv(b.exe, b.globalArgs, b.eng.Config.DataDir)
}

// KeeperRunning reports whether the node's keeper answers.
func (b *Backend) KeeperRunning(ctx context.Context) bool { return b.eng.KeeperRunning(ctx) }

// StartKeeper starts the node's keeper detached, as `budgie run` does.
func (b *Backend) StartKeeper(ctx context.Context) error {
	return b.eng.StartKeeper(ctx, b.keeperArgv())
}

// Command runs `budgie --headless ARGS…` and returns its combined output.
func (b *Backend) Command(ctx context.Context, args []string) (string, error) {
	argv := append(append([]string{"--headless"}, b.globalArgs...), args...)
	cmd := exec.CommandContext(ctx, b.exe, argv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("budgie %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// Info describes the node and containerd.
func (b *Backend) Info(ctx context.Context) (common.SystemInfo, error) {
	info, err := b.eng.Info(ctx)
	if err != nil {
		return common.SystemInfo{}, err
	}
	return common.SystemInfo{Node: info.Node, Containerd: info.Containerd, Version: info.Version}, nil
}

// Peers returns the nodes and containers on the LAN: the keeper's table,
// or, where no keeper runs, one browse by this process (engine.Peers, as
// chirp does).
func (b *Backend) Peers(ctx context.Context) ([]models.PeerNode, error) {
	res, err := b.eng.Peers(ctx, engine.PeersOptions{Timeout: 1500 * time.Millisecond})
	return res.Nodes, err
}

var (
	_ common.Backend       = (*Backend)(nil)
	_ common.InfoBackend   = (*Backend)(nil)
	_ common.PeerBackend   = (*Backend)(nil)
	_ common.KeeperStarter = (*Backend)(nil)
)
