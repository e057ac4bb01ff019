//go:build integration

package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// demoImage is the image the vhs tapes' bundles run.
const demoImage = testkit.DemoImage

var loadDemo sync.Once

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
// "# expect-re: REGEXP" is the same with a regular expression (Go syntax),
// for text that varies, such as a rate: it must match a screen, and match
// neither the screen before nor the typed text. "# never: TEXT" fails the
// replay if TEXT shows on any screen captured from that line to the end
// (a secret's value). "# screenshot" picks the screen rendered for
// NEST_SCREENSHOTS (the last one when the tape has none). "# lab: N
// BUNDLE…" replays the tape on a lab (see tapes_lab_integration_test.go).
//
// A tape line that is none of a comment, a step the replay knows or a
// setting it ignores (Output, Set, Require, Hide, Show) fails the test.
// The Set lines that size vhs's terminal give the replay's size (tapeSize).

// expectWait is how long an expectation is polled for at its point in the tape.
const expectWait = 10 * time.Second

// tape is a parsed vhs tape.
type tape struct {
	path       string
	steps      []tapeStep
	cols, rows int      // the terminal its settings declare (tapeSize)
	lab        *labSpec // nil: replayed against the test's containerd
}

// tapeStep is one line of a vhs tape that the replay acts on.
type tapeStep struct {
	kind string         // type, key, sleep, expect, never or screenshot
	arg  string         // the text, tmux key name, duration or expected text
	re   *regexp.Regexp // an expect-re's expression
	n    int            // how many times a key is pressed
	line int            // the line in the tape, for messages
}

// on reports whether an expect or never step's text is on screen.
func (s tapeStep) on(screen string) bool {
	if s.re != nil {
		return s.re.MatchString(screen)
	}
	return strings.Contains(screen, s.arg)
}

// marker reports whether the step only annotates the replay (it plays
// nothing and does not end a segment).
func (s tapeStep) marker() bool { return s.kind == "never" || s.kind == "screenshot" }

var (
	typeRe   = regexp.MustCompile(`^Type(?:@\S+)?\s+"((?:[^"\\]|\\.)*)"$`)
	sleepRe  = regexp.MustCompile(`^Sleep\s+([\d.]+)(ms|s)?$`)
	keyRe    = regexp.MustCompile(`^(Enter|Escape|Tab|Space|Backspace|Up|Down|Left|Right|PageUp|PageDown)(?:@\S+)?(?:\s+(\d+))?$`)
	ctrlRe   = regexp.MustCompile(`^Ctrl\+(\w)$`)
	setRe    = regexp.MustCompile(`^Set\s+(\w+)\s+(.*)$`)
	ignoreRe = regexp.MustCompile(`^(Output|Require)\s|^(Hide|Show)$`)
)

// tmuxKeys maps vhs key names to tmux's.
var tmuxKeys = map[string]string{"Enter": "Enter", "Escape": "Escape", "Tab": "Tab", "Space": "Space", "Backspace": "BSpace",
	"Up": "Up", "Down": "Down", "Left": "Left", "Right": "Right", "PageUp": "PPage", "PageDown": "NPage"}

// parseTape reads a tape's steps, expectations, size and lab, failing the
// test on a line it does not know, on an expectation that only echoes
// typed text and on a terminal too small for nest.
func parseTape(t *testing.T, path string) *tape {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tp, settings := &tape{path: path}, map[string]string{}
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		if m := setRe.FindStringSubmatch(line); m != nil {
			settings[m[1]] = strings.Trim(m[2], `"'`)
			continue
		}
		if strings.HasPrefix(line, "# lab:") {
			if tp.lab, err = parseLab(line); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			continue
		}
		step, err := parseTapeLine(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		if step.kind != "" {
			step.line = i + 1
			tp.steps = append(tp.steps, step)
		}
	}
	checkTyped(t, path, tp.steps)
	if tp.cols, tp.rows, err = tapeSize(settings); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tp
}

