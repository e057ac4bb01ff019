// Package daemon finds the containerd Budgie talks to and, when none answers,
// starts and manages Budgie's own: the OS's containerd and runc binaries with
// root, state, socket, config and log under the data directory, detached so
// it outlives the budgie process that started it. Later invocations find the
// managed daemon by its socket and reuse it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
)

// ErrBinaryMissing is returned when no containerd answers and Budgie cannot
// start its own because containerd or runc is not installed.
var ErrBinaryMissing = errors.New("containerd binaries missing")

// Options say where to look for containerd and where a managed one lives.
type Options struct {
	// Address is the external containerd socket tried first.
	Address string
	// Namespace is the containerd namespace Budgie works in.
	Namespace string
	// DataDir holds the managed containerd under DataDir/containerd.
	DataDir string
	// StartTimeout bounds the wait for a started containerd to answer; zero means 20 s.
	StartTimeout time.Duration
	// NoStart forbids starting a managed containerd.
	NoStart bool
}

// Connection is a live containerd client and how it was reached.
type Connection struct {
	// Client is connected, with Namespace as its default namespace.
	Client *containerd.Client
	// Address is the socket the client talks to.
	Address string
	// Namespace is the default namespace.
	Namespace string
	// Managed is true when the containerd is Budgie's own.
	Managed bool
	// Started is true when this call started the managed containerd.
	Started bool
	// Pid is the managed containerd's process ID, when known.
	Pid int
}

// Close closes the client.
func (c *Connection) Close() error { return c.Client.Close() }

// Paths of the managed containerd under a data directory.
type Paths struct {
	Dir, Root, State, Socket, Config, Log, PidFile string
}

// ManagedPaths returns where the managed containerd of dataDir keeps its files.
func ManagedPaths(dataDir string) Paths {
	dir := filepath.Join(dataDir, "containerd")
	return Paths{
		Dir:     dir,
		Root:    filepath.Join(dir, "root"),
		State:   filepath.Join(dir, "state"),
		Socket:  filepath.Join(dir, "containerd.sock"),
		Config:  filepath.Join(dir, "config.toml"),
		Log:     filepath.Join(dir, "containerd.log"),
		PidFile: filepath.Join(dir, "containerd.pid"),
	}
}

// Connect returns a client for the first containerd that answers: the one at
// opts.Address, then the managed one under opts.DataDir. When neither answers
// it starts the managed one (unless opts.NoStart) and waits for it.
func Connect(ctx context.Context, opts Options) (*Connection, error) {
	paths := ManagedPaths(opts.DataDir)
	if opts.Address != "" && opts.Address != paths.Socket {
		if c, err := dial(ctx, opts.Address, opts.Namespace); err == nil {
			return &Connection{Client: c, Address: opts.Address, Namespace: opts.Namespace}, nil
		}
	}
	if c, err := dial(ctx, paths.Socket, opts.Namespace); err == nil {
		return &Connection{Client: c, Address: paths.Socket, Namespace: opts.Namespace, Managed: true, Pid: readPid(paths.PidFile)}, nil
	}
	if opts.NoStart {
		return nil, fmt.Errorf("cannot reach containerd at %s or %s (is it running? try: budgie --headless system info)", opts.Address, paths.Socket)
	}
	pid, err := Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, paths.Socket, opts.Namespace)
	if err != nil {
		return nil, fmt.Errorf("managed containerd started (pid %d) but does not answer on %s (see %s): %w", pid, paths.Socket, paths.Log, err)
	}
	return &Connection{Client: c, Address: paths.Socket, Namespace: opts.Namespace, Managed: true, Started: true, Pid: pid}, nil
}

func dial(ctx context.Context, address, namespace string) (*containerd.Client, error) {
	if _, err := os.Stat(address); err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := containerd.New(address, containerd.WithDefaultNamespace(namespace), containerd.WithTimeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	if _, err := c.Version(dctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Start launches the managed containerd for opts.DataDir, detached in its own
// session so it outlives this process, and waits until it answers. It
// returns the daemon's pid.
func Start(ctx context.Context, opts Options) (int, error) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return 0, fmt.Errorf("no containerd answers and the containerd binary is not installed (try: apt-get install containerd runc, or make deps): %w", ErrBinaryMissing)
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return 0, fmt.Errorf("no containerd answers and runc is not installed (try: apt-get install runc, or make deps): %w", ErrBinaryMissing)
	}
	paths := ManagedPaths(opts.DataDir)
	for _, d := range []string{paths.Dir, paths.Root, paths.State} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return 0, fmt.Errorf("create managed containerd directory: %w", err)
		}
	}
	if err := os.WriteFile(paths.Config, []byte(configTOML(paths)), 0o600); err != nil {
		return 0, fmt.Errorf("write managed containerd config: %w", err)
	}
	// A stale socket from a dead daemon would make containerd refuse to start.
	_ = os.Remove(paths.Socket)
	logf, err := os.OpenFile(paths.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("open managed containerd log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--config", paths.Config)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start managed containerd: %w", err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	_ = os.WriteFile(paths.PidFile, []byte(strconv.Itoa(pid)+"\n"), 0o600)

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return 0, fmt.Errorf("managed containerd exited at start (%v); its log: %s%s", err, paths.Log, tail(paths.Log))
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if c, err := dial(ctx, paths.Socket, opts.Namespace); err == nil {
			c.Close()
			_ = cmd.Process.Release()
			return pid, nil
		}
	}
	_ = cmd.Process.Kill()
	return 0, fmt.Errorf("managed containerd did not answer on %s within %s (see %s)%s", paths.Socket, timeout, paths.Log, tail(paths.Log))
}

// Stop ends the managed containerd of dataDir, if it runs: SIGTERM, then
// SIGKILL after timeout. Running containers keep running (their shims are
// separate processes) and are found again by the next managed containerd.
func Stop(dataDir string, timeout time.Duration) error {
	paths := ManagedPaths(dataDir)
	pid := readPid(paths.PidFile)
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill managed containerd %d: %w", pid, err)
	}
	return nil
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	return "\n" + strings.TrimSpace(string(b))
}

// configTOML is the managed containerd's configuration: everything under the
// data directory, the CRI plugin off (Budgie does not need it and it would
// start its own CNI handling), the overlayfs snapshotter.
func configTOML(p Paths) string {
	return fmt.Sprintf(`# Written by budgie: the managed containerd. Edits are overwritten at start.
version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "info"
`, p.Root, p.State, p.Socket, p.Socket+".ttrpc")
}
