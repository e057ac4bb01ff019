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

	"github.com/budgie-sh/budgie/internal/testkit"
)

// TestNestDialogsOwnTheKeyboard opens each view's remove dialog in the
// real nest, presses q (which quits nest anywhere else): nest must still
// run, the dialog must be gone and the thing still there; then the same
// dialog confirmed must remove it.
func TestNestDialogsOwnTheKeyboard(t *testing.T) {
	cases := []struct {
		name   string
		make   func(t *testing.T, id string) string // returns the name shown
		tab    string
		pick   func(p *pane, shown string)
		remove string // the key that opens the dialog
		ask    string // the dialog's question, %s the name shown
		exists func(t *testing.T, shown string) bool
	}{
		{"containers", makeContainer, "1", filterTo, "C-d", "Remove 1 container(s)?", containerExists},
		{"images", makeImage, "2", sortedLast("n"), "d", "Remove image %s?", listed("images")},
		{"secrets", makeSecret, "4", sortedLast(""), "d", "Remove secret %s?", listed("secret", "ls")},
		{"networks", makeNetwork, "5", sortedLast(""), "d", "Remove network %s?", listed("network", "ls")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shown := tc.make(t, fmt.Sprintf("zzz%d", time.Now().UnixNano()%1e9))
			p := startPane(t, t.TempDir(), binary)
			p.waitFor(20*time.Second, "containerd ")
			p.keys(tc.tab)
			tc.pick(p, shown)
			question := strings.ReplaceAll(tc.ask, "%s", shown)
			p.keys(tc.remove)
			p.waitFor(10*time.Second, question, "[ Cancel ]")
			p.keys("q")
			time.Sleep(500 * time.Millisecond)
			if exec.Command("tmux", "has-session", "-t", p.name).Run() != nil {
				t.Fatal("q quit nest from under the dialog")
			}
			if s := p.screen(false); strings.Contains(s, "[ Cancel ]") {
				t.Fatalf("q did not close the dialog:\n%s", s)
			}
			if !tc.exists(t, shown) {
				t.Fatal("q under the dialog removed it")
			}
			p.keys(tc.remove)
			p.waitFor(10*time.Second, question, "[ Cancel ]")
			p.keys("Right", "Enter")
			deadline := time.Now().Add(20 * time.Second)
			for tc.exists(t, shown) {
				if time.Now().After(deadline) {
					t.Fatalf("confirming did not remove %s:\n%s", shown, p.screen(false))
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

func makeContainer(t *testing.T, id string) string {
	path, name := writeBundleNamed(t, id, "args: [sleep, \"300\"]\n")
	must(t, "run", path)
	return name
}

func makeImage(t *testing.T, id string) string {
	ref := "localhost/" + id + ":1"
	tar := filepath.Join(t.TempDir(), "img.tar")
	f, err := os.Create(tar)
	if err != nil {
		t.Fatal(err)
	}
	if err := testkit.WriteBusyboxArchive(f, testkit.ImageOptions{Ref: ref, Cmd: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	must(t, "load", "-q", "-i", tar)
	return ref
}

func makeSecret(t *testing.T, id string) string {
	file := filepath.Join(t.TempDir(), "v")
	if err := os.WriteFile(file, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	must(t, "secret", "create", id, file)
	t.Cleanup(func() { budgie(t, "secret", "rm", id) })
	return id
}

func makeNetwork(t *testing.T, id string) string {
	must(t, "network", "create", id)
	t.Cleanup(func() { budgie(t, "network", "rm", id) })
	return id
}

// filterTo narrows the containers table to shown, so the cursor is on it.
func filterTo(p *pane, shown string) {
	p.waitFor(20*time.Second, shown)
	p.keys("/")
	p.typeText(shown)
	p.keys("Enter")
	p.waitFor(5*time.Second, "filter: "+shown)
}

// sortedLast sorts the list by name (with sortKey, when the view needs
// one) and moves to its end, where the zzz… name sorts.
func sortedLast(sortKey string) func(p *pane, shown string) {
	return func(p *pane, shown string) {
		repo, _, _ := strings.Cut(shown, ":") // images show repository and tag apart
		p.waitFor(20*time.Second, repo)
		if sortKey != "" {
			p.keys(sortKey)
		}
		p.keys("-N", "60", "Down")
	}
}

func containerExists(t *testing.T, name string) bool {
	return budgie(t, "inspect", name).code == 0
}

// listed reports whether a listing command prints shown.
func listed(args ...string) func(t *testing.T, shown string) bool {
	return func(t *testing.T, shown string) bool {
		r := budgie(t, args...)
		if r.code != 0 {
			t.Fatalf("budgie %v: %s", args, r.stderr)
		}
		repo, _, _ := strings.Cut(shown, ":") // images list repository and tag apart
		return strings.Contains(r.stdout, repo)
	}
}
