package engine_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbidden are the import paths (and everything under them) that engine/
// and models/ must never reach, directly or through another package: the
// terminal and CLI libraries and Budgie's own front ends. The engine is
// the core every front end calls; a front end's library inside it would
// tie the CLI, nest and the dashboard to one another. (nerdctl keeps the
// same rule with depguard: pkg/ must not import CLI libraries.)
var forbidden = []string{
	"github.com/charmbracelet/bubbletea",
	"github.com/charmbracelet/bubbles",
	"github.com/charmbracelet/lipgloss",
	"github.com/charmbracelet/huh",
	"github.com/alecthomas/kong",
	"github.com/budgie-sh/budgie/app",
	"github.com/budgie-sh/budgie/views",
	"github.com/budgie-sh/budgie/theme",
	"github.com/budgie-sh/budgie/cli",
	"github.com/budgie-sh/budgie/web",
}

// TestEngineImportsNoFrontEnd lists every package engine/ and models/
// depend on, their tests' dependencies included, and fails on any
// forbidden one, naming the package that imports it.
func TestEngineImportsNoFrontEnd(t *testing.T) {
	out, err := exec.Command("go", "list", "-test", "-deps",
		"-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "../engine/...", "../models/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkgs++
		for _, imp := range f[1:] {
			if isForbidden(imp) {
				t.Errorf("%s imports %s: engine/ and models/ know nothing of front ends (docs/architecture.md)", f[0], imp)
			}
		}
	}
	if pkgs < 50 {
		t.Fatalf("go list named only %d packages; the rule checked nothing:\n%s", pkgs, out)
	}
}

// TestForbiddenMatchesPrefixesOnly: the rule catches a subpackage and
// leaves a package that merely shares a prefix.
func TestForbiddenMatchesPrefixesOnly(t *testing.T) {
	for imp, want := range map[string]bool{
		"github.com/charmbracelet/bubbles/list":  true,
		"github.com/budgie-sh/budgie/views":      true,
		"github.com/budgie-sh/budgie/viewsmith":  false,
		"github.com/budgie-sh/budgie/engine/run": false,
		"github.com/charmbracelet/x/ansi":        false,
	} {
		if got := isForbidden(imp); got != want {
			t.Errorf("isForbidden(%q) = %v, want %v", imp, got, want)
		}
	}
}

func isForbidden(imp string) bool {
	for _, f := range forbidden {
		if imp == f || strings.HasPrefix(imp, f+"/") {
			return true
		}
	}
	return false
}
