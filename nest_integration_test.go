//go:build integration

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nestEnv is the environment that points the binary at the test containerd.
func nestEnv() []string {
	return append(testEnv(), "TERM=xterm-256color", "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
}

// pane is a tmux session running a command in a 120×30 terminal.
type pane struct {
	t    *testing.T
	name string
}

// startPane opens a tmux session in dir running command under nestEnv;
// the session is killed when the test ends.
func startPane(t *testing.T, dir, command string) *pane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed for nest's end-to-end tests: %v", err)
	}
	name := fmt.Sprintf("nest%d", time.Now().UnixNano())
	// tmux's server environment wins over new-session -e for PATH, so the
	// variables go on the command line (none holds a space).
	args := []string{"new-session", "-d", "-s", name, "-x", "120", "-y", "30", "-c", dir,
		"env " + strings.Join(nestEnv(), " ") + " " + command}
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	return &pane{t: t, name: name}
}

// keys sends tmux key names ("Enter", "Escape", "x") or literal text with -l.
func (p *pane) keys(keys ...string) {
	p.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"send-keys", "-t", p.name}, keys...)...).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys %q: %v\n%s", keys, err, out)
	}
}

// typeText types text literally.
func (p *pane) typeText(text string) {
	p.t.Helper()
	if out, err := exec.Command("tmux", "send-keys", "-t", p.name, "-l", text).CombinedOutput(); err != nil {
		p.t.Fatalf("tmux send-keys -l %q: %v\n%s", text, err, out)
	}
}

