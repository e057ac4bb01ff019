package volsync

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
)

// filePlan says where each block of a file to transfer comes from.
type filePlan struct {
	en        *Entry
	tmp       string
	tempID    fileID // the interrupted temp file checkTemp verified, if any
	basis     string
	basisSize int64
	have      []bool              // block already correct in the temp file
	copy      map[int]int64       // block → offset in the basis file
	fetch     []int               // whole blocks requested from the primary, in order
	cands     []int               // blocks that differ from the basis at the same offset
	partial   map[int]*patchBlock // blocks rebuilt from the basis plus fetched sub-blocks
	localSums [][]byte            // by block: sub-block sums of a basis block that differs at its offset, nil: not taken
	spans     []span              // byte ranges requested, in file order
	stale     bool                // the file changed on either side during the sync
	drained   bool                // its block stream was (or is being) read
	share     *share              // its part of the plan budget, nil: none (see budget.go)
}

// plan works out the blocks of en that must be fetched (it runs on
// several goroutines and so counts nothing): blocks the basis holds at
// their own offset are copied into the temp file while it is hashed (see
// basisBlocks), blocks found elsewhere in the basis are copied later,
// blocks the basis also has at the same offset are candidates for a
// sub-block comparison, the rest are fetched.
func (r *receiver) plan(en *Entry) *filePlan {
	return r.planWith(en, r.basis[en.Path], r.temps[en.Path])
}

// planWith is plan with the basis and the interrupted temp file ("":
// none) given.
func (r *receiver) planWith(en *Entry, basis, temp string) *filePlan {
	r.c.event(evPlan, en.Path)
	p := &filePlan{en: en, tmp: tempPath(en.Path), basis: basis, copy: map[int]int64{}}
	p.have = make([]bool, len(en.Blocks))
	if temp != "" && r.root != nil {
		r.checkTemp(temp, p)
	}
	var local map[Hash]int64
	if p.basis != "" {
		blocks := r.basisBlocks(p)
		local = make(map[Hash]int64, len(blocks))
		for i := len(blocks) - 1; i >= 0; i-- {
			local[blocks[i]] = int64(i) * int64(en.BlockSize)
		}
	}
	for i, h := range en.Blocks {
		switch off, ok := local[h]; {
		case p.have[i]:
		case ok:
			p.copy[i] = off
		case local != nil && int64(i)*int64(en.BlockSize) < p.basisSize:
			p.cands = append(p.cands, i)
		default:
			p.fetch = append(p.fetch, i)
		}
	}
	if len(p.cands) == 0 {
		p.localSums = nil // only readSums uses them
	}
	return p
}

// readyQueue bounds the plans waiting for the request sender.
const readyQueue = 64

// transfer plans every file (hashing old copies on all cores) and, on
// one connection, asks for the sub-block sums of each planned file's
// blocks that differ and then for the data it needs, file by file as
// plans are made (see stream.go), while this goroutine reads the answers:
// small new files go to the writers, the rest is written here, and every
// finished file goes to the committer, which makes it durable and renames
// it into place (see commit.go). When the stream fails, the planners stop.
func (r *receiver) transfer() error {
	ready := make(chan *filePlan, readyQueue)
	planned := make(chan error, 1)
	go func() { planned <- r.planAll(ready) }()
	cm := r.startCommitter()
	ws := r.startWriters(cm)
	err := r.stream(ready, ws, cm)
	perr := <-planned // the planners use the replica: never return before them
	if err == nil {
		err = perr
	}
	if err != nil {
		cm.stop(nil)
		ws.abort()
	}
	if werr := ws.wait(); err == nil {
		err = werr
	}
	if err != nil {
		cm.stop(nil)
		cm.finish()
		return err
	}
	return cm.finish()
}

// writeFile assembles one file: a small new one in memory for a writer,
// any other in its temp file, which then goes to the committer. From
// here on the stream owns the file's temp file, and the file's share of
// the plan budget is given back unless the committer took the file.
func (r *receiver) writeFile(p *filePlan, ws *writers, cm *committer) error {
	r.takeTemp(p)
	if p.stale { // changed on the primary before its data was asked for
		p.share.release()
		r.markStale(p.en.Path)
		return nil
	}
	if i := p.uncovered(); i >= 0 { // the stream fails: the connection is closed
		p.share.release()
		return fmt.Errorf("plan of %s has no source for block %d (a bug; the file is not committed)", p.en.Path, i)
	}
	if ws.takes(p) {
		return r.writeSmall(p, ws)
	}
	handed, err := r.writeTemp(p, cm)
	if !handed {
		p.share.release()
	}
	return err
}

