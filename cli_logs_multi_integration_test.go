//go:build integration

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/runtime"
)

// waitLogs runs budgie logs args until every line in want is in its
// output (the containers may still be starting) and returns the output.
func waitLogs(t *testing.T, want []string, args ...string) string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out = must(t, append([]string{"logs"}, args...)...)
		missing := false
		for _, w := range want {
			missing = missing || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(w)+`$`).MatchString(out)
		}
		if !missing {
			return out
		}
	}
	t.Fatalf("budgie logs %v = %q; want the lines %q", args, out, want)
	return ""
}

func TestCLILogsMultiContainers(t *testing.T) {
	pathA, a := writeBundle(t, "args: [sh, -c, \"echo from-a; echo err-a >&2; while :; do sleep 0.1; done\"]\n")
	pathB, b := writeBundle(t, "args: [sh, -c, \"echo from-b; while :; do sleep 0.1; done\"]\n")
	short := "x" + b[len(b)-5:] // a shorter name, to see the padding
	must(t, "run", pathA)
	must(t, "run", "--name", short, pathB)
	t.Cleanup(func() { budgie(t, "rm", "-f", short) })

	pad := strings.Repeat(" ", len(a)-len(short))
	out := waitLogs(t, []string{a + " | from-a", short + pad + " | from-b"}, a, short)
	if strings.Contains(out, "\x1b[") || strings.Contains(out, "err-a") {
		t.Errorf("logs of two containers to a pipe: colour or stderr on stdout:\n%q", out)
	}
	r := budgie(t, "logs", a, short)
	if r.stderr != a+" | err-a\n" {
		t.Errorf("stderr of two containers = %q, want the prefixed err-a", r.stderr)
	}
	// -t and --tail apply to each container; one container stays unprefixed.
	if out := must(t, "logs", "-t", "--tail", "1", a, short); !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(short+pad) + ` \| 20\S+ from-b$`).MatchString(out) {
		t.Errorf("logs -t --tail 1 = %q", out)
	}
	if out := must(t, "logs", a); out != "from-a\n" {
		t.Errorf("logs of one container = %q, want it unprefixed", out)
	}
	if r := budgie(t, "logs", a, "no-such-container-x"); r.code != 3 {
		t.Errorf("logs with a missing container: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestCLILogsMultiService(t *testing.T) {
	service := fmt.Sprintf("svc%d", time.Now().UnixNano())
	path := filepath.Join(t.TempDir(), service+".bun")
	body := "name: " + service + "\nimage: " + cliImage + "\nreplicas: 2\n" +
		"args: [sh, -c, \"echo hello from $(hostname); sleep 4; echo bye from $(hostname)\"]\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r1, r2 := runtime.ReplicaName(service, 1), runtime.ReplicaName(service, 2)
	t.Cleanup(func() { budgie(t, "rm", "-f", r1, r2) })
	must(t, "run", path)
	waitLogs(t, []string{r1 + " | hello from " + r1, r2 + " | hello from " + r2}, service)

	// -f follows both until they stop (they exit after 4s).
	done := make(chan result, 1)
	go func() { done <- budgie(t, "logs", "-f", service) }()
	select {
	case r := <-done:
		if r.code != 0 {
			t.Errorf("logs -f %s: exit %d: %s", service, r.code, r.stderr)
		}
		for _, want := range []string{r1 + " | hello from " + r1, r2 + " | hello from " + r2, r1 + " | bye from " + r1, r2 + " | bye from " + r2} {
			if !strings.Contains(r.stdout, want+"\n") {
				t.Errorf("logs -f %s lacks %q: exit %d\n%s%s", service, want, r.code, r.stdout, r.stderr)
			}
		}
	case <-time.After(30 * time.Second):
		t.Fatal("logs -f did not end when the replicas stopped")
	}
}
