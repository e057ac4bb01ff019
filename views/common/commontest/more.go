package commontest

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/errdefs"
	engimages "github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// Inspect returns a small fixed inspect document.
func (b *Backend) Inspect(ctx context.Context, id string, _ engine.InspectOptions) (models.Inspect, error) {
	c, err := b.Container(ctx, id)
	if err != nil {
		return models.Inspect{}, err
	}
	return models.Inspect{
		ID: c.ID, Name: "/" + c.Name, Image: c.Image, Created: c.Created.Format(time.RFC3339),
		Path: "/docker-entrypoint.sh", Args: []string{"nginx", "-g", "daemon off;"},
		State:      models.InspectState{Status: string(c.State), Running: c.State == models.StateRunning, Pid: 4242, StartedAt: c.StartedAt.Format(time.RFC3339)},
		Config:     models.InspectConfig{Hostname: c.Name, Env: []string{"PATH=/usr/bin", "MODE=prod"}, Image: c.Image, Labels: map[string]string{"tier": "front"}},
		HostConfig: models.InspectHost{RestartPolicy: models.InspectRestartPolicy{Name: "always"}, NetworkMode: "bridge"},
		Budgie:     models.InspectBudgie{BundlePath: c.BundlePath, Node: c.Node, Namespace: "budgie"},
	}, nil
}

// Events returns the stream that actions and Emit publish on.
func (b *Backend) Events(context.Context) (<-chan models.Event, <-chan error) {
	return b.events, make(chan error)
}

// Stats returns a sample of the running containers opts names (every
// one by default); container n uses n×10 % of a CPU and n MiB, and each
// call is 2 s after the previous one. StatsAsked records opts.IDs.
func (b *Backend) Stats(_ context.Context, opts runtime.StatsOptions) (map[string]models.Stats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.samples++
	b.statsAsked = append(b.statsAsked, opts.IDs)
	k := uint64(b.samples)
	out := map[string]models.Stats{}
	for i, c := range b.containers {
		if c.State != models.StateRunning || (len(opts.IDs) > 0 && !slices.Contains(opts.IDs, c.ID)) {
			continue
		}
		n := uint64(i + 1)
		out[c.ID] = models.Stats{ContainerID: c.ID, Time: Now.Add(time.Duration(k) * 2 * time.Second),
			CPUNanos: k * n * 200_000_000, MemoryUsage: n << 20}
	}
	return out, nil
}

// StatsAsked returns the IDs each Stats call asked for (nil: every one).
func (b *Backend) StatsAsked() [][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.statsAsked)
}

// Logs writes the container's lines (LogGen when set), then, when
// following, waits until ctx ends.
func (b *Backend) Logs(ctx context.Context, id string, opts engine.LogsOptions) error {
	stdout, stderr := opts.Stdout, opts.Stderr
	if b.LogGen != nil {
		b.LogGen(id, stdout, stderr)
	} else {
		b.mu.Lock()
		lines := b.LogLines[id]
		b.mu.Unlock()
		for i, l := range lines {
			if opts.Timestamps {
				l = Now.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano) + " " + l
			}
			if _, err := io.WriteString(stdout, l+"\n"); err != nil {
				return err
			}
		}
	}
	if opts.Follow {
		<-ctx.Done()
	}
	return nil
}

// ShellCommand returns a harmless command.
func (b *Backend) ShellCommand(id string) []string { return []string{"true", id} }

// KeeperCommand returns a command that would start no keeper.
func (b *Backend) KeeperCommand() []string { return []string{"true", "keeper"} }

// Images returns one image.
func (b *Backend) Images(context.Context, engimages.ListOptions) ([]models.Image, error) {
	return []models.Image{{Name: "docker.io/library/nginx:1.27", Repository: "docker.io/library/nginx", Tag: "1.27", Size: 70 << 20, Created: Now}}, nil
}

// PullImage reports one layer done.
func (b *Backend) PullImage(_ context.Context, ref string, opts engimages.PullOptions) (models.Image, error) {
	b.record("pull", ref)
	if opts.Progress != nil {
		opts.Progress(engimages.Progress{Digest: "sha256:aaaa", Status: "done", Offset: 10, Total: 10})
	}
	return models.Image{Name: ref}, nil
}

// LoadImages is not supported by the fake.
func (b *Backend) LoadImages(context.Context, io.Reader, engimages.LoadOptions) ([]models.Image, error) {
	return nil, errdefs.ErrNotSupported
}

// RemoveImages records the call.
func (b *Backend) RemoveImages(_ context.Context, refs []string, _ engimages.RemoveOptions) ([]string, error) {
	b.record("rmi", strings.Join(refs, " "))
	return refs, nil
}

// ValidateBundle accepts everything but empty data.
func (b *Backend) ValidateBundle(name string, data []byte) []string {
	if len(data) == 0 {
		return []string{name + ": empty bundle"}
	}
	return nil
}

// RunBundles records the call and returns a new running container.
func (b *Backend) RunBundles(_ context.Context, paths []string, _ engine.RunBundleOptions) ([]models.Container, error) {
	b.record("run", strings.Join(paths, " "))
	return []models.Container{{ID: ID(99), Name: "from-bundle", State: models.StateRunning}}, nil
}

// RunCommandLine echoes the command line.
func (b *Backend) RunCommandLine(_ context.Context, args []string) (string, error) {
	b.record("command", strings.Join(args, " "))
	if len(args) > 0 && args[0] == "fail" {
		return "", fmt.Errorf("budgie %s: exit status 1: %w", args[0], errdefs.ErrInvalid)
	}
	if len(args) > 0 && args[0] == "ps" {
		return "NAME   STATE\nweb    running\ndb     running\n", nil
	}
	return "ran: " + strings.Join(args, " ") + "\n", nil
}

// Info describes a fixed node.
func (b *Backend) Info(context.Context, engine.InfoOptions) (engine.SystemInfo, error) {
	return engine.SystemInfo{Node: "node-1", Containerd: "managed", Version: "1.6.20"}, nil
}

var (
	_ common.Backend     = (*Backend)(nil)
	_ common.InfoBackend = (*Backend)(nil)
)
