//go:build integration

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// imageCLI runs a freshly built budgie binary against a private containerd.
type imageCLI struct {
	t   *testing.T
	bin string
	env []string
	dir string
}

func newImageCLI(t *testing.T, env *testkit.Env) *imageCLI {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "budgie")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return &imageCLI{t: t, bin: bin, dir: dir, env: append(os.Environ(),
		"HOME="+dir,
		"BUDGIE_CONTAINERD_ADDRESS="+env.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE="+testkit.Namespace,
		"BUDGIE_DATA_DIR="+filepath.Join(dir, "data"),
		"BUDGIE_NETWORKS_DEFAULT_BRIDGE="+testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET="+testkit.TestSubnet,
	)}
}

// runAll returns stdout, stderr and the exit code of `budgie --headless args…`.
func (c *imageCLI) runAll(stdin []byte, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append([]string{"--headless"}, args...)...)
	cmd.Env, cmd.Dir = c.env, c.dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	case err != nil:
		c.t.Fatalf("budgie %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// run returns stdout and the exit code of `budgie --headless args…`,
// logging stderr when it fails.
func (c *imageCLI) run(stdin []byte, args ...string) (string, int) {
	c.t.Helper()
	stdout, stderr, code := c.runAll(stdin, args...)
	if code != 0 {
		c.t.Logf("budgie %v: exit %d: %s", args, code, strings.TrimSpace(stderr))
	}
	return stdout, code
}

// ok runs args and fails the test unless budgie exits 0.
func (c *imageCLI) ok(stdin []byte, args ...string) string {
	c.t.Helper()
	out, code := c.run(stdin, args...)
	if code != 0 {
		c.t.Fatalf("budgie %v: exit %d\n%s", args, code, out)
	}
	return out
}

func TestCLIImages(t *testing.T) {
	env, err := testkit.StartContainerd("")
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	reg, err := testkit.StartRegistry("")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	cli := newImageCLI(t, env)

	var archive bytes.Buffer
	if err := testkit.WriteBusyboxArchive(&archive, testkit.ImageOptions{Ref: "cli-a:1"}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(cli.dir, "a.tar")
	if err := os.WriteFile(file, archive.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("load", func(t *testing.T) {
		if out := cli.ok(nil, "load", "-i", file); out != "Loaded image: cli-a:1\n" {
			t.Errorf("load -i = %q", out)
		}
		if out := cli.ok(archive.Bytes(), "load", "-q"); out != "docker.io/library/cli-a:1\n" {
			t.Errorf("load -q from stdin = %q", out)
		}
		if _, code := cli.run([]byte("junk"), "load"); code != exitUsage {
			t.Errorf("load of junk: exit %d, want %d", code, exitUsage)
		}
	})

	ref := reg.Addr() + "/test/cli:1"
	if err := testkit.PushBusybox(env.Context(), env.Client(), reg, ref, testkit.ImageOptions{Files: map[string]string{"cli": "pull"}}); err != nil {
		t.Fatal(err)
	}
	t.Run("pull", func(t *testing.T) {
		out := cli.ok(nil, "pull", ref)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if lines[len(lines)-1] != ref {
			t.Errorf("last line = %q, want %q\n%s", lines[len(lines)-1], ref, out)
		}
		if !regexp.MustCompile(`(?m)^[0-9a-f]{12}: waiting\n(?:[0-9a-f]{12}: downloading\n)?[0-9a-f]{12}: done$`).MatchString(out) {
			t.Errorf("pull output lacks the layer's waiting…done lines:\n%s", out)
		}
		if out := cli.ok(nil, "pull", "-q", ref); out != ref+"\n" {
			t.Errorf("pull -q = %q, want %q", out, ref+"\n")
		}
		if _, code := cli.run(nil, "pull", reg.Addr()+"/test/cli:nope"); code != exitNotFound {
			t.Errorf("pull of a missing tag: exit %d, want %d", code, exitNotFound)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := l.Addr().String()
		l.Close()
		if _, code := cli.run(nil, "pull", dead+"/x:1"); code != exitUnavailable {
			t.Errorf("pull from a dead registry: exit %d, want %d", code, exitUnavailable)
		}
	})

	t.Run("images", func(t *testing.T) {
		var listed []models.Image
		if err := json.Unmarshal([]byte(cli.ok(nil, "images", "--format", "json")), &listed); err != nil {
			t.Fatal(err)
		}
		names := map[string]models.Image{}
		for _, img := range listed {
			names[img.Name] = img
		}
		a, okA := names["docker.io/library/cli-a:1"]
		if _, okP := names[ref]; !okA || !okP || len(listed) != 2 {
			t.Fatalf("images --format json = %+v; want cli-a:1 and %s", listed, ref)
		}
		if out := cli.ok(nil, "images", "--format", "{{.Repository}}:{{.Tag}}", "cli-a"); out != "docker.io/library/cli-a:1\n" {
			t.Errorf("template output = %q", out)
		}
		if out := cli.ok(nil, "images", "-q", "cli-a"); out != strings.TrimPrefix(a.ID, "sha256:")[:12]+"\n" {
			t.Errorf("images -q = %q, want the short ID of %s", out, a.ID)
		}
		table := cli.ok(nil, "images")
		if !regexp.MustCompile(`(?m)^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE\n`).MatchString(table) ||
			!regexp.MustCompile(`(?m)^cli-a +1 +[0-9a-f]{12} +.* ago +[0-9.]+[kM]B$`).MatchString(table) {
			t.Errorf("images table:\n%s", table)
		}
		if out := cli.ok(nil, "images", "--format", "json", "nothing-here"); strings.TrimSpace(out) != "[]" {
			t.Errorf("empty json list = %q, want []", out)
		}
	})

	t.Run("rmi", func(t *testing.T) {
		if out := cli.ok(nil, "rmi", "cli-a:1"); out != "Untagged: cli-a:1\n" {
			t.Errorf("rmi = %q", out)
		}
		if _, code := cli.run(nil, "rmi", "cli-a:1"); code != exitNotFound {
			t.Errorf("rmi of a removed image: exit %d, want %d", code, exitNotFound)
		}
		if out := cli.ok(nil, "images", "-q", "cli-a"); out != "" {
			t.Errorf("images after rmi = %q", out)
		}
	})
}

// The exit codes the README documents (cli/exit.go).
const (
	exitUsage       = 2
	exitNotFound    = 3
	exitUnavailable = 4
)
