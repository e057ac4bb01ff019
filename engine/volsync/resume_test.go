package volsync

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestResumeAfterInterrupt(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	size := bigSize()
	writeFile(t, filepath.Join(prim, "big.bin"), randBytes(t, size), 0o644)
	writeFile(t, filepath.Join(prim, "small.txt"), []byte("small"), 0o644)
	addr := startServer(t, map[string]string{"data": prim}, nil)
	ctx := context.Background()

	cut := func(c net.Conn) net.Conn { cc := &cutConn{Conn: c}; cc.left.Store(int64(size / 2)); return cc }
	c := dial(t, addr, cut)
	if _, err := c.Sync(ctx, "data", repl, SyncOptions{}); err == nil {
		t.Fatal("sync over a connection cut halfway succeeded")
	}
	if _, err := os.Lstat(filepath.Join(repl, "big.bin")); !os.IsNotExist(err) {
		t.Fatalf("a partial file is visible under its real name: %v", err)
	}
	tmp := filepath.Join(repl, InternalPrefix+"big.bin.tmp")
	if info, err := os.Stat(tmp); err != nil || info.Size() == 0 {
		t.Fatalf("the temp file of the interrupted transfer is gone: %v", err)
	}
	if _, err := c.Sync(ctx, "data", repl, SyncOptions{}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a broken client should refuse further syncs, got %v", err)
	}

	c2 := dial(t, addr, nil)
	st, err := c2.Sync(ctx, "data", repl, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
	t.Logf("resume: fetched %d of %d bytes, %d blocks reused", st.BytesFetched, size, st.BlocksReused)
	if st.BytesFetched > int64(size)*6/10 || st.BlocksReused == 0 {
		t.Fatalf("resume fetched %d of %d bytes (reused %d blocks)", st.BytesFetched, size, st.BlocksReused)
	}
}

func TestSubscribePolling(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	writeFile(t, filepath.Join(prim, "one.txt"), []byte("one"), 0o644)
	writeFile(t, filepath.Join(prim, "d/two.txt"), []byte("two"), 0o644)
	addr := startServer(t, map[string]string{"data": prim}, func(o *ServerOptions) {
		o.Changes = PollSource{Interval: 100 * time.Millisecond}
		o.Debounce = 100 * time.Millisecond
	})
	c := dial(t, addr, nil)
	ctx, cancel := context.WithCancel(context.Background())
	syncs := make(chan Stats, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Subscribe(ctx, "data", repl, SubscribeOptions{OnSync: func(st Stats, err error) {
			if err != nil {
				t.Errorf("sync during subscribe: %v", err)
			}
			syncs <- st
		}})
	}()
	steps := []struct {
		name string
		do   func()
	}{
		{"initial", func() {}},
		{"create", func() { writeFile(t, filepath.Join(prim, "d/e/three.txt"), []byte("three"), 0o600) }},
		{"edit", func() { writeFile(t, filepath.Join(prim, "one.txt"), []byte("one, edited"), 0o644) }},
		{"rename", func() { mustDo(t, os.Rename(filepath.Join(prim, "d/two.txt"), filepath.Join(prim, "two.txt"))) }},
		{"delete", func() { mustDo(t, os.RemoveAll(filepath.Join(prim, "d/e"))) }},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.do()
			waitSameTree(t, prim, repl, 5*time.Second)
		})
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("Subscribe returned nil after its context ended")
	}
	if len(syncs) < 2 {
		t.Fatalf("%d syncs: changes did not trigger any", len(syncs))
	}
}

// waitSameTree waits until the replica matches the primary.
func waitSameTree(t *testing.T, prim, repl string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if slices.Equal(treeHash(t, prim), treeHash(t, repl)) {
			return
		}
		if time.Now().After(deadline) {
			assertSameTree(t, prim, repl)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
