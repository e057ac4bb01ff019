package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TestLoadBundleTellsComposeFromBundles: a file with a top-level services:
// key is converted (its bundle path is the compose file's), a bundle is
// parsed as one whatever its name, and a .bun is always a bundle.
func TestLoadBundleTellsComposeFromBundles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctx := context.Background()
	for _, name := range []string{"compose.yaml", "docker-compose.yml", "anything.txt"} {
		path := write(name, "services:\n  web:\n    image: busybox\n    environment: {A: \"${A:-dflt}\"}\n")
		b, res, err := loadBundle(ctx, path, "")
		if err != nil || res == nil || len(b.Containers) != 1 || b.Path != path {
			t.Fatalf("%s: bundle %+v result %v err %v", name, b, res, err)
		}
		if s := b.Containers[0]; s.Name != "web" || s.Image != "docker.io/library/busybox:latest" || len(s.Env) != 1 {
			t.Errorf("%s: spec %+v", name, s)
		}
	}
	bun := write("web.yaml", "name: web\nimage: busybox\n")
	if b, res, err := loadBundle(ctx, bun, "other"); err != nil || res != nil || b.Containers[0].Name != "other" {
		t.Errorf("a bundle named .yaml: %+v %v %v", b, res, err)
	}
	odd := write("odd.bun", "services:\n  web:\n    image: busybox\n")
	if _, _, err := loadBundle(ctx, odd, ""); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), `odd.bun:1:1: services: unknown field "services"`) {
		t.Errorf("a .bun with services: is a bad bundle: %v", err)
	}
	if _, _, err := loadBundle(ctx, filepath.Join(dir, "missing.yaml"), ""); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("a missing file: %v", err)
	}
}

// TestConvertComposeExplainsBundleProblems: a value the bundle parser
// refuses is reported at the compose file's line and field.
func TestConvertComposeExplainsBundleProblems(t *testing.T) {
	path := filepath.Join(t.TempDir(), "compose.yaml")
	os.WriteFile(path, []byte("services:\n  app:\n    image: busybox\n    ports: [\"8080:80\"]\n  other:\n    image: busybox\n    stop_signal: SIGBOGUS\n    ports: [\"8080:80\"]\n"), 0o644)
	_, err := ConvertCompose(context.Background(), path, ConvertOptions{Env: []string{}})
	var be *bundle.Error
	if !errors.As(err, &be) || len(be.Problems) != 2 {
		t.Fatalf("got %v, want two problems", err)
	}
	want := []string{
		path + ":7:5: services.other.stop_signal: unknown signal \"SIGBOGUS\"",
		path + ":8:13: services.other.ports[0]: host port 8080/tcp is already published by services.app.ports[0]",
	}
	for i, w := range want {
		if !strings.HasPrefix(be.Problems[i].String(), w) {
			t.Errorf("problem %d = %s\nwant prefix %s", i, be.Problems[i], w)
		}
	}
}
