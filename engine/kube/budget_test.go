package kube

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestPlayBudget: a manifest that multiplies its values — $(VAR)
// references to a big value, a big ConfigMap taken as env by many
// workloads — fails at the field where the play's values grow past the
// bundle's bound, having allocated a small multiple of the manifest, not
// the hundreds of MiB its expansion would take.
func TestPlayBudget(t *testing.T) {
	var refs strings.Builder
	refs.WriteString(deployment("web", "", "        env:\n        - {name: A, value: "+strings.Repeat("a", 128<<10)+"}\n        - {name: B, value: \"$(A)$(A)\"}\n"))
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&refs, "        - {name: C%d, value: \"$(B)\"}\n", i)
	}
	var args strings.Builder
	args.WriteString(deployment("web", "", "        env:\n        - {name: A, value: "+strings.Repeat("a", 200<<10)+"}\n        args:\n"))
	for i := 0; i < 400; i++ {
		args.WriteString("        - \"$(A)\"\n")
	}
	var envFrom strings.Builder
	envFrom.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {V: " + strings.Repeat("v", 1<<20) + "}\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&envFrom, "---\n%s", deployment(fmt.Sprintf("w%d", i), "", "        envFrom: [{configMapRef: {name: big}}]\n"))
	}
	var keyRef strings.Builder
	keyRef.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {V: " + strings.Repeat("v", 1<<20) + "}\n")
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&keyRef, "---\n%s", deployment(fmt.Sprintf("w%d", i), "", "        env: [{name: V, valueFrom: {configMapKeyRef: {name: big, key: V}}}]\n"))
	}
	cases := []struct{ name, manifest, want string }{
		{"env references", refs.String(), "document 1 (Deployment web): spec.template.spec.containers[0].env[16].value: the containers' env, command and args grow past 4 MiB here"},
		{"args references", args.String(), "document 1 (Deployment web): spec.template.spec.containers[0].args[19]: the containers' env, command and args grow past 4 MiB here"},
		{"envFrom", envFrom.String(), "document 5 (Deployment w3): spec.template.spec.containers[0].envFrom[0]: the containers' env, command and args grow past 4 MiB here"},
		{"configMapKeyRef", keyRef.String(), "document 5 (Deployment w3): spec.template.spec.containers[0].env[0].valueFrom: the containers' env"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocated(func() { _, err = Play("m.yaml", []byte(c.manifest)) })
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Play = %v, want an invalid error with %q", err, c.want)
			}
			if k := strings.Count(err.Error(), "grow past"); k != 1 {
				t.Errorf("%d budget problems, want 1:\n%v", k, err)
			}
			// Parsing costs a multiple of the manifest; the values
			// themselves at most the 4 MiB budget (twice: env map and list).
			if bound := uint64(40*len(c.manifest)) + 3*maxBundle; n > bound {
				t.Errorf("Play of a %d KiB manifest allocated %d MiB, want at most %d MiB", len(c.manifest)>>10, n>>20, bound>>20)
			}
			t.Logf("%d KiB manifest: %d MiB allocated", len(c.manifest)>>10, n>>20)
		})
	}
}

// TestExpandLimit: expansion measures before it builds.
func TestExpandLimit(t *testing.T) {
	x100 := strings.Repeat("x", 100)
	lookup := func(k string) (string, bool) { return x100, k == "X" }
	for _, c := range []struct {
		in    string
		limit int
		want  string
		err   bool
	}{
		{"$(X)", 100, strings.Repeat("x", 100), false},
		{"$(X)a", 100, "", true},
		{"a$(Y)b$$c$d$", 100, "a$(Y)b$c$d$", false},
		{"$(X", 100, "$(X", false},
		{strings.Repeat("a", 101), 100, "", true},
	} {
		got, err := expandLimit(c.in, lookup, c.limit, errTooLong)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("expandLimit(%q, %d) = %q, %v", c.in, c.limit, got, err)
		}
	}
	var s string
	in := strings.Repeat("$(X)", 1000)
	if n := testing.AllocsPerRun(10, func() { s, _ = expandLimit(in, lookup, 1000, errTooLong) }); n > 1 || s != "" {
		t.Errorf("a refused expansion allocated %v times", n)
	}
}

// TestPlayAliasedScalars: a big scalar aliased many times is refused
// before the strict decode copies it for each alias.
func TestPlayAliasedScalars(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  k0: &a " + strings.Repeat("v", 1<<20) + "\n")
	for i := 1; i < 1000; i++ {
		fmt.Fprintf(&b, "  k%d: *a\n", i)
	}
	b.WriteString("---\n" + deployment("web", "", ""))
	var err error
	n := allocated(func() { _, err = Play("m.yaml", []byte(b.String())) })
	want := "m.yaml:1: document 1 (ConfigMap big): with its aliases (*name) expanded, the manifest passes 8 MiB here"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Play = %v, want %q", err, want)
	}
	if n > 64<<20 {
		t.Errorf("Play of a 1 MiB manifest allocated %d MiB", n>>20)
	}
	// A few aliases of small values are fine.
	ok := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: &x hello, b: *x}\n---\n" + deployment("web", "", "        envFrom: [{configMapRef: {name: c}}]\n")
	if _, err := Play("m.yaml", []byte(ok)); err != nil {
		t.Errorf("Play with small aliases = %v", err)
	}
}
