package testkit

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/remotes/docker"
)

// RegistryPath is where Debian's docker-registry installs its binary.
const RegistryPath = "/usr/bin/docker-registry"

// Registry is a private Docker registry (Debian's docker-registry, the
// distribution project's registry) on a free loopback port, with no
// authentication (StartAuthRegistry: basic auth) and its storage in a
// temporary directory.
type Registry struct {
	dir  string
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

// lockedBuffer is the registry's output, written by exec's copier while
// StartRegistry may read it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// StartRegistry starts a registry under a new directory in parent
// (os.TempDir() when empty) and waits until GET /v2/ answers. It tries
// three ports in case another process takes the free port it picked.
func StartRegistry(parent string) (*Registry, error) {
	return startRegistryWith(parent, nil)
}

// startRegistryWith is StartRegistry with extra configuration: extra (when
// set) gets the registry's directory and returns YAML appended to its
// configuration (see StartAuthRegistry).
func startRegistryWith(parent string, extra func(dir string) (string, error)) (*Registry, error) {
	if _, err := os.Stat(RegistryPath); err != nil {
		return nil, fmt.Errorf("registry tests need %s (run as root after: make deps): %w", RegistryPath, err)
	}
	var err error
	for range 3 {
		var r *Registry
		if r, err = startRegistry(parent, extra); err == nil {
			return r, nil
		}
	}
	return nil, err
}

func startRegistry(parent string, extra func(dir string) (string, error)) (*Registry, error) {
	dir, err := os.MkdirTemp(parent, "bgreg")
	if err != nil {
		return nil, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	if extra != nil {
		more, err := extra(dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		config += more
	}
	configPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	r := &Registry{dir: dir, addr: addr, log: &lockedBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(RegistryPath, "serve", configPath)
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", RegistryPath, err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if err := r.waitReady(15 * time.Second); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// freeLoopbackAddr returns "127.0.0.1:PORT" for a port nothing listens on.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitReady polls GET /v2/ until it answers 200 (401 with authentication),
// the process exits or the timeout passes.
func (r *Registry) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-r.done:
			return fmt.Errorf("docker-registry exited at start: %s", r.log.String())
		default:
		}
		resp, err := client.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("docker-registry did not answer on %s within %s: %s", r.addr, timeout, r.log.String())
}

// Addr returns the registry's address, "127.0.0.1:PORT".
func (r *Registry) Addr() string { return r.addr }

// Close kills the registry and removes its directory.
func (r *Registry) Close() error {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
		}
	}
	return os.RemoveAll(r.dir)
}

// PushBusybox builds a busybox-static image (opts as for LoadBusybox)
// named ref, which must be in reg ("127.0.0.1:PORT/NAME:TAG"), pushes it
// there over plain HTTP and deletes it again from the namespace of ctx, so
// that a pull afterwards really downloads it.
func PushBusybox(ctx context.Context, client *containerd.Client, reg *Registry, ref string, opts ImageOptions) error {
	if !strings.HasPrefix(ref, reg.Addr()+"/") {
		return fmt.Errorf("push test image: %s is not in registry %s", ref, reg.Addr())
	}
	opts.Ref = ref
	var buf bytes.Buffer
	if err := WriteBusyboxArchive(&buf, opts); err != nil {
		return err
	}
	imgs, err := client.Import(ctx, &buf)
	if err != nil {
		return fmt.Errorf("import test image: %w", err)
	}
	defer func() {
		is := client.ImageService()
		for i, img := range imgs {
			if i == len(imgs)-1 {
				_ = is.Delete(ctx, img.Name, images.SynchronousDelete())
			} else {
				_ = is.Delete(ctx, img.Name)
			}
		}
	}()
	if len(imgs) != 1 || imgs[0].Name != ref {
		return fmt.Errorf("push test image: import gave %d images, want one named %s", len(imgs), ref)
	}
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost)),
	})
	if err := client.Push(ctx, ref, imgs[0].Target, containerd.WithResolver(resolver)); err != nil {
		return fmt.Errorf("push test image %s: %w", ref, err)
	}
	return nil
}
