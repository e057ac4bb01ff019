package volsync

import (
	"sync"
)

// The replica plans files ahead of the stream: it hashes each old copy and
// writes the blocks it keeps into the file's temp file (see prefill.go).
// Unbounded, a primary that lists every local file with a new mtime would
// have the replica write a second copy of its whole volume before the
// stream reached the first file. So a file with an old copy is planned
// only once it holds a share of the pass's plan budget, and gives it back
// when it is committed (renamed into place) or dropped; planners wait
// while the budget is spent. A file counts its size, but at most half the
// budget, so one big file can be planned while the one before it commits.
// New files need no share: only the stream writes them, and the
// committer's batch limits bound what waits for a flush.

// Plan budget: temp bytes and files planned but not yet committed.
const (
	maxPlannedBytes = 128 << 20
	maxPlannedFiles = 1024
)

// Hashing buffers: every goroutine that hashes an old copy or an
// interrupted temp file holds a block buffer, and the block size comes
// from the primary (up to 16 MiB). Planners run on every core, each
// hashing a big file in parts on every core, and several clients may
// sync at once, so the buffers in use are bounded process-wide.
const maxHashBufBytes = 64 << 20

var hashBufs = newGate(maxHashBufBytes, 1<<30)

// getHashBuf returns a block buffer of n bytes for hashing, waiting while
// maxHashBufBytes are in use; putHashBuf gives it back.
func getHashBuf(n int) []byte {
	hashBufs.acquire(int64(n), nil)
	return getBuf(n)
}

func putHashBuf(b []byte) {
	n := len(b)
	putBuf(b)
	hashBufs.release(int64(n))
}

// gate is a semaphore counting bytes and holders. Anything fits an empty
// gate, so a weight over the limit waits until it holds the gate alone.
type gate struct {
	mu             sync.Mutex
	bytes, max     int64
	holders, maxN  int
	wake           chan struct{} // closed and replaced by each release
	peak, peakHeld int64         // the most bytes and holders at once (for tests)
}

func newGate(maxBytes int64, maxHolders int) *gate {
	return &gate{max: maxBytes, maxN: maxHolders, wake: make(chan struct{})}
}

// tryAcquire takes w bytes when they fit now.
func (g *gate) tryAcquire(w int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.takeLocked(w)
}

// acquire takes w bytes, waiting for releases; false when quit was
// closed first (a nil quit waits for ever).
func (g *gate) acquire(w int64, quit <-chan struct{}) bool {
	for {
		g.mu.Lock()
		if g.takeLocked(w) {
			g.mu.Unlock()
			return true
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-quit:
			return false
		}
	}
}

func (g *gate) takeLocked(w int64) bool {
	if g.holders > 0 && (g.bytes+w > g.max || g.holders >= g.maxN) {
		return false
	}
	g.bytes += w
	g.holders++
	g.peak, g.peakHeld = max(g.peak, g.bytes), max(g.peakHeld, int64(g.holders))
	return true
}

// release gives back w bytes taken by one holder.
func (g *gate) release(w int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.bytes -= w
	g.holders--
	close(g.wake)
	g.wake = make(chan struct{})
}

// share is a file's part of the plan budget; release gives it back once.
type share struct {
	g    *gate
	w    int64
	once sync.Once
}

func (s *share) release() {
	if s != nil {
		s.once.Do(func() { s.g.release(s.w) })
	}
}

// reserve takes en's share of the plan budget before en is planned with
// an old copy; wait says whether to wait for one. It returns false when
// none was taken: no wait and no room, or the transfer is ending.
func (r *receiver) reserve(en *Entry, wait bool) (*share, bool) {
	w := min(en.Size, r.budget.max/2)
	if !wait {
		if r.budget.tryAcquire(w) {
			return &share{g: r.budget, w: w}, true
		}
		return nil, false
	}
	if r.budget.acquire(w, r.quit) {
		return &share{g: r.budget, w: w}, true
	}
	return nil, false
}

// newPlanBudget is the plan budget of a pass: limit bytes (0:
// maxPlannedBytes) and maxPlannedFiles files.
func newPlanBudget(limit int64) *gate {
	if limit <= 0 {
		limit = maxPlannedBytes
	}
	return newGate(limit, maxPlannedFiles)
}
