//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ttyPane runs `budgie --headless run ARGS` in a tmux terminal, then
// prints its exit code (EXIT=n) and the terminal's mode after it
// (MODE=icanon once raw mode is undone), and waits.
func ttyPane(t *testing.T, args string) *pane {
	t.Helper()
	script := "budgie --headless run " + args + "; echo EXIT=$?; " +
		`stty -a | tr " ;" "\n\n" | grep -x -e icanon -e -icanon | sed "s/^/MODE=/"; sleep 600`
	return startPane(t, t.TempDir(), "sh -c '"+script+"'") // no ' in script
}

// paneSize is the pane's size as stty prints it: "rows cols".
func paneSize(t *testing.T, p *pane) string {
	t.Helper()
	out, err := exec.Command("tmux", "display-message", "-p", "-t", p.name, "#{pane_height} #{pane_width}").Output()
	if err != nil {
		t.Fatalf("tmux display-message: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// line types a command and Enter.
func (p *pane) line(cmd string) {
	p.t.Helper()
	p.typeText(cmd)
	p.keys("Enter")
}

// TestRunTTYInteractive: `run -it --rm IMAGE sh` in a real terminal is a
// shell in a new container: it computes (42 can only come from the shell),
// its stdin is a terminal (/dev/pts/…) of the pane's size that follows a
// resize, Ctrl-C interrupts the container's foreground command and not
// budgie (raw mode), `exit 3` makes budgie exit 3 with its terminal back
// in canonical mode, and --rm has removed the container.
func TestRunTTYInteractive(t *testing.T) {
	name := "tty" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	p := ttyPane(t, "-it --rm --name "+name+" "+cliImage+" sh")
	p.waitFor(30*time.Second, "/ #")

	p.line("echo $((6*7))x")
	p.waitFor(10*time.Second, "42x")
	p.line("busybox tty | sed 's/^/TTY=/'")
	p.waitFor(10*time.Second, "TTY=/dev/pts/")
	p.line("echo TERM=$TERM.")
	p.waitFor(10*time.Second, "TERM=xterm.")

	p.line("stty size | sed 's/^/SIZE=/'")
	p.waitFor(10*time.Second, "SIZE="+paneSize(t, p))
	if out, err := exec.Command("tmux", "resize-window", "-t", p.name, "-x", "100", "-y", "25").CombinedOutput(); err != nil {
		t.Fatalf("tmux resize-window: %v %s", err, out)
	}
	want := paneSize(t, p)
	if want == "30 120" || want == "29 120" {
		t.Fatalf("the pane did not resize: %s", want)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.screen(false), "NEW="+want) && time.Now().Before(deadline) {
		p.line("busybox clear; stty size | sed 's/^/NEW=/'") // SIGWINCH reaches budgie asynchronously
		time.Sleep(300 * time.Millisecond)
	}
	p.waitFor(time.Second, "NEW="+want)

	p.line("busybox clear; sleep 30")
	time.Sleep(500 * time.Millisecond)
	p.keys("C-c")
	p.line("echo $((40+2))y")
	start := time.Now()
	p.waitFor(10*time.Second, "42y")
	if time.Since(start) > 9*time.Second || strings.Contains(p.screen(false), "EXIT=") {
		t.Fatalf("Ctrl-C did not interrupt sleep in the container:\n%s", p.screen(false))
	}

	p.line("exit 3")
	p.waitFor(30*time.Second, "EXIT=3", "MODE=icanon")
	if r := budgie(t, "inspect", name); r.code != 3 {
		t.Errorf("--rm left the container: inspect exit %d", r.code)
	}
}

// TestRunTTYLogs: what an -it session showed (the typed command's echo
// and its output) is in budgie logs of the container afterwards, inspect
// says Tty and OpenStdin, and exit 0 is budgie's.
func TestRunTTYLogs(t *testing.T) {
	name := "ttylog" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	p := ttyPane(t, "-it --name "+name+" "+cliImage+" sh")
	p.waitFor(30*time.Second, "/ #")
	p.line("echo logged-$((2+3))")
	p.waitFor(10*time.Second, "logged-5")
	p.line("exit")
	p.waitFor(30*time.Second, "EXIT=0", "MODE=icanon")

	logs := must(t, "logs", name)
	for _, want := range []string{"echo logged-$((2+3))", "logged-5\r\n"} {
		if !strings.Contains(logs, want) {
			t.Errorf("budgie logs lacks %q:\n%q", want, logs)
		}
	}
	var in []struct {
		State  struct{ Status string }
		Config struct{ Tty, OpenStdin bool }
	}
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	if !in[0].Config.Tty || !in[0].Config.OpenStdin || in[0].State.Status != "exited" {
		t.Errorf("inspect: %+v, want Tty, OpenStdin and exited", in[0])
	}
}

// TestRunStdinPipe: -i without a terminal pipes budgie's stdin to the
// container and closes it at its end (cat exits), stdout and stderr stay
// apart, the exit code is budgie's, both streams are in its log, and
// --rm removes it. A bundle's stdin_open is fed the same way by --attach.
func TestRunStdinPipe(t *testing.T) {
	name := "pipe" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	r, _ := cpBudgie(t, strings.NewReader("hello\n"), "run", "-i", "--rm", "--name", name, cliImage, "cat")
	if r.code != 0 || r.stdout != "hello\n" || r.stderr != "" {
		t.Errorf("echo hello | run -i --rm cat: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := budgie(t, "inspect", name); r.code != 3 {
		t.Errorf("--rm left the container: inspect exit %d", r.code)
	}

	r, _ = cpBudgie(t, strings.NewReader("one\ntwo\n"), "run", "-i", "--name", name, cliImage,
		"sh", "-c", "while read l; do echo got-$l; done; echo err >&2; exit 5")
	if r.code != 5 || r.stdout != "got-one\ngot-two\n" || r.stderr != "err\n" {
		t.Errorf("run -i sh: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if l := budgie(t, "logs", name); l.stdout != "got-one\ngot-two\n" || l.stderr != "err\n" {
		t.Errorf("logs after run -i: stdout %q stderr %q", l.stdout, l.stderr)
	}

	path, _ := writeBundle(t, "args: [cat]\nstdin_open: true\n")
	r, _ = cpBudgie(t, strings.NewReader("from-bundle\n"), "run", "--attach", "--rm", path)
	if r.code != 0 || r.stdout != "from-bundle\n" {
		t.Errorf("run --attach of a stdin_open bundle: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestRunTTYDetached: -dt keeps a shell waiting on its terminal (its
// stdin is a pts; its prompt reaches the log through the log driver, which
// the shim feeds from the console). The refusals of -d -i and of -it
// without a terminal are in TestCLIRunAdhocErrors.
func TestRunTTYDetached(t *testing.T) {
	name := "dt" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	must(t, "run", "-dt", "--name", name, cliImage, "sh")
	eventually(t, "the shell's prompt in its log", func() error {
		if l := budgie(t, "logs", name); !strings.Contains(l.stdout, "# ") {
			return fmt.Errorf("logs: %q", l.stdout)
		}
		return nil
	})
	if out := must(t, "exec", name, "ls", "-l", "/proc/1/fd/0"); !strings.Contains(out, "-> /dev/pts/") {
		t.Errorf("the main process's stdin is %q, want a /dev/pts terminal", out)
	}
	if out := must(t, "ps", "--filter", "name="+name, "--format", "{{.State}}"); strings.TrimSpace(out) != "running" {
		t.Errorf("ps: %q, want the shell still running", out)
	}
}
