package volsync

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// slowConn reads at most 64 KiB every 8 ms: about 8 MiB/s.
type slowConn struct{ net.Conn }

func (c slowConn) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	time.Sleep(8 * time.Millisecond)
	return c.Conn.Read(p)
}

// tempBytes is what the temp files in dir take on disk, and how many
// there are.
func tempBytes(dir string) (int64, int) {
	var total int64
	n := 0
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		var st syscall.Stat_t
		if internalName(e.Name()) && syscall.Lstat(filepath.Join(dir, e.Name()), &st) == nil {
			total += st.Blocks * 512
			n++
		}
	}
	return total, n
}

// peakSampler records the most temp bytes seen in dir until stopped.
func peakSampler(dir string) (stop func() (int64, int)) {
	var peak int64
	var peakN int
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			if b, n := tempBytes(dir); b > peak {
				peak, peakN = b, n
			}
			select {
			case <-quit:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() (int64, int) { close(quit); <-done; return peak, peakN }
}

// changedCopies writes n files of size bytes to the replica and, with
// their last tail bytes changed and a new mtime, to the primary.
func changedCopies(t *testing.T, prim, repl string, n, size, tail int) {
	for i := range n {
		b := randBytes(t, size)
		name := filepath.Join("d", fmt.Sprintf("f%02d.img", i))
		writeFile(t, filepath.Join(repl, name), b, 0o644)
		copy(b[size-tail:], randBytes(t, tail))
		writeFile(t, filepath.Join(prim, name), b, 0o644)
		mustDo(t, os.Chtimes(filepath.Join(prim, name), time.Now(), time.Now().Add(time.Hour)))
	}
}

// TestPlanningWaitsForCommits: on a slow link the planners hash and
// prefill old copies much faster than the stream reaches them. The temp
// files they fill must stay within the plan budget: a primary that lists
// every local file with a new mtime cannot make the replica write a
// second copy of its volume ahead of the stream.
func TestPlanningWaitsForCommits(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	const n, size, budget = 12, 4 << 20, 16 << 20
	changedCopies(t, prim, repl, n, size, 512<<10)
	c := dial(t, startServer(t, map[string]string{"v": prim}, nil), func(c net.Conn) net.Conn { return slowConn{c} })
	c.planBudget = budget
	stop := peakSampler(filepath.Join(repl, "d"))
	st, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	peak, peakN := stop()
	mustDo(t, err)
	t.Logf("peak temp bytes %.1f MiB in %d files (budget %d MiB); %v", float64(peak)/(1<<20), peakN, budget>>20, st.Duration)
	if peak > budget+1<<20 {
		t.Errorf("temp files took %.1f MiB at once, over the plan budget of %d MiB", float64(peak)/(1<<20), budget>>20)
	}
	assertSameTree(t, prim, repl)
}

// TestPlanBudgetWithIndexOutOfOrder: a primary may send the index in
// any order (the replica sorts it). Sent backwards, the early planners
// spend the plan budget on the last files while the first ones find
// none; those early plans must still reach the stream before anything
// waits for the budget, or the sync waits for ever.
func TestPlanBudgetWithIndexOutOfOrder(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	const n = 12
	changedCopies(t, prim, repl, n, 4<<20, 256<<10)
	m := &memFiles{files: map[string][]byte{}, mtime: 2e18}
	for i := range n {
		name := fmt.Sprintf("d/f%02d.img", i)
		data, err := os.ReadFile(filepath.Join(prim, name))
		mustDo(t, err)
		m.files[name] = data
	}
	answer := func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool {
		if typ != msgIndex {
			return m.answer(conn, typ, p, fw)
		}
		entries := m.entries()
		var b enc
		b.u32(uint32(len(entries)))
		encodeEntry(&b, &entries[0]) // the directory first, then the files backwards
		for i := len(entries) - 1; i > 0; i-- {
			encodeEntry(&b, &entries[i])
		}
		fw.write(msgEntries, b.b)
		var end enc
		end.u32(uint32(len(entries)))
		fw.write(msgIndexEnd, end.b)
		return true
	}
	c := dial(t, scriptedPrimary(t, answer), nil)
	c.planBudget = 16 << 20
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Sync(ctx, "v", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("d/f%02d.img", i)
		got, err := os.ReadFile(filepath.Join(repl, name))
		mustDo(t, err)
		if !bytes.Equal(got, m.files[name]) {
			t.Fatalf("%s differs from the primary's", name)
		}
	}
}

// TestFailedBasisReadIsFetched: a candidate block whose old bytes cannot
// be read when its sums arrive (the old copy was truncated, then written
// again before the next block's sums) must still be fetched: before, it
// was forgotten and the file was committed with zeros in its place.
func TestFailedBasisReadIsFetched(t *testing.T) {
	repl := t.TempDir()
	bs := BlockSizeFor(1 << 20)
	a := randBytes(t, 2*bs)
	b := bytes.Clone(a)
	b[10] ^= 1
	b[bs+10] ^= 1
	m := &memFiles{files: map[string][]byte{"f": a}, mtime: 1e18}
	local := filepath.Join(repl, "f")
	answer := func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool {
		if typ != msgSums {
			return m.answer(conn, typ, p, fw)
		}
		m.sendSums(p, fw, func(k int) {
			switch k {
			case 0: // the local copy is truncated before its sums are read ...
				mustDo(t, os.Truncate(local, 0))
			case 1: // ... and written again before the next block's
				fw.flush()
				time.Sleep(300 * time.Millisecond)
				mustDo(t, os.WriteFile(local, a, 0o644))
			}
		})
		return true
	}
	c := dial(t, scriptedPrimary(t, answer), nil)
	if _, err := c.Sync(context.Background(), "v", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	// Now the replica's hash cache knows f: the next plan takes no local
	// sums and readSums reads the old copy itself.
	m.files["f"], m.mtime = b, 2e18
	st, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", st)
	got, err := os.ReadFile(local)
	mustDo(t, err)
	if !bytes.Equal(got, b) && st.Stale == 0 {
		zeros := bytes.Count(got[:bs], []byte{0})
		t.Fatalf("f was committed with the wrong content (%d zero bytes in block 0) and reported synced", zeros)
	}
}

// TestStreamErrorStopsPlanning: once the stream fails (here the primary
// answers the first request with a frame of the wrong type), the planners
// stop hashing and prefilling, Sync returns, and the temp files the
// planners made are gone. Planning is slowed down (50 ms a file) so that
// it is still going on when the stream fails.
func TestStreamErrorStopsPlanning(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	const n = 24
	changedCopies(t, prim, repl, n, 2<<20, 64<<10)
	m := &memFiles{files: map[string][]byte{}, mtime: 2e18}
	for i := range n {
		name := fmt.Sprintf("d/f%02d.img", i)
		data, err := os.ReadFile(filepath.Join(prim, name))
		mustDo(t, err)
		m.files[name] = data
	}
	answer := func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool {
		if typ == msgIndex {
			m.sendIndex(fw)
			return true
		}
		fw.write(msgIndexEnd, []byte{0, 0, 0, 0}) // not an answer to a data request
		return true
	}
	c := dial(t, scriptedPrimary(t, answer), nil)
	var planned atomic.Int32
	c.hook = func(ev syncEvent, p string) {
		if ev == evPlan {
			planned.Add(1)
			time.Sleep(50 * time.Millisecond) // a slow disk, or big files
		}
	}
	start := time.Now()
	_, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("Sync = %v, want a protocol error", err)
	}
	_, temps := tempBytes(filepath.Join(repl, "d"))
	t.Logf("returned after %v; %d of %d files planned; %d temp files left", time.Since(start), planned.Load(), n, temps)
	if temps != 0 {
		t.Errorf("a failed sync left %d temp files its planners made", temps)
	}
	if planned.Load() > n/2 {
		t.Errorf("%d of %d files were planned after the stream failed", planned.Load(), n)
	}
}

// inSendRequests reports whether a goroutine is still in sendRequests.
func inSendRequests() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*receiver).sendRequests")
}

