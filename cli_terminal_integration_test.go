//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestHeadlessAsksTheTerminalNothing: a headless command on a real pty
// (util-linux's script) writes its output and nothing else. Bubble Tea's
// init used to query the terminal's background (OSC 11, then a cursor
// report) in every budgie process: escape codes in scripts' output, and a
// wait for a terminal that never answers.
func TestHeadlessAsksTheTerminalNothing(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux's bsdutils) is needed: %v", err)
	}
	for _, args := range [][]string{{"version"}, {"ps", "-a", "--format", "{{.Name}}"}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "script", "-q", "-e", "-c", binary+" --headless "+strings.Join(args, " "), "/dev/null")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm-256color"}, testEnv()...)
		cmd.Stdin = nil // a pty that never answers a query
		start := time.Now()
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("budgie %v on a pty: %v\n%q", args, err, out)
		}
		if bytes.ContainsRune(out, '\x1b') {
			t.Errorf("budgie --headless %v wrote escape codes to the terminal: %q", args, out)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("budgie --headless %v took %v on a pty that does not answer (waiting for a terminal reply?)", args, d)
		}
	}
}
