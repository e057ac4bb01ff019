//go:build integration

package runtime_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// runAttached runs s with attach's streams and removes it when the test ends.
func runAttached(t *testing.T, s models.ContainerSpec, attach *runtime.AttachOptions) models.Container {
	t.Helper()
	c, err := rt.Run(context.Background(), s, runtime.RunOptions{Attach: attach})
	if err != nil {
		t.Fatalf("run %s: %v", s.Name, err)
	}
	t.Cleanup(func() { _, _ = rt.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true}) })
	return c
}

// exitOf waits for an attached run's exit.
func exitOf(t *testing.T, ch <-chan runtime.AttachExit) runtime.AttachExit {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(30 * time.Second):
		t.Fatal("the attached run never reported its exit")
	}
	return runtime.AttachExit{}
}

// TestAttachedStdin: stdin_open without tty reads the caller's stdin to its
// end, stdout and stderr reach the caller apart, the exit is reported
// once the output is written, and the log has both streams.
func TestAttachedStdin(t *testing.T) {
	s := spec(t, "sh", "-c", "cat; echo err >&2; exit 4")
	s.StdinOpen = true
	var out, errOut safeBuffer
	exited := make(chan runtime.AttachExit, 1)
	c := runAttached(t, s, &runtime.AttachOptions{Stdin: strings.NewReader("in\n"), Stdout: &out, Stderr: &errOut, Exited: exited})
	if res := exitOf(t, exited); res.Code != 4 || res.Err != nil {
		t.Errorf("exit = %+v, want code 4", res)
	}
	if out.String() != "in\n" || errOut.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if lo, le := readLogs(t, c.ID); lo != "in\n" || le != "err\n" {
		t.Errorf("log stdout %q stderr %q", lo, le)
	}
	if got := waitState(t, c.ID, models.StateExited); got.ExitCode != 4 {
		t.Errorf("exit code %d, want 4", got.ExitCode)
	}
}

// TestAttachedTTY: with tty the process's stdin is a terminal of the size
// asked for, resizes reach it, what is written to Stdin is its input
// (Enter as \r, as a terminal sends it) and its output, merged, goes to
// Stdout and the log.
func TestAttachedTTY(t *testing.T) {
	s := spec(t, "sh", "-c", `read x; stty size; ls -l /proc/self/fd/0; read y; stty size; echo got-$x-$y; exit 2`)
	s.Tty, s.StdinOpen = true, true
	in, typed := io.Pipe()
	defer typed.Close()
	resize := make(chan runtime.Size, 1)
	var out safeBuffer
	exited := make(chan runtime.AttachExit, 1)
	c := runAttached(t, s, &runtime.AttachOptions{Stdin: in, Stdout: &out, Size: runtime.Size{Width: 77, Height: 11},
		Resize: resize, Exited: exited})
	waitOut := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("output never showed %q: %q", want, out.String())
			}
		}
	}
	if _, err := typed.Write([]byte("hello\r")); err != nil {
		t.Fatal(err)
	}
	waitOut("11 77\r\n")
	waitOut("-> /dev/pts/")
	resize <- runtime.Size{Width: 90, Height: 20}
	time.Sleep(300 * time.Millisecond)
	if _, err := typed.Write([]byte("there\r")); err != nil {
		t.Fatal(err)
	}
	if res := exitOf(t, exited); res.Code != 2 || res.Err != nil {
		t.Errorf("exit = %+v, want code 2", res)
	}
	for _, want := range []string{"20 90\r\n", "got-hello-there\r\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q: %q", want, out.String())
		}
	}
	if lo, _ := readLogs(t, c.ID); !strings.Contains(lo, "got-hello-there\r\n") || !strings.Contains(lo, "hello") {
		t.Errorf("log lacks the session: %q", lo)
	}
}

// TestTTYInBackground: a tty container started without attach (run -dt,
// and again by the keeper's RestartTask) gets a terminal whose output
// reaches the log through the log driver, and a shell waits on it.
func TestTTYInBackground(t *testing.T) {
	ctx := context.Background()
	s := spec(t, "sh")
	s.Tty = true
	c := run(t, s)
	check := func(prompts int) {
		t.Helper()
		waitState(t, c.ID, models.StateRunning)
		var out safeBuffer
		if _, err := rt.Exec(ctx, c.ID, runtime.ExecOptions{Cmd: []string{"ls", "-l", "/proc/1/fd/0"}, Stdout: &out}); err != nil ||
			!strings.Contains(out.String(), "-> /dev/pts/") {
			t.Errorf("the main process's stdin: %v %q, want a terminal", err, out.String())
		}
		var lo string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if lo, _ = readLogs(t, c.ID); strings.Count(lo, "/ # ") >= prompts {
				return
			}
		}
		t.Errorf("log = %q, want %d prompts", lo, prompts)
	}
	check(1)
	if _, err := rt.Kill(ctx, c.ID, "SIGKILL"); err != nil {
		t.Fatal(err)
	}
	waitState(t, c.ID, models.StateExited)
	if _, err := rt.RestartTask(ctx, c.ID, runtime.RestartTaskOptions{Count: 1}); err != nil {
		t.Fatal(err)
	}
	check(2)
}
