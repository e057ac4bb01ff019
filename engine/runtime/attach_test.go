package runtime

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/budgie-sh/budgie/engine/logs"
	"github.com/budgie-sh/budgie/models"
)

// TestWithTTY: tty gives the process a terminal and TERM=xterm unless
// the image set TERM; the bundle's env, applied after it, still wins.
func TestWithTTY(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     models.ContainerSpec
		imageEnv []string
		terminal bool
		env      []string
	}{
		{"no tty", models.ContainerSpec{}, []string{"PATH=/bin"}, false, []string{"PATH=/bin"}},
		{"tty", models.ContainerSpec{Tty: true}, []string{"PATH=/bin"}, true, []string{"PATH=/bin", "TERM=xterm"}},
		{"image's TERM kept", models.ContainerSpec{Tty: true}, []string{"TERM=vt100"}, true, []string{"TERM=vt100"}},
		{"bundle's TERM wins", models.ContainerSpec{Tty: true, Env: []string{"TERM=screen"}}, nil, true, []string{"TERM=screen"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &oci.Spec{Process: &specs.Process{Env: tc.imageEnv}}
			opts := ttyOpts(tc.spec)
			if len(tc.spec.Env) > 0 {
				opts = append(opts, oci.WithEnv(tc.spec.Env)) // as specOpts orders them
			}
			for _, o := range opts {
				if err := o(context.Background(), nil, nil, s); err != nil {
					t.Fatal(err)
				}
			}
			if s.Process.Terminal != tc.terminal || !reflect.DeepEqual(s.Process.Env, tc.env) {
				t.Errorf("terminal %v env %q, want %v %q", s.Process.Terminal, s.Process.Env, tc.terminal, tc.env)
			}
		})
	}
}

// failingWriter fails every write, as a closed terminal does.
type failingWriter struct{ calls int }

func (f *failingWriter) Write([]byte) (int, error) {
	f.calls++
	return 0, errors.New("input/output error")
}

// TestTeeWriter: the caller gets the output while it accepts it; once it
// fails it is skipped, and the log still gets everything without the
// writer ever failing (the container must not block or lose its log).
func TestTeeWriter(t *testing.T) {
	var user, log bytes.Buffer
	w := &teeWriter{user: &user, log: &log}
	if n, err := w.Write([]byte("one\n")); n != 4 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if user.String() != "one\n" || log.String() != "one\n" {
		t.Errorf("user %q log %q, want both one", user.String(), log.String())
	}
	gone := &failingWriter{}
	w = &teeWriter{user: gone, log: &log}
	for _, s := range []string{"two\n", "three\n"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write after the caller failed = %d, %v", n, err)
		}
	}
	if gone.calls != 1 || log.String() != "one\ntwo\nthree\n" {
		t.Errorf("failed caller written %d times, log %q", gone.calls, log.String())
	}
}

// TestTaskIOLogsAttachedOutput: an attached run's output written through
// its streams reaches the caller and, as json-file entries, the
// container's log once the run is closed; the log-driver IO of a detached
// task is containerd's binary log URI, with a terminal for tty.
func TestTaskIOLogsAttachedOutput(t *testing.T) {
	r := &Runtime{opts: Options{LogBinary: "/usr/bin/budgie", LogMaxSize: 1 << 20, LogMaxFiles: 2}}
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	tio, err := r.taskIO(models.ContainerSpec{StdinOpen: true}, dir, &AttachOptions{Stdout: &out, Stderr: &errOut})
	if err != nil {
		t.Fatal(err)
	}
	if tio.stdin != nil || tio.errW == nil {
		t.Errorf("stdin_open without Stdin must have no stdin; without tty stderr is its own stream")
	}
	_, _ = (&teeWriter{user: &out, log: tio.outW}).Write([]byte("to stdout\n"))
	_, _ = (&teeWriter{user: &errOut, log: tio.errW}).Write([]byte("to stderr\n"))
	if err := tio.closeLog(); err != nil {
		t.Fatal(err)
	}
	var logOut, logErr bytes.Buffer
	if err := logs.Read(context.Background(), dir, logs.ReadOptions{Stdout: &logOut, Stderr: &logErr, Tail: -1}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "to stdout\n" || logOut.String() != "to stdout\n" || logErr.String() != "to stderr\n" {
		t.Errorf("caller %q, log stdout %q stderr %q", out.String(), logOut.String(), logErr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "json.log")); err != nil {
		t.Error(err)
	}

	for _, tc := range []struct {
		spec     models.ContainerSpec
		attach   *AttachOptions
		terminal bool
	}{
		{models.ContainerSpec{}, nil, false},
		{models.ContainerSpec{Tty: true}, nil, true},
		{models.ContainerSpec{}, &AttachOptions{}, false}, // nothing to attach: the log driver
	} {
		tio, err := r.taskIO(tc.spec, dir, tc.attach)
		if err != nil {
			t.Fatal(err)
		}
		io, err := tio.creator("id")
		if err != nil {
			t.Fatal(err)
		}
		cfg := io.Config()
		if tio.attach != nil || !strings.HasPrefix(cfg.Stdout, "binary:///usr/bin/budgie?") || cfg.Stdin != "" || cfg.Terminal != tc.terminal {
			t.Errorf("tty %v: IO config %+v, want the log driver, terminal %v", tc.spec.Tty, cfg, tc.terminal)
		}
	}
}