// checkTyped fails on a tape without expectations and on an expectation
// that the tape's own typing in its segment would satisfy.
func checkTyped(t *testing.T, path string, steps []tapeStep) {
	t.Helper()
	typed, expects, afterExpect := "", 0, false
	for _, s := range steps {
		switch {
		case s.kind == "expect":
			expects++
			afterExpect = true
			if s.arg == "" || s.on(typed) {
				t.Fatalf("%s:%d: expectation %q is empty or text the tape typed (%q) since the previous expectation", path, s.line, s.arg, typed)
			}
		case s.marker():
		default:
			if afterExpect {
				typed, afterExpect = "", false // a new segment
			}
			if s.kind == "type" {
				typed += s.arg
			}
		}
	}
	if expects == 0 {
		t.Fatalf("%s has no '# expect:' line", path)
	}
}

// parseTapeLine turns one trimmed tape line (not a Set or lab line) into a
// step; the zero step means a line the replay skips (blank, comment,
// setting).
func parseTapeLine(line string) (tapeStep, error) {
	if e, ok := strings.CutPrefix(line, "# expect:"); ok {
		return tapeStep{kind: "expect", arg: strings.TrimSpace(e)}, nil
	}
	if e, ok := strings.CutPrefix(line, "# expect-re:"); ok {
		re, err := regexp.Compile(strings.TrimSpace(e))
		if err != nil {
			return tapeStep{}, fmt.Errorf("%q: %w", line, err)
		}
		return tapeStep{kind: "expect", arg: re.String(), re: re}, nil
	}
	if e, ok := strings.CutPrefix(line, "# never:"); ok {
		if e = strings.TrimSpace(e); e == "" {
			return tapeStep{}, fmt.Errorf("%q: never what?", line)
		}
		return tapeStep{kind: "never", arg: e}, nil
	}
	if line == "# screenshot" {
		return tapeStep{kind: "screenshot"}, nil
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

// vhsDefaults are vhs v0.10.0's defaults for the settings that size its
// terminal (vhs.go and style.go).
var vhsDefaults = map[string]float64{"Width": 1200, "Height": 600, "Padding": 60, "Margin": 0,
	"FontSize": 22, "LetterSpacing": 1, "LineHeight": 1, "WindowBarSize": 30}

// minCols and minRows are the smallest terminal a tape may declare: the
// one nest is designed for.
const minCols, minRows = 80, 24

// tapeSize is the terminal, in cells, that a tape's settings declare. vhs
// sizes its browser page to Width × Height pixels less twice Padding and
// twice Margin (and WindowBarSize when WindowBar is set), and xterm.js
// fits as many cells as it can; the replay approximates a cell as
//
//	width  = 0.6 × FontSize + LetterSpacing  (a monospace advance is 0.6 em)
//	height = 1.2 × FontSize × LineHeight
//
// so cols = ⌊(Width − 2·Padding − 2·Margin) / width⌋ and rows =
// ⌊(Height − 2·Padding − 2·Margin − bar) / height⌋, vhs's defaults
// standing in for settings the tape leaves out. A tape replays at that
// size; one smaller than 80×24 is refused.
func tapeSize(settings map[string]string) (cols, rows int, err error) {
	v := map[string]float64{}
	for name, def := range vhsDefaults {
		v[name] = def
		if s, ok := settings[name]; ok {
			if v[name], err = strconv.ParseFloat(s, 64); err != nil {
				return 0, 0, fmt.Errorf("Set %s %s: not a number", name, s)
			}
		}
	}
	bar := 0.0
	if settings["WindowBar"] != "" {
		bar = v["WindowBarSize"]
	}
	cellW, cellH := 0.6*v["FontSize"]+v["LetterSpacing"], 1.2*v["FontSize"]*v["LineHeight"]
	if cellW <= 0 || cellH <= 0 {
		return 0, 0, fmt.Errorf("FontSize %v, LetterSpacing %v and LineHeight %v make no cell", v["FontSize"], v["LetterSpacing"], v["LineHeight"])
	}
	// The epsilon keeps an exact fit (1128 / 9.4 = 120) from flooring to 119.
	cols = int(math.Floor((v["Width"]-2*v["Padding"]-2*v["Margin"])/cellW + 1e-9))
	rows = int(math.Floor((v["Height"]-2*v["Padding"]-2*v["Margin"]-bar)/cellH + 1e-9))
	if cols < minCols || rows < minRows {
		return cols, rows, fmt.Errorf("Width %v, Height %v, FontSize %v and Padding %v make a %d×%d terminal (cells of %.1f×%.1f px, see tapeSize); nest needs at least %d×%d: raise Width or Height, or lower FontSize",
			v["Width"], v["Height"], v["FontSize"], v["Padding"], cols, rows, cellW, cellH, minCols, minRows)
	}
	return cols, rows, nil
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
	for _, path := range tapes {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if vhsErr != nil {
				t.Fatalf("vhs is needed to validate tapes: %v", vhsErr)
			}
			if out, err := exec.Command(vhs, "validate", path).CombinedOutput(); err != nil {
				t.Fatalf("vhs validate %s: %v\n%s", path, err, out)
			}
			start := time.Now()
			tp := parseTape(t, path)
			replay(t, tp)
			t.Logf("%s replayed at %d×%d in %v", path, tp.cols, tp.rows, time.Since(start).Round(time.Second))
		})
	}
}