// TestRemoteErrorBreaksConnection: the primary refuses one BLOCKS request
// while others are pipelined behind it. The answers in flight are not
// read, so the connection is out of step: the next Sync on the same
// Client must not read them as an index and blame the primary; it fails
// saying the connection is closed, and a new connection syncs.
func TestRemoteErrorBreaksConnection(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	for i := range 10 {
		writeFile(t, filepath.Join(prim, fmt.Sprintf("f%02d", i)), randBytes(t, 10<<10), 0o644)
	}
	want := fingerprint(getCerts(t).client)
	var calls atomic.Int32
	addr := startServer(t, map[string]string{"v": prim}, func(o *ServerOptions) {
		o.Authorize = func(p PeerInfo, v string) bool {
			n := calls.Add(1)
			return p.Fingerprint == want && n != 3 // one BLOCKS request refused
		}
	})
	c := dial(t, addr, nil)
	_, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("first Sync = %v, want the refusal", err)
	}
	if inSendRequests() {
		t.Error("Sync returned while its request sender still runs")
	}
	_, err = c.Sync(context.Background(), "v", repl, SyncOptions{})
	t.Logf("second Sync on the same client: %v", err)
	if errors.Is(err, ErrProtocol) || err == nil || !strings.Contains(err.Error(), "connection is closed") {
		t.Fatalf("second Sync = %v, want an error saying the connection is closed", err)
	}
	if _, err := dial(t, addr, nil).Sync(context.Background(), "v", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
}

