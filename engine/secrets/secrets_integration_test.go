//go:build integration

package secrets_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// unique returns a name unique to this run.
func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

// randomValue returns a secret value no file can hold by chance.
func randomValue(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return []byte("pw-" + hex.EncodeToString(b))
}

// exec runs cmd in the container and returns its stdout and exit code.
func exec(t *testing.T, ref string, cmd ...string) (string, int) {
	t.Helper()
	var out buffer
	code, err := rt.Exec(context.Background(), ref, runtime.ExecOptions{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		var ee *runtime.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("exec %v: %v", cmd, err)
		}
		code = ee.Code
	}
	return out.String(), code
}

// secretMounts returns the mount points of secrets tmpfses in /proc/self/mountinfo.
func secretMounts(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	prefix := filepath.Join(env.DataDir, "run", "secrets") + "/"
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], prefix) {
			out = append(out, f[4]+" "+line[strings.Index(line, " - ")+3:])
		}
	}
	return out
}

// filesHolding returns the regular files under dir whose bytes contain needle.
func filesHolding(t *testing.T, dir string, needle []byte) (hits []string, files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a socket or a vanished file
		}
		if !d.Type().IsRegular() {
			return nil
		}
		files++
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits, files
}

func TestContainerReadsSecret(t *testing.T) {
	tests := []struct {
		name, user string
		wantOwner  string
	}{
		{"root", "", "0"},
		{"numeric user", "1000:1000", "1000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testContainerReadsSecret(t, tt.user, tt.wantOwner)
		})
	}
}

func testContainerReadsSecret(t *testing.T, user, wantOwner string) {
	quick := time.Second
	ctx := context.Background()
	name, value := unique("db-password"), randomValue(t)
	if _, err := store.Create(ctx, name, value, secrets.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Remove(ctx, name, secrets.RemoveOptions{Force: true}) })
	spec := models.ContainerSpec{Name: unique("reader"), Image: testImage, User: user, Secrets: []string{name}}
	c, err := rt.Run(ctx, spec, runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = rt.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}) })
	file := "/run/secrets/" + name
	if out, code := exec(t, c.Name, "cat", file); out != string(value) || code != 0 {
		t.Fatalf("cat %s = %q (exit %d), want the value", file, out, code)
	}
	if out, _ := exec(t, c.Name, "stat", "-c", "%a %u", file); out != "400 "+wantOwner+"\n" {
		t.Errorf("mode and owner = %q, want 400 %s", out, wantOwner)
	}
	if _, code := exec(t, c.Name, "sh", "-c", "echo x >> "+file+" || echo y > /run/secrets/new"); code == 0 {
		t.Error("the secrets mount is writable")
	}
	if m := secretMounts(t); len(m) != 1 || !strings.Contains(m[0], "tmpfs") || !strings.HasSuffix(strings.Fields(m[0])[0], c.ID) {
		t.Errorf("secret mounts while running = %q, want one tmpfs for %s", m, c.ID)
	}
	if err := store.Remove(ctx, name, secrets.RemoveOptions{}); !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), c.Name) {
		t.Errorf("rm of a secret in use = %v, want a conflict naming %s", err, c.Name)
	}

	// Stopped: no tmpfs, and no plaintext in data_dir or the snapshot.
	if _, err := rt.Stop(ctx, c.ID, runtime.StopOptions{Timeout: &quick}); err != nil {
		t.Fatal(err)
	}
	if m := secretMounts(t); len(m) != 0 {
		t.Errorf("secret mounts after stop: %q", m)
	}
	assertNoPlaintext(t, c.ID, value)

	// Started again: the tmpfs is re-created from the store.
	if _, err := rt.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec(t, c.Name, "cat", file); out != string(value) {
		t.Errorf("after restart, cat = %q", out)
	}
	if _, err := rt.Remove(ctx, c.ID, runtime.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if m := secretMounts(t); len(m) != 0 {
		t.Errorf("secret mounts after rm: %q", m)
	}
	if _, err := os.Stat(rt.SecretsDir(c.ID)); !os.IsNotExist(err) {
		t.Errorf("secrets directory left after rm: %v", err)
	}
	if hits, _ := filesHolding(t, env.DataDir, value); len(hits) > 0 {
		t.Errorf("plaintext found after rm in %v", hits)
	}
}

// assertNoPlaintext searches the whole data directory (containerd's root
// with its snapshots, logs, secrets) and the container's writable layer.
func assertNoPlaintext(t *testing.T, id string, value []byte) {
	t.Helper()
	hits, files := filesHolding(t, env.DataDir, value)
	if len(hits) > 0 || files < 10 {
		t.Errorf("plaintext found in %v (searched %d files)", hits, files)
	}
	mounts, err := env.Client().SnapshotService("overlayfs").Mounts(env.Context(), id)
	if err != nil || len(mounts) == 0 {
		t.Fatalf("snapshot mounts of %s: %v", id, err)
	}
	var upper string
	for _, o := range mounts[0].Options {
		if dir, ok := strings.CutPrefix(o, "upperdir="); ok {
			upper = dir
		}
	}
	// runc writes the /etc/hosts mount point there: proof this is the container's layer.
	// (/run/secrets itself lands in the /run tmpfs of the default spec, never in the layer.)
	if _, err := os.Stat(filepath.Join(upper, "etc", "hosts")); err != nil {
		t.Fatalf("%q is not the container's writable layer: %v", upper, err)
	}
	if hits, _ := filesHolding(t, upper, value); len(hits) > 0 {
		t.Errorf("plaintext found in the container's snapshot: %v", hits)
	}
}

func TestMissingSecretLeavesNothing(t *testing.T) {
	ctx := context.Background()
	existing, value := unique("present"), randomValue(t)
	if _, err := store.Create(ctx, existing, value, secrets.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Remove(ctx, existing, secrets.RemoveOptions{Force: true}) })
	missing := unique("absent")
	tests := []struct {
		name    string
		spec    models.ContainerSpec
		want    error
		wantMsg string
	}{
		{"missing secret", models.ContainerSpec{Image: testImage, Secrets: []string{existing, missing}}, errdefs.ErrNotFound, missing},
		{"task fails to start", models.ContainerSpec{Image: testImage, Secrets: []string{existing}, Args: []string{"/no/such/cmd"}}, nil, "no/such/cmd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Name = unique("nothing")
			_, err := rt.Run(ctx, tt.spec, runtime.RunOptions{})
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Run = %v, want an error naming %s", err, tt.wantMsg)
			}
			all, err := rt.List(ctx, runtime.ListOptions{All: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range all {
				if c.Name == tt.spec.Name {
					t.Errorf("a container was left: %+v", c)
				}
			}
			if m := secretMounts(t); len(m) != 0 {
				t.Errorf("secret mounts left: %q", m)
			}
			entries, _ := os.ReadDir(filepath.Join(env.DataDir, "run", "secrets", testkit.Namespace))
			if len(entries) != 0 {
				t.Errorf("secrets directories left: %v", entries)
			}
		})
	}
}
