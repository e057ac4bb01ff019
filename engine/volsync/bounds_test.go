package volsync

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// pipeClient is a Client on one end of an in-memory pipe; the other end
// is returned for the test to play the primary.
func pipeClient(t *testing.T) (*Client, net.Conn) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	clock := &readClock{conn: a}
	return &Client{conn: a, clock: clock, log: slog.New(slog.DiscardHandler), fr: newFrameReader(clock, 0), fw: newFrameWriter(a)}, b
}

// testReceiver is a receiver of one pass into dir, as pass makes it.
func testReceiver(t *testing.T, c *Client, dir string) *receiver {
	root, err := os.OpenRoot(dir)
	mustDo(t, err)
	t.Cleanup(func() { root.Close() })
	return &receiver{c: c, ctx: context.Background(), root: root, volume: "v", st: &Stats{},
		budget: newPlanBudget(0), quit: make(chan struct{}), made: map[*filePlan]bool{}}
}

// TestStreamQueuesDoNotScaleWithIndex: the stream's queues have fixed
// sizes. They were sized by the number of files, so a hostile index of
// two million entries cost about 96 MB before a single byte moved.
func TestStreamQueuesDoNotScaleWithIndex(t *testing.T) {
	c, _ := pipeClient(t)
	r := testReceiver(t, c, t.TempDir())
	r.files = make([]*Entry, DefaultMaxIndexEntries)
	ready := make(chan *filePlan)
	close(ready)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := r.stream(ready, nil, nil)
	runtime.ReadMemStats(&after)
	mustDo(t, err)
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("setting up the stream of an empty transfer allocated %d MB for %d index entries", got>>20, len(r.files))
	}
}

// TestReadSumsDropsLocalSums: the sub-block sums taken while the old copy
// was hashed are only for readSums, and are not kept with the plan.
func TestReadSumsDropsLocalSums(t *testing.T) {
	dir := t.TempDir()
	bs := BlockSizeFor(1 << 20)
	old := randBytes(t, 2*bs)
	writeFile(t, filepath.Join(dir, "f"), old, 0o644)
	c, prim := pipeClient(t)
	r := testReceiver(t, c, dir)
	en := fileEntry("f", old)
	en.Blocks = []Hash{{1}, {2}}
	sub := subBlockSize(bs)
	p := &filePlan{en: &en, tmp: tempPath("f"), basis: "f", basisSize: int64(2 * bs), cands: []int{0, 1}, copy: map[int]int64{}, have: make([]bool, 2)}
	p.localSums = [][]byte{appendSubSums(nil, old[:bs], sub), appendSubSums(nil, old[bs:], sub)}
	go func() {
		fw := newFrameWriter(prim)
		for i := range 2 {
			var e enc
			e.u32(uint32(i))
			e.b = appendSubSums(e.b, old[i*bs:(i+1)*bs], sub)
			e.b[4] ^= 1 // the first sub-block differs
			fw.write(msgSumsData, e.b)
		}
		fw.write(msgBlocksEnd, []byte{blocksOK})
		fw.flush()
	}()
	mustDo(t, r.readSums(p))
	if p.localSums != nil {
		t.Error("the plan keeps its local sums after readSums")
	}
	if len(p.partial) != 2 {
		t.Errorf("%d blocks patched, want 2", len(p.partial))
	}
}

// TestPlanUncovered: a block no source fills is found before a file is
// finished.
func TestPlanUncovered(t *testing.T) {
	plan := func(fetch []int, have []bool, copied, patched []int) *filePlan {
		p := &filePlan{en: &Entry{Blocks: make([]Hash, 4)}, fetch: fetch, have: have, copy: map[int]int64{}, partial: map[int]*patchBlock{}}
		for _, i := range copied {
			p.copy[i] = 0
		}
		for _, i := range patched {
			p.partial[i] = &patchBlock{}
		}
		return p
	}
	tests := []struct {
		name string
		p    *filePlan
		want int
	}{
		{"all fetched", plan([]int{3, 0, 1, 2}, make([]bool, 4), nil, nil), -1},
		{"every source", plan([]int{0}, []bool{false, true, false, false}, []int{2}, []int{3}), -1},
		{"a hole", plan([]int{0}, []bool{false, true, false, false}, nil, []int{3}), 2},
		{"nothing", plan(nil, make([]bool, 4), nil, nil), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.uncovered(); got != tt.want {
				t.Fatalf("uncovered() = %d, want %d", got, tt.want)
			}
		})
	}
}

