package volsync

import (
	"os"
	"sync"
	"sync/atomic"
)

// basisBlocks hashes p's basis (its old copy) with the primary's block
// size and returns the hashes, setting p.basisSize; nil when the basis
// cannot be read as a singly linked regular file. On the way, every block
// that already holds the primary's data at its own offset is written into
// the temp file and marked in p.have, so an edited file is read and hashed
// once instead of once to plan and once more to copy. The blocks are
// known from the hash cache when it has the basis: then only the blocks to
// copy are read, each checked against its hash again. The sub-block sums
// of blocks that differ at their offset are kept for readSums. A dry run
// writes nothing. When planning is to stop (r.quit), it stops between
// blocks and returns nil.
func (r *receiver) basisBlocks(p *filePlan) []Hash {
	bs := p.en.BlockSize
	key := r.cacheKey(p.basis)
	if r.opts.DryRun {
		size, _, blocks, err := r.c.cache.hashFile(r.root, key, p.basis, bs)
		if err != nil {
			return nil
		}
		p.basisSize = size
		return blocks
	}
	src, err := r.openBasis(p.basis)
	if err != nil {
		return nil
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return nil
	}
	size, mtime := info.Size(), info.ModTime().UnixNano()
	blocks, cached := r.c.cache.get(key, size, mtime, bs)
	if !cached {
		blocks = make([]Hash, blockCount(size, bs))
		p.localSums = make([][]byte, len(p.en.Blocks))
	}
	sc := &basisScan{r: r, p: p, src: src, size: size, cached: cached, blocks: blocks,
		pf: &prefill{r: r, p: p}, shortAt: blockCount(size, bs)}
	defer sc.pf.close()
	inParts(blockCount(size, bs), partsFor(size), sc.part)
	if sc.stopped.Load() {
		return nil // the plan is dropped
	}
	p.basisSize = size
	if sc.shortAt < blockCount(size, bs) {
		// It shrank while it was read: what was hashed before stands
		// (every block copied was checked), the rest is fetched.
		if cached {
			return blocks
		}
		p.basisSize = int64(sc.shortAt) * int64(bs)
		return blocks[:sc.shortAt]
	}
	if !cached {
		r.c.cache.put(key, size, mtime, bs, blocks)
	}
	return blocks
}

// basisScan is basisBlocks' state, shared by the parts of a basis hashed
// at once.
type basisScan struct {
	r       *receiver
	p       *filePlan
	src     *os.File
	size    int64
	cached  bool   // blocks came from the hash cache
	blocks  []Hash // the basis's, by block
	pf      *prefill
	mu      sync.Mutex
	shortAt int // the first block that could not be read
	stopped atomic.Bool
}

// part reads blocks [lo, hi) of the basis: see basisBlocks.
func (sc *basisScan) part(lo, hi int) {
	p, bs := sc.p, sc.p.en.BlockSize
	buf := getHashBuf(bs)
	defer putHashBuf(buf)
	wb := writeback{k: sc.r.kick}
	for i := lo; i < hi; i++ {
		if sc.r.quitting() {
			sc.stopped.Store(true)
			return
		}
		copyIt := i < len(p.en.Blocks) && !p.have[i] && blockLen(sc.size, bs, i) == blockLen(p.en.Size, bs, i)
		if sc.cached && !(copyIt && sc.blocks[i] == p.en.Blocks[i]) {
			continue
		}
		n, off := blockLen(sc.size, bs, i), int64(i)*int64(bs)
		if _, err := sc.src.ReadAt(buf[:n], off); err != nil {
			sc.mu.Lock()
			sc.shortAt = min(sc.shortAt, i)
			sc.mu.Unlock()
			return
		}
		h := blockSum(buf[:n])
		if !sc.cached {
			sc.blocks[i] = h
		}
		switch {
		case copyIt && h == p.en.Blocks[i]:
			sc.pf.write(i, buf[:n], off, &wb)
		case !sc.cached && i < len(p.en.Blocks) && !p.have[i] && h != p.en.Blocks[i]:
			// Likely a candidate for a sub-block comparison: its sums
			// now save reading and hashing it again (see readSums).
			p.localSums[i] = appendSubSums(nil, buf[:n], subBlockSize(bs))
		}
	}
}

// prefill writes blocks into p's temp file during planning, from several
// goroutines: the interrupted temp file checkTemp verified, when it is
// still that inode with one link, or else a new one (whose inode openTemp
// then expects). Any failure just stops it: the blocks not marked in
// p.have are copied or fetched later as usual.
type prefill struct {
	r      *receiver
	p      *filePlan
	once   sync.Once
	f      *os.File // nil when it could not be opened
	failed atomic.Bool
}

// write stores block i (b at off) and marks it; wb is the caller's.
func (pf *prefill) write(i int, b []byte, off int64, wb *writeback) {
	pf.once.Do(func() { pf.f = pf.open() })
	if pf.f == nil || pf.failed.Load() {
		return
	}
	if _, err := pf.f.WriteAt(b, off); err != nil {
		pf.failed.Store(true)
		return
	}
	pf.p.have[i] = true
	wb.wrote(pf.f, len(b))
}

func (pf *prefill) open() *os.File {
	r, p := pf.r, pf.p
	if p.tempID != (fileID{}) {
		f, info, err := openRegular(r.root, nil, p.tmp, os.O_RDWR)
		if err == nil && idOf(info) == p.tempID && linksOf(info) == 1 {
			return f
		}
		if f != nil {
			f.Close()
		}
		return nil // openTemp finds out what happened to it
	}
	f, info, err := r.createTemp(p.tmp, nil)
	if err != nil {
		return nil
	}
	p.tempID = idOf(info)
	r.madeTemp(p)
	return f
}

func (pf *prefill) close() {
	if pf.f != nil {
		pf.f.Close()
	}
}
