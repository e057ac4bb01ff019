package logs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shimSide is what containerd's shim keeps of a started log driver.
type shimSide struct {
	cmd            *exec.Cmd
	stdout, stderr *os.File // write ends of the container's pipes
	stderrText     *bytes.Buffer
}

// startDriver runs this test binary as the log driver the way the shim's
// NewBinaryIO does (pipes on fds 3 and 4, ready pipe on fd 5, env with the
// container's ID and namespace) and waits until it is ready.
func startDriver(t *testing.T, dir string) *shimSide {
	t.Helper()
	outR, outW := mustPipe(t)
	errR, errW := mustPipe(t)
	readyR, readyW := mustPipe(t)
	cmd := exec.Command(os.Args[0], DriverArg, dir)
	// GORACE: a -race binary otherwise sleeps 1 s before exiting.
	cmd.Env = []string{"CONTAINER_ID=c1", "CONTAINER_NAMESPACE=budgie", "GORACE=atexit_sleep_ms=0"}
	cmd.ExtraFiles = []*os.File{outR, errR, readyW}
	s := &shimSide{cmd: cmd, stdout: outW, stderr: errW, stderrText: &bytes.Buffer{}}
	cmd.Stderr = s.stderrText
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	for _, f := range []*os.File{outR, errR, readyW} {
		f.Close()
	}
	// Like the shim: one read on the ready pipe, which must end with EOF.
	if err := readyR.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := readyR.Read(make([]byte, 1))
	if n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("ready pipe: read %d bytes, %v; want EOF (fd 5 closed)", n, err)
	}
	return s
}

// wait waits up to limit for the driver to exit.
func (s *shimSide) wait(t *testing.T, limit time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.cmd.Wait() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(limit):
		t.Fatalf("log driver still running after %v", limit)
		return nil
	}
}

func TestRunDriverProcess(t *testing.T) {
	dir := t.TempDir()
	if err := WriteDriverConfig(dir, DriverOptions{MaxSize: 4 << 10, MaxFiles: 2}); err != nil {
		t.Fatal(err)
	}
	s := startDriver(t, dir)
	if _, err := s.stdout.WriteString(numbered("out", 0, 1000)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "stdout in the log", func() bool {
		out, _ := readAll(t, dir, ReadOptions{Tail: 1})
		return out == "out 999\n"
	})
	if _, err := s.stderr.WriteString("warning\nlast words"); err != nil {
		t.Fatal(err)
	}
	s.stdout.Close()
	s.stderr.Close()
	if err := s.wait(t, 5*time.Second); err != nil {
		t.Fatalf("driver failed: %v: %s", err, s.stderrText)
	}
	// driver.json was honoured: two files of at most 4 KiB.
	rot, err := rotatedFiles(dir)
	if err != nil || len(rot) != 1 {
		t.Fatalf("rotated files %v (%v), want json.log.1 only", rot, err)
	}
	if st, err := os.Stat(rot[0].path); err != nil || st.Size() > 4<<10 {
		t.Errorf("json.log.1 over MaxSize: %v %v", st.Size(), err)
	}
	out, errOut := readAll(t, dir, ReadOptions{Tail: -1})
	if !strings.HasSuffix(numbered("out", 0, 1000), out) || !strings.HasSuffix(out, "out 999\n") || strings.Count(out, "\n") < 30 {
		t.Errorf("stdout is not the end of the output: %q", out)
	}
	if errOut != "warning\nlast words" {
		t.Errorf("stderr = %q", errOut)
	}
}

// At task delete the shim closes its pipe ends and sends SIGTERM; with a
// TTY it never closes the (unused) stderr pipe. The driver must write
// everything still buffered and exit promptly.
func TestRunDriverSIGTERM(t *testing.T) {
	dir := t.TempDir()
	s := startDriver(t, dir)
	if _, err := s.stdout.WriteString(numbered("out", 0, 500) + "tail"); err != nil {
		t.Fatal(err)
	}
	s.stdout.Close() // s.stderr stays open
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The shim kills it after 12 s; it should need about drainGrace.
	if err := s.wait(t, 5*time.Second); err != nil {
		t.Fatalf("driver failed: %v: %s", err, s.stderrText)
	}
	if out, _ := readAll(t, dir, ReadOptions{Tail: -1}); out != numbered("out", 0, 500)+"tail" {
		t.Errorf("stdout has %d bytes, want %d", len(out), len(numbered("out", 0, 500))+4)
	}
}

// Run by hand (no fds from a shim) the driver says what is wrong.
func TestRunDriverWithoutShim(t *testing.T) {
	cmd := exec.Command(os.Args[0], DriverArg, t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "fd 3 is not open on a pipe") {
		t.Fatalf("got %v, stderr %q; want exit 1 explaining fd 3", err, stderr.String())
	}
}
