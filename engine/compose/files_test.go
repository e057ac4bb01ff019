package compose

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// TestLoadRefusesUnboundedFiles: a file the compose file makes compose-go
// read (env_file, label_file, include, extends, .env) that is a FIFO, a
// device, a directory or too large is refused before it is opened, at the
// field naming it, without waiting for the load's deadline.
func TestLoadRefusesUnboundedFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.env")
	if err := os.WriteFile(big, []byte("A="+strings.Repeat("x", maxReadFile)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "inner.yaml"), []byte("services:\n  in:\n    image: busybox\n    env_file: fifo\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const svc = "services:\n  web:\n    image: busybox\n"
	cases := []struct{ name, compose, want string }{
		{"env_file fifo", svc + "    env_file: fifo\n", "c.yaml:4:15: services.web.env_file: " + fifo + " is not a regular file (a named pipe)"},
		{"env_file /dev/zero", svc + "    env_file: [ok.env, /dev/zero]\n", "c.yaml:4:24: services.web.env_file[1]: /dev/zero is not a regular file (a character device)"},
		{"env_file link to /dev/zero", svc + "    env_file: [{path: zero-link, required: false}]\n", "services.web.env_file[0].path: " + filepath.Join(dir, "zero-link") + " is not a regular file"},
		{"env_file too large", svc + "    env_file: big.env\n", "services.web.env_file: " + big + " is larger than 1 MiB"},
		{"env_file directory", svc + "    env_file: adir\n", "services.web.env_file: " + filepath.Join(dir, "adir") + " is a directory, not a file"},
		{"env_file interpolated", svc + "    env_file: ${WHERE}\n", "services.web.env_file: /dev/zero is not a regular file"},
		{"label_file", svc + "    label_file: fifo\n", "c.yaml:4:17: services.web.label_file: " + fifo + " is not a regular file"},
		{"include", "include: [fifo]\n" + svc, "c.yaml:1:11: include[0]: " + fifo + " is not a regular file"},
		{"include env_file", "include: [{path: ok.yaml, env_file: /dev/zero}]\n" + svc, "include[0].env_file: /dev/zero is not a regular file"},
		{"included file's env_file", "include: [inner.yaml]\n" + svc, filepath.Join(dir, "inner.yaml") + ":4:15: services.in.env_file: " + fifo + " is not a regular file"},
		{"extends", svc + "    extends: {file: /dev/zero, service: x}\n", "c.yaml:4:21: services.web.extends.file: /dev/zero is not a regular file"},
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.env"), []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(c.compose), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := Load(ctx, "c.yaml", LoadOptions{Env: []string{"WHERE=/dev/zero"}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Load = %v, want an invalid error with %q", err, c.want)
			}
			if ctx.Err() != nil {
				t.Errorf("Load ran into its deadline")
			}
		})
	}
	t.Run(".env", func(t *testing.T) {
		d := t.TempDir()
		if err := syscall.Mkfifo(filepath.Join(d, ".env"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "c.yaml"), []byte(svc), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(d)
		_, err := Load(context.Background(), "c.yaml", LoadOptions{Env: []string{}})
		if err == nil || !strings.Contains(err.Error(), "c.yaml: .env: "+filepath.Join(d, ".env")+" is not a regular file (a named pipe)") {
			t.Fatalf("Load = %v", err)
		}
	})
	t.Run("total", func(t *testing.T) {
		d := t.TempDir()
		compose := svc + "    env_file:\n"
		for i := 0; i < 17; i++ {
			name := filepath.Join(d, "e"+strings.Repeat("x", i)+".env")
			if err := os.WriteFile(name, []byte("A="+strings.Repeat("x", 1_000_000)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			compose += "    - " + name + "\n"
		}
		if err := os.WriteFile(filepath.Join(d, "c.yaml"), []byte(compose), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(d)
		_, err := Load(context.Background(), "c.yaml", LoadOptions{Env: []string{}})
		if err == nil || !strings.Contains(err.Error(), "c.yaml:21:7: services.web.env_file[16]: the files this compose file reads pass 16 MiB together") {
			t.Fatalf("Load = %v", err)
		}
	})
	t.Run("env_file read when checked", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(svc+"    env_file: ok.env\n    label_file: ok.env\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		src, err := Load(context.Background(), "c.yaml", LoadOptions{Env: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		web := src.Project.Services["web"]
		if v := web.Environment["A"]; v == nil || *v != "1" || web.Labels["A"] != "1" || len(web.EnvFiles) != 0 {
			t.Errorf("env %v, labels %v, env files %v", web.Environment, web.Labels, web.EnvFiles)
		}
	})
}
