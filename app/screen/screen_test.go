package screen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flushed runs one flush of frame on s and returns what was written.
func flushed(t *testing.T, s *Screen, frame string) string {
	t.Helper()
	var out bytes.Buffer
	s.frame = frame
	if frame == s.drawn {
		return ""
	}
	lines := s.draw(&out, frame)
	s.drawn, s.lines = frame, lines
	return out.String()
}

func TestDrawOnlyChangedLines(t *testing.T) {
	tests := []struct {
		name          string
		width, height int
		before        string // drawn first; "" for none
		frame         string
		want          string
	}{
		{"first frame: every line, each erased to its end", 10, 5, "",
			"ab\ncd", "\x1b[1;1Hab\x1b[K\x1b[2;1Hcd\x1b[K"},
		{"one line changed: only that line", 10, 5, "ab\ncd\nef",
			"ab\nXY\nef", "\x1b[2;1HXY\x1b[K"},
		{"the same frame: nothing", 10, 5, "ab\ncd", "ab\ncd", ""},
		{"fewer lines: the rest of the screen is cleared", 10, 5, "ab\ncd\nef",
			"ab", "\x1b[2;1H\x1b[J"},
		{"a wide line is cut at the width and not erased after", 4, 5, "",
			"abcdefgh", "\x1b[1;1Habcd"},
		{"a line as wide as the screen is not erased after", 2, 5, "",
			"ab\nc", "\x1b[1;1Hab\x1b[2;1Hc\x1b[K"},
		{"more lines than the screen: the top ones are cut", 10, 2, "",
			"1\n2\n3", "\x1b[1;1H2\x1b[K\x1b[2;1H3\x1b[K"},
		{"styles count no width", 2, 5, "",
			"\x1b[1mab\x1b[0m", "\x1b[1;1H\x1b[1mab\x1b[0m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Screen{width: tt.width, height: tt.height}
			if tt.before != "" {
				flushed(t, s, tt.before)
			}
			if got := flushed(t, s, tt.frame); got != tt.want {
				t.Errorf("wrote %q; want %q", got, tt.want)
			}
		})
	}
}

// TestIdleFramesDoNotWake: a frame equal to the one drawn does not wake
// the writer, and frames handed in faster than it draws wake it once.
func TestIdleFramesDoNotWake(t *testing.T) {
	s := &Screen{width: 10, height: 5, kick: make(chan struct{}, 1)}
	s.Frame("a")
	s.Frame("b")
	s.Frame("c")
	if len(s.kick) != 1 || !s.pending {
		t.Fatalf("three new frames: %d kicks queued, pending %v; want 1, true", len(s.kick), s.pending)
	}
	<-s.kick
	out, err := os.Create(filepath.Join(t.TempDir(), "tty"))
	if err != nil {
		t.Fatal(err)
	}
	s.out = out
	s.flushLocked()
	s.Frame("c")
	if len(s.kick) != 0 || s.pending {
		t.Fatalf("the frame on screen handed in again woke the writer (%d kicks, pending %v)", len(s.kick), s.pending)
	}
	out.Seek(0, 0)
	b := new(bytes.Buffer)
	b.ReadFrom(out)
	if got := b.String(); got != "\x1b[1;1Hc\x1b[K" {
		t.Errorf("wrote %q; want only the last frame", got)
	}
}

// TestPausedDrawsNothing: while the terminal is lent to a child process,
// frames are kept, not drawn; taking it back draws the latest whole.
func TestPausedDrawsNothing(t *testing.T) {
	s := &Screen{width: 10, height: 5, kick: make(chan struct{}, 1), paused: true}
	s.Frame("a")
	if len(s.kick) != 0 {
		t.Fatal("a frame woke the writer while the terminal was lent")
	}
	s.paused = false
	s.forgetLocked(false)
	if len(s.kick) != 1 {
		t.Fatal("taking the terminal back did not wake the writer")
	}
	if got := flushed(t, s, s.frame); got != "\x1b[1;1Ha\x1b[K" {
		t.Errorf("after the terminal came back: %q", got)
	}
}

// TestCaptureReplaysOutput: what is written to os.Stdout and os.Stderr
// while the screen is up (Bubble Tea's report of a panic) is printed on
// the real stderr once it is down, bounded.
func TestCaptureReplaysOutput(t *testing.T) {
	errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	origOut, origErr := os.Stdout, os.Stderr
	os.Stderr = errFile
	t.Cleanup(func() { os.Stdout, os.Stderr = origOut, origErr })
	c, err := startCapture()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("Caught panic:\n")
	os.Stderr.WriteString("goroutine 1 [running]:\n")
	os.Stdout.WriteString(strings.Repeat("x", maxCaptured))
	if err := c.stop(); err != nil {
		t.Fatal(err)
	}
	if os.Stdout != origOut || os.Stderr != errFile {
		t.Fatal("stop did not put os.Stdout and os.Stderr back")
	}
	b, err := os.ReadFile(errFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.HasPrefix(got, "Caught panic:\ngoroutine 1 [running]:\nxxx") {
		t.Errorf("replayed %.60q", got)
	}
	if !strings.HasSuffix(got, "(37 more bytes written while nest was up were dropped)\n") {
		t.Errorf("replay ends %q", got[len(got)-80:])
	}
}
