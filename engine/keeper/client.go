package keeper

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Client talks to the keeper of one data directory over its unix socket.
// It implements runtime.KeeperState: when no keeper answers it annotates
// nothing. The zero value is not usable; use NewClient or Dial.
type Client struct {
	dataDir string
	http    *http.Client
}

// NewClient returns a client for the keeper of dataDir without checking
// that one runs.
func NewClient(dataDir string) *Client {
	sock := SocketPath(dataDir)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression: true,
	}
	return &Client{dataDir: dataDir, http: &http.Client{Transport: tr}}
}

// Dial returns a client for the keeper of dataDir, or errdefs.ErrUnavailable
// when none answers.
func Dial(ctx context.Context, dataDir string) (*Client, error) {
	c := NewClient(dataDir)
	if _, err := c.Ping(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Ping returns the keeper's identity.
func (c *Client) Ping(ctx context.Context) (Info, error) {
	var info Info
	err := c.get(ctx, "/v1/ping", &info)
	return info, err
}

// State returns the live state of every supervised container.
func (c *Client) State(ctx context.Context) (StateResponse, error) {
	var st StateResponse
	err := c.get(ctx, "/v1/state", &st)
	return st, err
}

// Containers returns the node's containers from the keeper's live list
// (see ContainersResponse), at most limit of them by name (zero or above
// MaxContainers: MaxContainers). The first call after the keeper started
// waits for the list's first containerd listing.
func (c *Client) Containers(ctx context.Context, limit int) (ContainersResponse, error) {
	if limit <= 0 || limit > MaxContainers {
		limit = MaxContainers
	}
	var resp ContainersResponse
	err := c.getLimited(ctx, "/v1/containers?limit="+strconv.Itoa(limit), &resp, maxContainersBytes)
	return resp, err
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	return c.getLimited(ctx, path, v, 16<<20)
}

// getLimited decodes the answer of path into v, reading at most max bytes.
func (c *Client) getLimited(ctx context.Context, path string, v any, max int64) error {
	resp, err := c.do(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, max)).Decode(v); err != nil {
		return fmt.Errorf("keeper %s: decode answer: %w", path, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, path string) (*http.Response, error) {
	sock := SocketPath(c.dataDir)
	if _, err := os.Stat(sock); err != nil {
		return nil, fmt.Errorf("no keeper runs for %s (start one: budgie --headless serve): %w", c.dataDir, errdefs.ErrUnavailable)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://keeper"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("keeper at %s does not answer (start one: budgie --headless serve): %w: %w", sock, err, errdefs.ErrUnavailable)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("keeper %s: %s", path, resp.Status)
	}
	return resp, nil
}

// Events streams the keeper's events until ctx ends or the keeper goes
// away. The error channel carries at most one error, after which both close.
func (c *Client) Events(ctx context.Context) (<-chan Notice, <-chan error) {
	out := make(chan Notice, 64)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		defer close(errc)
		resp, err := c.do(ctx, "/v1/events")
		if err != nil {
			errc <- err
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var ev Notice
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil && ctx.Err() == nil {
			errc <- fmt.Errorf("keeper events: %w: %w", err, errdefs.ErrUnavailable)
		}
	}()
	return out, errc
}

// annotateTimeout bounds the state request of Annotate and HealthLog, so
// that a wedged keeper slows ps down by at most this much.
const annotateTimeout = time.Second

// Annotate implements runtime.KeeperState: it merges the keeper's state
// into cs, or leaves cs alone when no keeper answers.
func (c *Client) Annotate(ctx context.Context, cs []models.Container) {
	ctx, cancel := context.WithTimeout(ctx, annotateTimeout)
	defer cancel()
	st, err := c.State(ctx)
	if err != nil {
		return
	}
	annotate(cs, st.Containers)
}

// HealthLog implements runtime.KeeperState.
func (c *Client) HealthLog(ctx context.Context, id string) *models.Health {
	ctx, cancel := context.WithTimeout(ctx, annotateTimeout)
	defer cancel()
	st, err := c.State(ctx)
	if err != nil {
		return nil
	}
	for _, s := range st.Containers {
		if s.ID == id {
			return s.Health
		}
	}
	return nil
}

// EnsureOptions tune Ensure.
type EnsureOptions struct {
	// Timeout bounds the wait for a started keeper to answer; zero means 15 s.
	Timeout time.Duration
}

// Ensure returns a client for the keeper of dataDir, starting one when none
// answers: argv (e.g. budgie --headless serve) runs detached in its own
// session with its output appended to DataDir/keeper.log, and Ensure waits
// until it answers. If it exits first (another keeper won the lock, say),
// Ensure tries once more to reach the winner before failing.
func Ensure(ctx context.Context, dataDir string, argv []string, opts EnsureOptions) (*Client, error) {
	if c, err := Dial(ctx, dataDir); err == nil {
		return c, nil
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("start keeper: no command given: %w", errdefs.ErrInvalid)
	}
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	deadline := time.Now().Add(timeout)
	var exited <-chan error // nil while no keeper of ours is starting
	var lastErr error
	for spawned := 0; time.Now().Before(deadline); {
		if c, err := Dial(ctx, dataDir); err == nil {
			return c, nil
		}
		// Another keeper may hold the lock (one starting for a concurrent
		// command, or one shutting down): then ours exits, and we wait for
		// that one to answer, or start ours again once the lock is free.
		if exited == nil && !lockHeld(dataDir) {
			if spawned == 3 {
				break
			}
			ch, err := spawnKeeper(dataDir, argv)
			if err != nil {
				return nil, err
			}
			exited, spawned = ch, spawned+1
		}
		select {
		case err := <-exited:
			exited, lastErr = nil, err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if lastErr != nil {
		return nil, fmt.Errorf("keeper exited at start (%v); see %s: %w", lastErr, LogPath(dataDir), errdefs.ErrUnavailable)
	}
	return nil, fmt.Errorf("the keeper does not answer on %s within %s (see %s): %w",
		SocketPath(dataDir), timeout, LogPath(dataDir), errdefs.ErrUnavailable)
}

// spawnKeeper starts argv detached (its own session, output to the keeper
// log) and returns a channel that receives its exit.
func spawnKeeper(dataDir string, argv []string) (<-chan error, error) {
	logf, err := os.OpenFile(LogPath(dataDir), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open keeper log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start keeper (%s): %w", strings.Join(argv, " "), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return exited, nil
}
