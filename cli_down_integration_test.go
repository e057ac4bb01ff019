//go:build integration

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/runtime"
)

// containerdHas reports whether containerd still holds a container named name
// (asked directly, not through budgie).
func containerdHas(t *testing.T, name string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctrEnv.Context(), 10*time.Second)
	defer cancel()
	cs, err := ctrEnv.Client().Containers(ctx, fmt.Sprintf("labels.%q==%s", runtime.LabelName, name))
	if err != nil {
		t.Fatal(err)
	}
	return len(cs) > 0
}

// volumeExists reports whether the named volume's directory exists.
func volumeExists(name string) bool {
	_, err := os.Stat(filepath.Join(ctrEnv.DataDir, "volumes", name))
	return err == nil
}

// TestCLIDown: down stops and removes a stack's containers — a replicated
// one's replicas too — dependents first; named volumes stay without -v and
// go with it, except one a container outside the stack still uses; a second
// down is a no-op; a bad bundle touches nothing and names its file:line.
func TestCLIDown(t *testing.T) {
	t.Cleanup(func() { stopKeeperClearLog(t) }) // replicas start the keeper
	sfx := fmt.Sprint(time.Now().UnixNano())
	db, app, worker := "db"+sfx, "app"+sfx, "wk"+sfx
	dbVol, appVol, shared := "dbv"+sfx, "appv"+sfx, "shv"+sfx
	loop := `args: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 0.1; done"]`
	dir := t.TempDir()
	stack := filepath.Join(dir, "stack.bun")
	os.WriteFile(stack, []byte(`containers:
  - name: `+db+`
    image: `+cliImage+`
    `+loop+`
    volumes: ["`+dbVol+`:/data"]
  - name: `+app+`
    image: `+cliImage+`
    `+loop+`
    volumes: ["`+appVol+`:/data", "`+shared+`:/shared"]
    depends_on: {`+db+`: {condition: started}}
  - name: `+worker+`
    image: `+cliImage+`
    `+loop+`
    replicas: {count: 2}
`), 0o644)
	replicas := []string{runtime.ReplicaName(worker, 1), runtime.ReplicaName(worker, 2)}
	all := append([]string{db, app}, replicas...)
	t.Cleanup(func() { budgie(t, append([]string{"rm", "-f", "-v"}, all...)...) })
	// A container outside the stack shares one of its volumes.
	otherPath, other := writeBundle(t, loop+"\nvolumes: [\""+shared+":/shared\"]\n")
	must(t, "run", otherPath)

	must(t, "run", stack)
	for _, n := range all {
		if !containerdHas(t, n) {
			t.Fatalf("run did not make %s", n)
		}
	}
	out := must(t, "down", stack)
	removed := strings.Fields(out)
	if len(removed) != 4 {
		t.Fatalf("down printed %q, want the 4 containers", out)
	}
	at := map[string]int{}
	for i, n := range removed {
		at[n] = i
	}
	for _, n := range all {
		if _, ok := at[n]; !ok {
			t.Errorf("down did not print %s: %q", n, out)
		}
		if containerdHas(t, n) {
			t.Errorf("%s is still in containerd after down", n)
		}
	}
	if at[app] > at[db] {
		t.Errorf("down removed %s before %s, which depends on it: %q", db, app, out)
	}
	for _, v := range []string{dbVol, appVol, shared} {
		if !volumeExists(v) {
			t.Errorf("down without -v removed volume %s", v)
		}
	}
	if !containerdHas(t, other) {
		t.Errorf("down removed %s, which is not in the bundle", other)
	}
	if r := budgie(t, "down", stack); r.code != 0 || r.stdout != "" {
		t.Errorf("a second down: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}

	// -v: the stack's own volumes go; the shared one stays, and down says why.
	must(t, "run", stack)
	r := budgie(t, "down", "-v", stack)
	if r.code != 0 {
		t.Fatalf("down -v: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, v := range []string{dbVol, appVol} {
		if volumeExists(v) || !strings.Contains(r.stdout, "volume "+v+"\n") {
			t.Errorf("down -v left volume %s (or did not say so): %q", v, r.stdout)
		}
	}
	if !volumeExists(shared) || strings.Contains(r.stdout, "volume "+shared) || !strings.Contains(r.stderr, "kept volume "+shared+": still used by "+other) {
		t.Errorf("the shared volume: exists %v, stdout %q, stderr %q; want it kept and named", volumeExists(shared), r.stdout, r.stderr)
	}
	for _, n := range all {
		if containerdHas(t, n) {
			t.Errorf("%s is still in containerd after down -v", n)
		}
	}
	must(t, "rm", "-f", other)
	must(t, "volume", "rm", shared)

	// A bad bundle: exit 2 with its file:line, and nothing is taken down.
	bad := filepath.Join(dir, "bad.bun")
	os.WriteFile(bad, []byte("name: x\nimgae: busybox\n"), 0o644)
	single, name := writeBundle(t, loop+"\n")
	must(t, "run", single)
	if r := budgie(t, "down", single, bad); r.code != 2 || !strings.Contains(r.stderr, "bad.bun:2") {
		t.Errorf("down with a bad bundle: exit %d stderr %q, want 2 and bad.bun:2", r.code, r.stderr)
	}
	if !containerdHas(t, name) {
		t.Errorf("down with a bad bundle removed %s", name)
	}
	if out := must(t, "down", single); out != name+"\n" {
		t.Errorf("down of a one-container bundle printed %q", out)
	}
}
