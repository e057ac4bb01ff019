//go:build integration

package network

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoopbackUp: lo in a fresh namespace is down until loopbackUp, then
// up and answering; a second call changes nothing; no thread of the test
// process is left in the container's namespace; a path that is not a
// network namespace is refused by name.
func TestLoopbackUp(t *testing.T) {
	ns := newNetns(t)
	if out, err := ns.run(5*time.Second, "ip", "-br", "link", "show", "lo"); err != nil || !strings.Contains(out, "DOWN") {
		t.Fatalf("lo of a new namespace should be down: %v: %s", err, out)
	}
	own, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	// Many at once, so several OS threads enter and leave the namespace.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- loopbackUp(ns.path)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if out, err := ns.run(5*time.Second, "ip", "-br", "link", "show", "lo"); err != nil || strings.Contains(out, "DOWN") || !strings.Contains(out, "UP") {
		t.Fatalf("lo is not up after loopbackUp: %v: %s", err, out)
	}
	if !ns.ping("127.0.0.1") {
		t.Fatal("lo is up but 127.0.0.1 does not answer")
	}
	tasks, err := filepath.Glob("/proc/self/task/*/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if got, err := os.Readlink(task); err == nil && got != own {
			t.Fatalf("thread %s is in %s, not the process's own %s", task, got, own)
		}
	}

	notNS := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(notNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := loopbackUp(notNS); err == nil || !strings.Contains(err.Error(), notNS) {
		t.Fatalf("a plain file as namespace: got %v, want an error naming it", err)
	}
}