// TestStalledPrimary: a primary that stops sending in the middle of an
// answer makes Sync fail after the idle timeout, not hang.
func TestStalledPrimary(t *testing.T) {
	m := &memFiles{files: map[string][]byte{"f": bytes.Repeat([]byte("x"), 3<<20)}, mtime: 1e18}
	tests := []struct {
		name  string
		stall func(typ byte, fw *frameWriter) bool // true: stalled instead of answering
	}{
		{"before the index", func(typ byte, fw *frameWriter) bool { return typ == msgIndex }},
		{"in block data", func(typ byte, fw *frameWriter) bool {
			if typ != msgBlocks {
				return false
			}
			var h enc
			h.u64(0)
			fw.write(msgBlockData, h.b, m.files["f"][:64<<10])
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := scriptedPrimary(t, func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool {
				if tt.stall(typ, fw) {
					return true // and never answer
				}
				return m.answer(conn, typ, p, fw)
			})
			raw, err := net.Dial("tcp", addr)
			mustDo(t, err)
			c, err := Dial(context.Background(), tls.Client(raw, clientTLS(t)), ClientOptions{IdleTimeout: time.Second})
			mustDo(t, err)
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
			defer cancel()
			start := time.Now()
			_, err = c.Sync(ctx, "v", t.TempDir(), SyncOptions{})
			took := time.Since(start)
			t.Logf("Sync = %v after %v", err, took)
			if err == nil || ctx.Err() != nil || took > 5*time.Second {
				t.Fatalf("Sync from a stalled primary = %v after %v, want an idle timeout after about 1 s", err, took)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("error %v does not say the read timed out", err)
			}
		})
	}
}

// TestUpToDateTargetTempIsDeleted: an interrupted temp file whose target
// is in the index but already current is deleted, not kept forever.
func TestUpToDateTargetTempIsDeleted(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(prim, "f"), randBytes(t, 300<<10), 0o644)
	c := dial(t, startServer(t, map[string]string{"v": prim}, nil), nil)
	_, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	mustDo(t, err)
	tmp := filepath.Join(repl, InternalPrefix+"f.tmp")
	writeFile(t, tmp, randBytes(t, 100<<10), 0o600) // left by an interrupted sync
	_, err = c.Sync(context.Background(), "v", repl, SyncOptions{})
	mustDo(t, err)
	if _, err := os.Lstat(tmp); !os.IsNotExist(err) {
		t.Fatalf("the temp file of an up-to-date file is still there: %v", err)
	}
	assertSameTree(t, prim, repl)
}