// writeTemp assembles a file in its temp file and hands it to the
// committer (handed) unless it failed or went stale.
func (r *receiver) writeTemp(p *filePlan, cm *committer) (handed bool, err error) {
	f, id, err := r.openTemp(p)
	if err != nil {
		return false, r.tempFailed(p, err)
	}
	err = r.fill(f, p)
	if err == nil && !p.stale {
		err = r.finishTemp(f, p)
	}
	big := p.en.Size >= syncAlone && err == nil && !p.stale
	if !big {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	if errors.Is(err, ErrProtocol) {
		r.root.Remove(p.tmp)
		r.c.log.Warn("sync rejected a file from the primary", "volume", r.volume, "path", p.en.Path, "err", err)
	}
	if err != nil || p.stale {
		if big {
			f.Close()
		}
		if p.stale {
			r.markStale(p.en.Path)
		}
		return false, err
	}
	r.c.event(evWritten, p.en.Path)
	ff := finished{p: p, id: id}
	if big {
		ff.f = f // the committer fsyncs and closes it
	}
	err = cm.add(ff)
	return err == nil, err
}

// tempFailed handles a temp file that could not be opened: the file is
// retried next pass when the temp file to resume was replaced; any other
// failure is an error. Its block stream is drained either way.
func (r *receiver) tempFailed(p *filePlan, err error) error {
	changed := errors.Is(err, errChanged)
	if changed {
		err = nil
	} else {
		err = fmt.Errorf("create temp file for %s: %w", p.en.Path, err)
	}
	err = r.drainAfter(p, err)
	if changed {
		p.stale = true
		r.markStale(p.en.Path)
	}
	return err
}

// writeSmall receives a small new file into memory, verified, and queues
// it for a writer.
func (r *receiver) writeSmall(p *filePlan, ws *writers) error {
	data := make(memFile, p.en.Size)
	if len(p.spans) > 0 {
		p.drained = true // receiveSpans reads the stream to its end
		if err := r.receiveSpans(data, nil, p); err != nil {
			if errors.Is(err, ErrProtocol) {
				r.c.log.Warn("sync rejected a file from the primary", "volume", r.volume, "path", p.en.Path, "err", err)
			}
			return err
		}
	}
	if p.stale {
		r.markStale(p.en.Path)
		return nil
	}
	return ws.submit(p, data)
}

// drainAfter reads and drops a file's block stream after a local error
// (or a local change that makes the file stale), so the connection stays
// in step, and returns err. It must run before the stream was read: a
// file that has spans and reached writeFile fresh had its data requested.
func (r *receiver) drainAfter(p *filePlan, err error) error {
	if len(p.spans) == 0 || p.drained {
		return err
	}
	p.drained = true
	for {
		typ, _, rerr := r.c.recv()
		if rerr != nil {
			return errors.Join(err, rerr)
		}
		if typ == msgBlocksEnd || typ == msgError {
			return err
		}
	}
}

// fill writes reused and fetched blocks into the temp file.
func (r *receiver) fill(f *os.File, p *filePlan) error {
	var src *os.File
	if p.basis != "" && (len(p.copy) > 0 || len(p.partial) > 0) {
		var err error
		if src, err = r.openBasis(p.basis); err != nil {
			err = r.drainAfter(p, nil)
			p.stale = true // the old copy is gone: retry next pass
			return err
		}
		defer src.Close()
	}
	if len(p.copy) > 0 {
		ok, err := r.copyBlocks(f, src, p)
		if err != nil || !ok {
			err = r.drainAfter(p, err)
			p.stale = p.stale || !ok
			return err
		}
	}
	kept := int64(0)
	for i, ok := range p.have {
		if ok {
			kept += int64(blockLen(p.en.Size, p.en.BlockSize, i))
		}
	}
	if kept > 0 {
		r.landed(kept)
	}
	if len(p.spans) == 0 {
		return nil
	}
	p.drained = true // receiveSpans reads the stream to its end
	return r.receiveSpans(f, src, p)
}

// copyBlocks copies blocks from the local basis file, checking each hash.
// It returns false when the basis no longer holds a block it had.
func (r *receiver) copyBlocks(f, src *os.File, p *filePlan) (bool, error) {
	bs := p.en.BlockSize
	buf := getBuf(bs)
	defer putBuf(buf)
	idx := make([]int, 0, len(p.copy))
	for i := range p.copy {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	wb := writeback{k: r.kick}
	for _, i := range idx {
		n := blockLen(p.en.Size, bs, i)
		if _, err := src.ReadAt(buf[:n], p.copy[i]); err != nil || blockSum(buf[:n]) != p.en.Blocks[i] {
			return false, nil // the local file changed under us: retry next pass
		}
		if _, err := f.WriteAt(buf[:n], int64(i)*int64(bs)); err != nil {
			return false, fmt.Errorf("write %s: %w", p.tmp, err)
		}
		wb.wrote(f, n)
		r.landed(int64(n))
	}
	return true, nil
}

// receiveSpans reads one file's data stream: chunks must arrive in the
// order of the requested spans. Whole blocks are hashed and written as
// they come; patched blocks are assembled in memory (see patch.go).
func (r *receiver) receiveSpans(dst io.WriterAt, src *os.File, p *filePlan) error {
	a := &assembler{r: r, dst: dst, src: src, p: p, h: newBlockHash(), block: -1, wb: writeback{k: r.kick}}
	defer a.release()
	if f, ok := dst.(*os.File); ok && len(p.spans) >= 2 {
		a.bw = r.newBlockWriter(p, f)
	}
	err := a.receive()
	if a.bw != nil {
		if werr := a.bw.wait(); err == nil {
			err = werr
		}
	}
	return err
}

// receive reads one file's data stream into the assembler.
func (a *assembler) receive() error {
	r, p := a.r, a.p
	for {
		typ, data, err := r.c.recv()
		if err != nil {
			return fmt.Errorf("receive %s: %w", p.en.Path, err)
		}
		switch typ {
		case msgBlocksEnd:
			if len(data) != 1 || data[0] > blocksStale {
				return protoErr("bad end of blocks for %q", p.en.Path)
			}
			if data[0] == blocksStale {
				p.stale = true
				return nil
			}
			if a.next != len(p.spans) {
				return protoErr("primary sent %d of %d byte ranges of %q", a.next, len(p.spans), p.en.Path)
			}
			return nil
		case msgError:
			return &remoteError{fmt.Errorf("blocks of %s: %w", p.en.Path, decodeError(data))}
		case msgBlockData:
		default:
			return protoErr("unexpected message type 0x%02x in block data", typ)
		}
		if err := a.chunk(data); err != nil {
			return err
		}
	}
}

func verifyBlock(h hash.Hash, p *filePlan, i int) error {
	var got Hash
	h.Sum(got[:0])
	if got != p.en.Blocks[i] {
		return protoErr("block %d of %q does not match its hash in the index", i, p.en.Path)
	}
	return nil
}

func beUint32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// syncAlone is the size from which a file is fsynced on its own; smaller
// files are flushed together with one syncfs per batch (see commit.go).
const syncAlone = 1 << 20

// finishTemp truncates the temp file and sets its mode, owner and times.
// Making it durable is the committer's job.
func (r *receiver) finishTemp(f *os.File, p *filePlan) error {
	en := p.en
	if err := f.Truncate(en.Size); err != nil {
		return fmt.Errorf("truncate %s: %w", p.tmp, err)
	}
	if os.Geteuid() == 0 {
		if err := f.Chown(int(en.UID), int(en.GID)); err != nil {
			return fmt.Errorf("chown %s: %w", p.tmp, err)
		}
	}
	if err := f.Chmod(goMode(en.Mode)); err != nil {
		return fmt.Errorf("chmod %s: %w", p.tmp, err)
	}
	return setTimes(f, en.ModTime)
}

// cacheKey keys the client's hash cache by replica directory and path.
func (r *receiver) cacheKey(p string) string { return r.root.Name() + "\x00" + p }
