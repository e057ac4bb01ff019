//go:build integration

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/testkit"
)

// demoImage is the image the vhs tapes' bundles run.
const demoImage = "localhost/budgie-demo:latest"

var loadDemo sync.Once

// nestEnv is the environment that points the binary at the test containerd.
func nestEnv() []string {
	return []string{
		"BUDGIE_CONTAINERD_ADDRESS=" + ctrEnv.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + ctrEnv.DataDir,
		"BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET=" + testkit.TestSubnet,
		"TERM=xterm-256color",
		"PATH=" + filepath.Dir(binary) + ":" + os.Getenv("PATH"),
	}
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

// A tape's "# expect: TEXT" lines say what its steps must put on nest's
// screen. The rule TestTapes checks, so that a passing tape shows a working
// feature:
//
//   - An expectation belongs to the steps since the previous expectation
//     (its segment; expectations with no step between them share one).
//   - It passes when TEXT is on a screen captured during those steps (after
//     each key or typed character, every 200ms during a Sleep) or, polling
//     for up to expectWait, at the point where it is written.
//   - TEXT must not be on the screen captured before the segment's first
//     step: text that was already there (the tab bar, a header) proves
//     nothing about the steps.
//   - TEXT must not be a substring of what the tape typed in the segment:
//     an echo of the tape's own keys proves nothing about nest.
//
// A tape line that is none of a comment, a step the replay knows or a
// setting it ignores (Output, Set, Require, Hide, Show) fails the test.

// expectWait is how long an expectation is polled for at its point in the tape.
const expectWait = 10 * time.Second

// tapeStep is one line of a vhs tape that the replay acts on.
type tapeStep struct {
	kind string // type, key, sleep or expect
	arg  string // the text, tmux key name, duration or expected text
	n    int    // how many times a key is pressed
	line int    // the line in the tape, for messages
}

var (
	typeRe   = regexp.MustCompile(`^Type(?:@\S+)?\s+"((?:[^"\\]|\\.)*)"$`)
	sleepRe  = regexp.MustCompile(`^Sleep\s+([\d.]+)(ms|s)?$`)
	keyRe    = regexp.MustCompile(`^(Enter|Escape|Tab|Space|Backspace|Up|Down|Left|Right|PageUp|PageDown)(?:@\S+)?(?:\s+(\d+))?$`)
	ctrlRe   = regexp.MustCompile(`^Ctrl\+(\w)$`)
	ignoreRe = regexp.MustCompile(`^(Output|Set|Require)\s|^(Hide|Show)$`)
)

// tmuxKeys maps vhs key names to tmux's.
var tmuxKeys = map[string]string{"Enter": "Enter", "Escape": "Escape", "Tab": "Tab", "Space": "Space", "Backspace": "BSpace",
	"Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right", "PageUp": "PPage", "PageDown": "NPage"}

// parseTape reads a tape's steps and expectations, failing the test on a
// line it does not know and on an expectation that only echoes typed text.
func parseTape(t *testing.T, path string) []tapeStep {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var steps []tapeStep
	for i, raw := range strings.Split(string(data), "\n") {
		step, err := parseTapeLine(strings.TrimSpace(raw))
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		if step.kind != "" {
			step.line = i + 1
			steps = append(steps, step)
		}
	}
	typed, expects := "", 0
	for i, s := range steps {
		if s.kind != "expect" && i > 0 && steps[i-1].kind == "expect" {
			typed = "" // a new segment
		}
		switch s.kind {
		case "type":
			typed += s.arg
		case "expect":
			expects++
			if s.arg == "" || strings.Contains(typed, s.arg) {
				t.Fatalf("%s:%d: expectation %q is empty or text the tape typed (%q) since the previous expectation", path, s.line, s.arg, typed)
			}
		}
	}
	if expects == 0 {
		t.Fatalf("%s has no '# expect:' line", path)
	}
	return steps
}

// parseTapeLine turns one trimmed tape line into a step; the zero step
// means a line the replay skips (blank, comment, setting).
func parseTapeLine(line string) (tapeStep, error) {
	if e, ok := strings.CutPrefix(line, "# expect:"); ok {
		return tapeStep{kind: "expect", arg: strings.TrimSpace(e)}, nil
	}
	if line == "" || strings.HasPrefix(line, "#") || ignoreRe.MatchString(line) {
		return tapeStep{}, nil
	}
	if m := typeRe.FindStringSubmatch(line); m != nil {
		text, err := strconv.Unquote(`"` + m[1] + `"`)
		if err != nil {
			return tapeStep{}, fmt.Errorf("%q: %w", line, err)
		}
		return tapeStep{kind: "type", arg: text}, nil
	}
	if m := sleepRe.FindStringSubmatch(line); m != nil {
		return tapeStep{kind: "sleep", arg: m[1] + cmpDefault(m[2], "s")}, nil
	}
	if m := keyRe.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(cmpDefault(m[2], "1"))
		return tapeStep{kind: "key", arg: tmuxKeys[m[1]], n: n}, nil
	}
	if m := ctrlRe.FindStringSubmatch(line); m != nil {
		return tapeStep{kind: "key", arg: "C-" + strings.ToLower(m[1]), n: 1}, nil
	}
	return tapeStep{}, fmt.Errorf("%q is not a tape command the replay knows: teach parseTapeLine, or drop it", line)
}

func cmpDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestTapes replays every vhs tape in tmux against the real TUI and checks
// its expectations by the rule above; it also checks that vhs accepts each
// tape (vhs validate needs neither ttyd nor ffmpeg).
func TestTapes(t *testing.T) {
	loadDemo.Do(func() {
		if err := ctrEnv.LoadBusybox(testkit.ImageOptions{Ref: demoImage, Cmd: []string{"sh"}}); err != nil {
			t.Fatalf("load %s: %v", demoImage, err)
		}
	})
	tapes, _ := filepath.Glob("vhs/*.tape")
	if len(tapes) == 0 {
		t.Fatal("no tapes in vhs/")
	}
	vhs, vhsErr := findTool("vhs")
	for _, tape := range tapes {
		t.Run(filepath.Base(tape), func(t *testing.T) {
			if vhsErr != nil {
				t.Fatalf("vhs is needed to validate tapes: %v", vhsErr)
			}
			if out, err := exec.Command(vhs, "validate", tape).CombinedOutput(); err != nil {
				t.Fatalf("vhs validate %s: %v\n%s", tape, err, out)
			}
			replay(t, tape)
		})
	}
}

// replay runs a tape's steps in a shell in tmux, in a copy of vhs/, and
// checks each expectation on the screens of its segment.
func replay(t *testing.T, tape string) {
	steps := parseTape(t, tape)
	dir := t.TempDir()
	bundles, _ := filepath.Glob("vhs/*.bun")
	for _, b := range bundles {
		data, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(b)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"web", "worker", "cache"} {
			budgie(t, "rm", "-f", n)
		}
	})
	p := startPane(t, dir, "bash --norc --noprofile")
	before := p.screen(false) // the screen before the current segment
	var seen []string         // the screens captured during it
	for i, s := range steps {
		if s.kind != "expect" {
			if i > 0 && steps[i-1].kind == "expect" {
				before, seen = p.screen(false), nil
			}
			seen = append(seen, p.play(s)...)
			continue
		}
		if strings.Contains(before, s.arg) {
			t.Fatalf("%s:%d: %q was on the screen before the steps that should show it, so it proves nothing; screen:\n%s", tape, s.line, s.arg, before)
		}
		if !p.showed(seen, s.arg) {
			t.Fatalf("%s:%d: the steps since the previous expectation never showed %q; last screen:\n%s", tape, s.line, s.arg, p.screen(false))
		}
	}
	if shot := os.Getenv("NEST_SCREENSHOTS"); shot != "" {
		screenshot(t, p, filepath.Join(shot, strings.TrimSuffix(filepath.Base(tape), ".tape")))
	}
}

// play carries out one type, key or sleep step and returns the screens
// captured on the way: after each character or key, every 200ms of a sleep.
func (p *pane) play(s tapeStep) []string {
	var seen []string
	switch s.kind {
	case "type": // one key at a time, as vhs types (a burst would arrive as one key message)
		for _, r := range s.arg {
			p.typeText(string(r))
			time.Sleep(30 * time.Millisecond)
			seen = append(seen, p.screen(false))
		}
	case "key":
		for range s.n {
			p.keys(s.arg)
			seen = append(seen, p.screen(false))
		}
	case "sleep":
		d, _ := time.ParseDuration(s.arg)
		for end := time.Now().Add(max(d, 200*time.Millisecond)); time.Now().Before(end); {
			time.Sleep(min(200*time.Millisecond, time.Until(end)))
			seen = append(seen, p.screen(false))
		}
	}
	return seen
}

// showed reports whether text is on one of the screens seen or, polling
// for up to expectWait, on the current one.
func (p *pane) showed(seen []string, text string) bool {
	for _, s := range seen {
		if strings.Contains(s, text) {
			return true
		}
	}
	for end := time.Now().Add(expectWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if strings.Contains(p.screen(false), text) {
			return true
		}
	}
	return false
}

// screenshot renders the pane's last screen (with colours) to PNG with
// freeze, when NEST_SCREENSHOTS names an output directory.
func screenshot(t *testing.T, p *pane, base string) {
	freeze, err := findTool("freeze")
	if err != nil {
		t.Fatalf("freeze is needed for screenshots: %v", err)
	}
	ansi := base + ".ansi"
	if err := os.WriteFile(ansi, []byte(p.screen(true)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(freeze, "--language", "ansi", "-o", base+".png", ansi).CombinedOutput(); err != nil {
		t.Fatalf("freeze: %v\n%s", err, out)
	}
	_ = os.Remove(ansi)
}

// findTool looks for a program in build/tools, where `make tools` installs
// the pinned versions, then on PATH.
func findTool(name string) (string, error) {
	path, err := filepath.Abs(filepath.Join("build", "tools", name))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%s is not in build/tools nor on PATH (install it: make tools)", name)
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