// TestTapeSize checks tapeSize's formula on the tapes' own settings, vhs's
// defaults and the smallest terminal nest accepts.
func TestTapeSize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		settings   map[string]string
		cols, rows int
		err        bool
	}{
		{"the tapes' 1250×630 at 14", map[string]string{"Width": "1250", "Height": "630", "FontSize": "14"}, 120, 30, false},
		{"an exact fit", map[string]string{"Width": "1248", "Height": "624", "FontSize": "14"}, 120, 30, false},
		{"vhs's defaults", map[string]string{}, 76, 18, true},
		{"80×24 at 14", map[string]string{"Width": "872", "Height": "524", "FontSize": "14"}, 80, 24, false},
		{"one row short", map[string]string{"Width": "872", "Height": "520", "FontSize": "14"}, 80, 23, true},
		{"padding and a window bar", map[string]string{"Width": "1250", "Height": "700", "FontSize": "14", "Padding": "20", "WindowBar": "Colorful"}, 128, 37, false},
		{"not a number", map[string]string{"Width": "wide"}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols, rows, err := tapeSize(tc.settings)
			if (err != nil) != tc.err || (tc.cols != 0 && (cols != tc.cols || rows != tc.rows)) {
				t.Errorf("tapeSize(%v) = %d×%d, %v; want %d×%d, error %v", tc.settings, cols, rows, err, tc.cols, tc.rows, tc.err)
			}
		})
	}
}

// replayer plays one tape in a pane and checks what it shows.
type replayer struct {
	t     *testing.T
	tape  *tape
	p     *pane
	never []tapeStep // texts no screen may show any more
	shot  string     // the screen (with colours) picked for the screenshot
}

// replay runs a tape's steps in a shell in tmux, in a copy of vhs/'s
// bundles, against the test's containerd or the tape's lab, and checks
// each expectation on the screens of its segment.
func replay(t *testing.T, tp *tape) {
	dir := copyBundles(t)
	var shell string
	if tp.lab != nil {
		shell = startTapeLab(t, tp.lab, dir)
	} else {
		removeWhatTapesMake(t)
		shell = "env " + strings.Join(nestEnv(), " ") + " bash --norc --noprofile"
	}
	r := &replayer{t: t, tape: tp, p: startTapePane(t, dir, tp.cols, tp.rows, shell)}
	r.run()
	if shots := os.Getenv("NEST_SCREENSHOTS"); shots != "" {
		if r.shot == "" {
			r.shot = r.p.screen(true)
		}
		screenshot(t, r.shot, filepath.Join(shots, strings.TrimSuffix(filepath.Base(tp.path), ".tape")))
	}
}

