//go:build integration

package main

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// TestCLICompletion drives real bash, zsh and fish in tmux: each loads
// `budgie completion SHELL`, then Tab completes a command name and a
// container's name read from the engine.
func TestCLICompletion(t *testing.T) {
	path, name := writeBundleNamed(t, fmt.Sprintf("zcompl%d", time.Now().UnixNano()), "")
	must(t, "run", path)
	// tmux's server exits with its last session; a new session racing that
	// exit fails ("server exited unexpectedly"): keep one open throughout.
	startPane(t, t.TempDir(), "sleep 600")
	// setup ends by printing loaded-42, computed so that the typed line
	// itself does not show it.
	for _, sh := range []struct{ shell, start, setup string }{
		{"bash", "env PS1='# ' bash --norc --noprofile", "source <(budgie completion bash); echo loaded-$((6*7))"},
		{"zsh", "env PS1='# ' zsh -f", "source <(budgie completion zsh); echo loaded-$((6*7))"},
		{"fish", `fish --no-config -C "function fish_prompt; echo '# '; end"`, "budgie completion fish | source; echo loaded-(math 6 '*' 7)"},
	} {
		t.Run(sh.shell, func(t *testing.T) {
			if _, err := exec.LookPath(sh.shell); err != nil {
				t.Fatalf("%s is needed (make test-deps installs it): %v", sh.shell, err)
			}
			p := startPane(t, t.TempDir(), sh.start)
			time.Sleep(300 * time.Millisecond)
			p.typeText(sh.setup)
			p.keys("Enter")
			p.waitFor(10*time.Second, "loaded-42")
			p.typeText("budgie --headless netw")
			p.keys("Tab")
			p.waitFor(10*time.Second, "# budgie --headless network") // tmux drops the trailing space
			p.keys("C-u")
			if sh.shell == "fish" {
				p.keys("C-a", "C-k") // fish's C-u deletes a word at a time
			}
			p.typeText("budgie --headless stop " + name[:8])
			p.keys("Tab")
			p.waitFor(10*time.Second, "budgie --headless stop "+name)
		})
	}
}
