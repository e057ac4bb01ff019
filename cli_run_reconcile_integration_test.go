//go:build integration

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIRunReconcile: running a stack bundle again reconciles it, as
// docker compose up does, in dependency order: an unchanged container
// keeps running with its ID, a changed one is recreated (new ID, new spec,
// its named volume kept), a missing one is created, a stopped unchanged
// one is started (same ID); --attach of an existing name still fails.
func TestCLIRunReconcile(t *testing.T) {
	u := uniq()
	cache, db, web := "cache"+u, "db"+u, "web"+u
	vol := "dbv" + u
	t.Cleanup(func() { budgie(t, "rm", "-f", "-v", cache, db, web) })
	path := filepath.Join(t.TempDir(), "stack.bun")
	write := func(dbEnv string) {
		t.Helper()
		loop := `args: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 0.1; done"]`
		body := "containers:\n" +
			"  - name: " + cache + "\n    image: " + cliImage + "\n    " + loop + "\n" +
			"  - name: " + db + "\n    image: " + cliImage + "\n    " + loop + "\n    env: [" + dbEnv + "]\n" +
			"    volumes: [\"" + vol + ":/data\"]\n" +
			"  - name: " + web + "\n    image: " + cliImage + "\n    " + loop + "\n" +
			"    depends_on: {" + db + ": {condition: started}}\n"
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ids := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, n := range []string{cache, db, web} {
			out[n] = strings.TrimSpace(must(t, "inspect", "-f", "{{.ID}}", n))
		}
		return out
	}
	lines := func(actions ...string) string {
		return cache + ": " + actions[0] + "\n" + db + ": " + actions[1] + "\n" + web + ": " + actions[2] + "\n"
	}

	write("V=1")
	if got := strings.Fields(must(t, "run", path)); len(got) != 3 || len(got[0]) != 64 {
		t.Fatalf("first run printed %q, want 3 IDs", got)
	}
	first := ids()
	must(t, "exec", db, "sh", "-c", "echo kept > /data/f")

	if out := must(t, "run", path); out != lines("unchanged", "unchanged", "unchanged") {
		t.Errorf("second run = %q", out)
	}
	if again := ids(); again[cache] != first[cache] || again[db] != first[db] || again[web] != first[web] {
		t.Errorf("an unchanged run replaced containers: %v → %v", first, again)
	}

	write("V=2")
	must(t, "rm", "-f", cache)
	if out := must(t, "run", path); out != lines("created", "recreated", "unchanged") {
		t.Errorf("run after a change = %q", out)
	}
	third := ids()
	if third[db] == first[db] || third[web] != first[web] || third[cache] == first[cache] {
		t.Errorf("IDs after the change: %v → %v (want db and cache new, web kept)", first, third)
	}
	if env := must(t, "inspect", "-f", "{{json .Config.Env}}", db); !strings.Contains(env, `"V=2"`) {
		t.Errorf("the recreated db's env = %s", env)
	}
	if out, _ := execOut(t, db, "cat", "/data/f"); out != "kept\n" {
		t.Errorf("the recreated db lost its volume's file: %q", out)
	}

	must(t, "stop", "-t", "5", web)
	if out := must(t, "run", path); out != lines("unchanged", "unchanged", "started") {
		t.Errorf("run with web stopped = %q", out)
	}
	if st := must(t, "inspect", "-f", "{{.State.Status}} {{.ID}}", web); st != "running "+first[web]+"\n" {
		t.Errorf("web after the run: %q, want running with ID %s", st, first[web])
	}

	if r := budgie(t, "run", "--attach", "--name", web, writeSingle(t)); r.code != 1 || !strings.Contains(r.stderr, "is in use") {
		t.Errorf("run --attach of an existing name: exit %d stderr %q", r.code, r.stderr)
	}
}

// writeSingle writes a one-container bundle without a name (given with --name).
func writeSingle(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "single.bun")
	if err := os.WriteFile(path, []byte("image: "+cliImage+"\nargs: [true]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