// run plays the steps and checks each expectation.
func (r *replayer) run() {
	before := r.capture() // the screen before the current segment
	var seen []string     // the screens captured during it
	afterExpect := false
	for _, s := range r.tape.steps {
		switch s.kind {
		case "never":
			r.never = append(r.never, s)
			r.capture()
		case "screenshot":
			r.shot = r.p.screen(true)
		case "expect":
			afterExpect = true
			if s.on(before) {
				r.t.Fatalf("%s:%d: %q was on the screen before the steps that should show it, so it proves nothing; screen:\n%s", r.tape.path, s.line, s.arg, before)
			}
			if !r.showed(seen, s) {
				r.t.Fatalf("%s:%d: the steps since the previous expectation never showed %q; last screen:\n%s", r.tape.path, s.line, s.arg, r.p.screen(false))
			}
		default:
			if afterExpect {
				before, seen, afterExpect = r.capture(), nil, false
			}
			seen = append(seen, r.play(s)...)
		}
	}
}

// capture returns the screen, failing the replay if it shows a text a
// "# never:" line forbade.
func (r *replayer) capture() string {
	s := r.p.screen(false)
	for _, n := range r.never {
		if n.on(s) {
			r.t.Fatalf("%s:%d: %q must never show, but the screen shows it:\n%s", r.tape.path, n.line, n.arg, s)
		}
	}
	return s
}

// play carries out one type, key or sleep step and returns the screens
// captured on the way: after each character or key (30ms apart, as vhs
// types them), every 200ms of a sleep.
func (r *replayer) play(s tapeStep) []string {
	var seen []string
	switch s.kind {
	case "type": // one key at a time, as vhs types (a burst would arrive as one key message)
		for _, c := range s.arg {
			r.p.typeText(string(c))
			time.Sleep(30 * time.Millisecond)
			seen = append(seen, r.capture())
		}
	case "key":
		for range s.n {
			r.p.keys(s.arg)
			time.Sleep(30 * time.Millisecond)
			seen = append(seen, r.capture())
		}
	case "sleep":
		d, _ := time.ParseDuration(s.arg)
		for end := time.Now().Add(max(d, 200*time.Millisecond)); time.Now().Before(end); {
			time.Sleep(min(200*time.Millisecond, time.Until(end)))
			seen = append(seen, r.capture())
		}
	}
	return seen
}

// showed reports whether the expectation is on one of the screens seen
// or, polling for up to expectWait, on the current one.
func (r *replayer) showed(seen []string, s tapeStep) bool {
	if slices.ContainsFunc(seen, s.on) {
		return true
	}
	for end := time.Now().Add(expectWait); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if s.on(r.capture()) {
			return true
		}
	}
	return false
}

// startTapePane opens a cols×rows tmux session in dir running command;
// the session is killed when the test ends.
func startTapePane(t *testing.T, dir string, cols, rows int, command string) *pane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("tmux is needed to replay tapes: %v", err)
	}
	name := fmt.Sprintf("tape%d", time.Now().UnixNano())
	args := []string{"new-session", "-d", "-s", name, "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), "-c", dir, command}
	var out []byte
	var err error
	for range 3 { // a server whose last session just ended may exit under us
		if out, err = exec.Command("tmux", args...).CombinedOutput(); err == nil {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", name).Run() })
	size, err := exec.Command("tmux", "display-message", "-p", "-t", name, "#{pane_width}x#{pane_height}").Output()
	if got, want := strings.TrimSpace(string(size)), fmt.Sprintf("%dx%d", cols, rows); err != nil || got != want {
		t.Fatalf("the tape's pane is %q, not the %s its settings declare (%v)", got, want, err)
	}
	return &pane{t: t, name: name}
}

// screenshot renders a screen captured with colours to base.png with
// freeze.
func screenshot(t *testing.T, screen, base string) {
	freeze, err := findTool("freeze")
	if err != nil {
		t.Fatalf("freeze is needed for screenshots: %v", err)
	}
	ansi := base + ".ansi"
	if err := os.WriteFile(ansi, []byte(screen), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(freeze, "--language", "ansi", "-o", base+".png", ansi).CombinedOutput(); err != nil {
		t.Fatalf("freeze: %v\n%s", err, out)
	}
	_ = os.Remove(ansi)
	if err := os.Chmod(base+".png", 0o644); err != nil { // freeze writes 0600
		t.Fatal(err)
	}
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