// screen returns the visible text; withEscapes keeps colours (for freeze).
func (p *pane) screen(withEscapes bool) string {
	p.t.Helper()
	args := []string{"capture-pane", "-p", "-t", p.name}
	if withEscapes {
		args = append(args, "-e")
	}
	out, err := exec.Command("tmux", args...).Output()
	if err != nil {
		p.t.Fatalf("tmux capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the screen until every text is on it.
func (p *pane) waitFor(timeout time.Duration, texts ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = p.screen(false)
		ok := true
		for _, text := range texts {
			ok = ok && strings.Contains(s, text)
		}
		if ok {
			return s
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("screen never showed %q; last screen:\n%s", texts, s)
	return ""
}

func TestNestWithoutTerminal(t *testing.T) {
	for _, args := range [][]string{nil, {"nest"}} {
		cmd := exec.Command(binary, args...)
		cmd.Env = append(os.Environ(), nestEnv()...)
		out, err := cmd.CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "needs a terminal") {
			t.Errorf("budgie %v without a terminal: %v\n%s", args, err, out)
		}
	}
	r := budgie(t) // bare --headless
	if r.code != 2 || !strings.Contains(r.stdout+r.stderr, "Usage: budgie <command>") {
		t.Errorf("budgie --headless: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestNestContainerFlow(t *testing.T) {
	path, name := writeBundle(t, "args: [sh, -c, \"trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo hello line $i; sleep 0.2; done\"]\n")
	must(t, "run", path)
	p := startPane(t, t.TempDir(), binary)
	p.waitFor(20*time.Second, "containerd ", "1/1 running")
	p.waitRow(20*time.Second, name, "running")

	// Filter to our container, then stop it through the confirm dialog.
	p.keys("/")
	p.typeText(name)
	p.keys("Enter")
	p.waitFor(5*time.Second, "filter: "+name)
	p.keys("x")
	p.waitFor(5*time.Second, "[ Cancel ]")
	p.keys("Enter") // the default is Cancel
	time.Sleep(time.Second)
	// The header always says "N running / M": look at the container's row.
	if s := p.screen(false); !strings.Contains(rowOf(s, name), "running") || strings.Contains(s, "[ Cancel ]") {
		t.Fatalf("Enter on the dialog did not cancel:\n%s", s)
	}
	p.keys("x")
	p.waitFor(5*time.Second, "[ Cancel ]")
	p.keys("Right", "Enter")
	p.waitFor(30*time.Second, "stopped: 1 container")
	p.waitRow(30*time.Second, name, "exited")

	// Start it again (one container: no dialog), open its logs and search.
	p.keys("u")
	p.waitRow(20*time.Second, name, "running")
	p.keys("l")
	p.waitFor(10*time.Second, "Logs "+name, "hello line")
	p.keys("/")
	p.typeText("hello line 3")
	p.keys("Enter")
	p.waitFor(5*time.Second, "match 1/", "▸hello line 3", "paused")
	p.keys("G")
	p.waitFor(5*time.Second, "following")
	p.keys("Escape")
	p.waitFor(5*time.Second, "Containers", "sort: NAME")

	// A shell in the container, and back.
	p.keys("s")
	p.waitFor(20*time.Second, "#")
	p.typeText("echo inside-$((6*7))")
	p.keys("Enter")
	p.waitFor(10*time.Second, "inside-42")
	p.typeText("exit")
	p.keys("Enter")
	p.waitFor(10*time.Second, "back from the shell in "+name)

	// The palette runs a headless command.
	p.keys(":")
	p.typeText("ps -a")
	p.keys("Enter")
	p.waitFor(20*time.Second, "CONTAINER ID", "budgie-cli-test:1")
	p.keys("Escape")
	p.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("tmux", "has-session", "-t", p.name).Run() != nil {
			return // q quit nest, which ended the session
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("q did not quit nest:\n%s", p.screen(false))
}

func TestNestRunBundleFromPicker(t *testing.T) {
	dir := t.TempDir()
	name := fmt.Sprintf("picked%d", time.Now().UnixNano())
	bun := "name: " + name + "\nimage: " + cliImage + "\nargs: [sleep, \"300\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "picked.bun"), []byte(bun), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	p := startPane(t, dir, binary)
	p.waitFor(20*time.Second, "Containers")
	p.keys("r")
	p.waitFor(5*time.Second, "Run a bundle", "picked.bun")
	p.keys("Enter")
	p.waitFor(30*time.Second, "ran picked.bun: "+name)
	p.waitRow(10*time.Second, name, "running")
}

// TestNestShowsHealthAndRestarts: nest's table follows the keeper live —
// a health check turning healthy, and restarts of a crashing container —
// with no key pressed.
func TestNestShowsHealthAndRestarts(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	p := startPane(t, t.TempDir(), binary)
	p.waitFor(20*time.Second, "Containers")
	suffix := fmt.Sprint(time.Now().UnixNano() % 1000000)
	okPath, okName := writeBundleNamed(t, "hc"+suffix,
		"args: [sh, -c, \"sleep 2; touch /tmp/ok; exec sleep 3600\"]\nhealth: {cmd: \"test -f /tmp/ok\", interval: 300ms, start_period: 30s}\n")
	crashPath, crashName := writeBundleNamed(t, "crash"+suffix, "args: [sh, -c, \"sleep 0.3; exit 1\"]\nrestart_policy: on-failure:3\n")
	must(t, "run", okPath)
	must(t, "run", crashPath)
	p.waitFor(30*time.Second, okName, "healthy")
	// on-failure:3: three restarts, then it stays exited; the row must say so.
	deadline := time.Now().Add(40 * time.Second)
	var row string
	for time.Now().Before(deadline) {
		row = rowOf(p.screen(false), crashName)
		if f := strings.Fields(row); strings.Contains(row, "exited") && containsField(f, "3") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("crash row %q: want exited with 3 restarts", row)
}

// rowOf returns the containers table's row of name: the line that starts,
// after the cursor and selection marks, with name (the title line's
// "filter: name" and toasts naming it are not rows).
func rowOf(screen, name string) string {
	for _, line := range strings.Split(screen, "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " ▸●"), name+" ") {
			return line
		}
	}
	return ""
}

func containsField(fields []string, want string) bool {
	for _, f := range fields {
		if f == want {
			return true
		}
	}
	return false
}

// writeBundleNamed writes a bundle for a container called name.
func writeBundleNamed(t *testing.T, name, body string) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".bun")
	if err := os.WriteFile(path, []byte("name: "+name+"\nimage: "+cliImage+"\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	return path, name
}

// TestNestRunBundleFromEditor: `n` opens the editor on a new bundle; typing
// a name, an image and a command, then ctrl+r (save and run) and Enter on
// the suggested file name writes the bundle and runs it.
func TestNestRunBundleFromEditor(t *testing.T) {
	dir := t.TempDir()
	name := fmt.Sprintf("edited%d", time.Now().UnixNano()%1000000)
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	p := startPane(t, dir, binary)
	p.waitFor(20*time.Second, "Containers")
	p.keys("n")
	p.waitFor(5*time.Second, "Bundle editor", "name: is required")
	// huh moves focus through a command, after keys already queued: wait
	// for the focus bar on the next field before typing into it.
	p.typeText(name)
	p.waitFor(5*time.Second, "> "+name)
	p.keys("Tab")
	p.waitFor(5*time.Second, "┃ Image")
	p.typeText(cliImage)
	p.waitFor(5*time.Second, "> "+cliImage)
	p.keys("Tab")
	p.waitFor(5*time.Second, "┃ Command")
	p.typeText(`sh -c "echo from the editor; sleep 300"`)
	p.waitFor(5*time.Second, "valid bundle")
	p.keys("C-r")
	p.waitFor(5*time.Second, "save as: "+name+".bun")
	p.keys("Enter")
	p.waitRow(30*time.Second, name, "running")
	b, err := os.ReadFile(filepath.Join(dir, name+".bun"))
	if err != nil || !strings.Contains(string(b), "name: "+name) || !strings.Contains(string(b), "image: "+cliImage) {
		t.Fatalf("saved bundle: %v\n%s", err, b)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if r := budgie(t, "logs", name); r.stdout == "from the editor\n" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("logs of the edited container: %q (exit %d, stderr %q)", r.stdout, r.code, r.stderr)
		}
	}
}

// waitRow waits until one screen line shows name and every text.
func (p *pane) waitRow(timeout time.Duration, name string, texts ...string) string {
	p.t.Helper()
	var line string
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		line = rowOf(p.screen(false), name)
		ok := line != ""
		for _, text := range texts {
			ok = ok && strings.Contains(line, text)
		}
		if ok {
			return line
		}
	}
	p.t.Fatalf("no row of %s showing %q; last: %q\n%s", name, texts, line, p.screen(false))
	return ""
}