// heapObjects reads the bytes of live and not yet swept heap objects.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestHashBuffersBounded: the primary picks the block size through the
// size it claims (16 MiB blocks for 16 GiB), and the replica hashes its
// old copies with it on many goroutines at once (early planners and
// planAll's, each file in parts). The block buffers they hold at once
// stay within maxHashBufBytes, whatever the number of planners.
func TestHashBuffersBounded(t *testing.T) {
	dir := t.TempDir()
	c, _ := pipeClient(t)
	r := testReceiver(t, c, dir)
	const planners = 8
	var entries []*Entry
	for i := range planners {
		name := fmt.Sprintf("f%d", i)
		f, err := os.Create(filepath.Join(dir, name))
		mustDo(t, err)
		mustDo(t, f.Truncate(40<<20)) // sparse: three 16 MiB blocks, hashed in two parts
		f.Close()
		en := &Entry{Path: name, Kind: KindFile, Mode: 0o644, Size: 16 << 30, ModTime: 1, BlockSize: BlockSizeFor(16 << 30)}
		en.Blocks = make([]Hash, blockCount(en.Size, en.BlockSize))
		for j := range en.Blocks {
			en.Blocks[j] = blockSum([]byte{byte(j)})
		}
		entries = append(entries, en)
	}
	runtime.GC()
	base := heapObjects()
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), heapObjects()))
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for _, en := range entries {
		wg.Go(func() { r.planWith(en, en.Path, "") })
	}
	wg.Wait()
	close(stop)
	<-sampled
	// Buffers go back to a sync.Pool, which may keep a few more than are
	// in use at once, so the heap is only checked loosely; the gate counts
	// the bytes held exactly.
	grew := int64(peak.Load()) - int64(base)
	t.Logf("heap grew by %d MiB while %d planners hashed with 16 MiB blocks; %d MiB of buffers held at most", grew>>20, planners, hashBufs.peak>>20)
	if grew > 5*maxHashBufBytes/2 {
		t.Errorf("the heap grew by %d MiB while hashing", grew>>20)
	}
	if hashBufs.peak > maxHashBufBytes {
		t.Errorf("%d MiB of hashing buffers were held at once, over %d MiB", hashBufs.peak>>20, maxHashBufBytes>>20)
	}
}

// TestFreeingOldFilesIsBounded: the old files renames replace are freed
// on other goroutines, each holding a descriptor, but at most maxFreeing
// at a time, however slow freeing is.
func TestFreeingOldFilesIsBounded(t *testing.T) {
	prim, repl := t.TempDir(), t.TempDir()
	const n = 24
	for i := range n {
		name := fmt.Sprintf("f%02d", i)
		writeFile(t, filepath.Join(repl, name), randBytes(t, 8<<10), 0o644)
		writeFile(t, filepath.Join(prim, name), randBytes(t, 8<<10), 0o644)
		mustDo(t, os.Chtimes(filepath.Join(prim, name), time.Now(), time.Now().Add(time.Hour)))
	}
	c := dial(t, startServer(t, map[string]string{"v": prim}, nil), nil)
	var busy, peak atomic.Int32
	c.hook = func(ev syncEvent, p string) {
		if ev != evFreeing {
			return
		}
		k := busy.Add(1)
		for old := peak.Load(); k > old && !peak.CompareAndSwap(old, k); old = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond) // a slow free (discard of a big file)
		busy.Add(-1)
	}
	st, err := c.Sync(context.Background(), "v", repl, SyncOptions{})
	mustDo(t, err)
	t.Logf("at most %d old files freed at once; %+v", peak.Load(), st)
	if peak.Load() > maxFreeing {
		t.Fatalf("%d old files were freed at once, over %d", peak.Load(), maxFreeing)
	}
	assertSameTree(t, prim, repl)
}
