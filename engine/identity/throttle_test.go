package identity

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// writeCounter counts rewrites of trust.json: each one replaces the file,
// so its inode or mtime changes.
type writeCounter struct {
	path   string
	last   syscall.Stat_t
	writes int
}

func (w *writeCounter) check(t *testing.T) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(w.path, &st); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if st.Ino != w.last.Ino || st.Mtim != w.last.Mtim {
		w.writes++
	}
	w.last = st
	return w.writes
}

func TestRepeatedRefusalsDoNotRewriteTrustFile(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openStore(t, dir, TrustStoreOptions{Now: c.now})
	w := &writeCounter{path: filepath.Join(dir, TrustFile)}
	p := randomID()
	record := func(name, addr string) {
		t.Helper()
		if err := s.RecordPending(t.Context(), PendingRequest{ID: p, Name: name, Address: addr}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		do     func()
		writes int
	}{
		{"first attempt", func() { record("kitchen", "10.0.0.7:40000") }, 1},
		{"100 repeats from new ports", func() {
			for i := range 100 {
				c.t = c.t.Add(100 * time.Millisecond)
				record("kitchen", fmt.Sprintf("10.0.0.7:%d", 40001+i))
			}
		}, 1},
		{"another host", func() { record("kitchen", "10.0.0.8:40000") }, 2},
		{"another name", func() { record("pantry", "10.0.0.8:40000") }, 3},
		{"a minute later", func() { c.t = c.t.Add(time.Minute); record("pantry", "10.0.0.8:40001") }, 4},
	}
	for _, st := range steps {
		st.do()
		if got := w.check(t); got != st.writes {
			t.Fatalf("%s: trust.json written %d times, want %d", st.name, got, st.writes)
		}
	}
	if l := list(t, s); len(l.Pending) != 1 || l.Pending[0].Count != 4 || l.Pending[0].Name != "pantry" {
		t.Fatalf("pending = %+v", l.Pending)
	}
	// A denial made in this process takes effect at once.
	if err := s.Deny(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	w.check(t)
	record("pantry", "10.0.0.8:40002")
	if got := w.check(t); got != 5 {
		t.Fatalf("attempt by a denied node rewrote trust.json (%d writes, want 5)", got)
	}
}

func TestStrangerFloodIsBounded(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openStore(t, dir, TrustStoreOptions{Now: c.now})
	w := &writeCounter{path: filepath.Join(dir, TrustFile)}
	for i := range 300 { // a new certificate for every handshake
		c.t = c.t.Add(10 * time.Millisecond)
		if err := s.RecordPending(t.Context(), PendingRequest{ID: randomID(), Address: fmt.Sprintf("10.0.%d.%d:1", i/250, i%250)}); err != nil {
			t.Fatal(err)
		}
		w.check(t)
	}
	if w.writes > maxPendingWrites {
		t.Fatalf("300 strangers in 3 s rewrote trust.json %d times, want at most %d", w.writes, maxPendingWrites)
	}
	if n := len(list(t, s).Pending); n > DefaultMaxPending {
		t.Fatalf("%d pending requests, over the cap of %d", n, DefaultMaxPending)
	}
	c.t = c.t.Add(time.Minute)
	late := randomID()
	if err := s.RecordPending(t.Context(), PendingRequest{ID: late}); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range list(t, s).Pending {
		found = found || p.ID == late.String()
	}
	if !found {
		t.Fatal("a request after the flood was not recorded")
	}
}

// TestRefusedHandshakesDoNotRewriteTrustFile goes through real TLS.
func TestRefusedHandshakesDoNotRewriteTrustFile(t *testing.T) {
	dir := t.TempDir()
	id, err := Load(dir, LoadOptions{Name: "attic"})
	if err != nil {
		t.Fatal(err)
	}
	a := node{id: id, store: openStore(t, dir, TrustStoreOptions{})}
	stranger := newNode(t, "stranger")
	w := &writeCounter{path: filepath.Join(dir, TrustFile)}
	for range 20 {
		addr, res := serveOnce(t, ServerConfig(a.id, a.store))
		if _, _, err := dial(t, addr, ClientConfig(stranger.id, a.id.ID)); err == nil {
			t.Fatal("an untrusted client got in")
		}
		serverOutcome(t, res)
		w.check(t)
	}
	if w.writes != 1 {
		t.Fatalf("20 refused handshakes wrote trust.json %d times, want 1", w.writes)
	}
}
