package volsync

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
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
	spans     []span              // byte ranges requested, in file order
	stale     bool                // the file changed on either side during the sync
	drained   bool                // its block stream was (or is being) read
}

// plan works out the blocks of en that must be fetched (it runs on
// several goroutines and so counts nothing): blocks found
// anywhere in the basis are copied, blocks the basis also has at the same
// offset are candidates for a sub-block comparison, the rest are fetched.
func (r *receiver) plan(en *Entry) *filePlan {
	p := &filePlan{en: en, tmp: tempPath(en.Path), basis: r.basis[en.Path], copy: map[int]int64{}}
	p.have = make([]bool, len(en.Blocks))
	if t, ok := r.temps[en.Path]; ok && r.root != nil {
		r.checkTemp(t, p)
	}
	var local map[Hash]int64
	if p.basis != "" {
		size, _, blocks, err := r.c.cache.hashFile(r.root, r.cacheKey(p.basis), p.basis, en.BlockSize)
		if err == nil {
			p.basisSize = size
			local = make(map[Hash]int64, len(blocks))
			for i := len(blocks) - 1; i >= 0; i-- {
				local[blocks[i]] = int64(i) * int64(en.BlockSize)
			}
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
	return p
}

// transfer plans every file (hashing old copies on all cores), asks for
// sub-block sums of the blocks that differ in one pipelined round, then
// sends the data requests from a goroutine while this one writes the files
// as the data streams in.
func (r *receiver) transfer() error {
	plans, err := r.planAll()
	if err != nil {
		return err
	}
	if err := r.refine(plans); err != nil {
		return err
	}
	quit := make(chan struct{})
	defer close(quit)
	ready := make(chan *filePlan, len(plans))
	errc := make(chan error, 1)
	go func() { errc <- r.requestAll(plans, ready, quit) }()
	for p := range ready {
		if err := r.writeFile(p); err != nil {
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	return r.flushBatch()
}

// requestAll sends each file's data request and hands the plan on.
func (r *receiver) requestAll(plans []*filePlan, ready chan<- *filePlan, quit <-chan struct{}) error {
	defer close(ready)
	for _, p := range plans {
		if len(p.spans) > 0 && !p.stale {
			req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, ranges: mergeSpans(p.spans)}
			if err := r.c.send(msgBlocks, encodeBlocksRequest(&req)); err != nil {
				return fmt.Errorf("request blocks of %s: %w", p.en.Path, err)
			}
		}
		// Flush when the writer is about to wait for this file's data.
		if len(ready) == 0 {
			if err := r.c.flush(); err != nil {
				return fmt.Errorf("request blocks of %s: %w", p.en.Path, err)
			}
		}
		select {
		case ready <- p:
		case <-quit:
			return nil
		}
	}
	return r.c.flush()
}

// writeFile assembles one file in its temp file and queues the rename.
func (r *receiver) writeFile(p *filePlan) error {
	if p.stale { // changed on the primary before its data was asked for
		r.stale = append(r.stale, p.en.Path)
		return nil
	}
	f, id, err := r.openTemp(p)
	if err != nil {
		changed := errors.Is(err, errChanged) // the temp file to resume was replaced
		if changed {
			err = nil
		} else {
			err = fmt.Errorf("create temp file for %s: %w", p.en.Path, err)
		}
		err = r.drainAfter(p, err)
		if changed {
			p.stale = true
			r.stale = append(r.stale, p.en.Path)
		}
		return err
	}
	err = r.fill(f, p)
	if err == nil && !p.stale {
		err = r.finishTemp(f, p)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if errors.Is(err, ErrProtocol) {
		r.root.Remove(p.tmp)
		r.c.log.Warn("sync rejected a file from the primary", "volume", r.volume, "path", p.en.Path, "err", err)
	}
	if err != nil || p.stale {
		if p.stale {
			r.stale = append(r.stale, p.en.Path)
		}
		return err
	}
	return r.queueRename(p, id)
}

// queueRename counts a finished temp file (inode id) and queues its rename.
func (r *receiver) queueRename(p *filePlan, id fileID) error {
	// The file now holds exactly the indexed blocks: remember them so the
	// next change to it needs no local hashing.
	r.c.cache.put(r.cacheKey(p.en.Path), p.en.Size, p.en.ModTime, p.en.BlockSize, p.en.Blocks)
	r.filesDone++
	r.st.FilesTransferred++
	r.batch = append(r.batch, pendingRename{p.tmp, p.en.Path, p.en.Size >= syncAlone, id})
	r.batchBytes += p.en.Size
	r.report(p.en.Path)
	if len(r.batch) >= 512 || r.batchBytes >= 64<<20 {
		return r.flushBatch()
	}
	return nil
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
	for i, ok := range p.have {
		if ok {
			r.bytesDone += int64(blockLen(p.en.Size, p.en.BlockSize, i))
		}
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
	var wb writeback
	for _, i := range idx {
		n := blockLen(p.en.Size, bs, i)
		if _, err := src.ReadAt(buf[:n], p.copy[i]); err != nil || sha256.Sum256(buf[:n]) != p.en.Blocks[i] {
			return false, nil // the local file changed under us: retry next pass
		}
		if _, err := f.WriteAt(buf[:n], int64(i)*int64(bs)); err != nil {
			return false, fmt.Errorf("write %s: %w", p.tmp, err)
		}
		wb.wrote(f, n)
		r.bytesDone += int64(n)
	}
	return true, nil
}

// receiveSpans reads one file's data stream: chunks must arrive in the
// order of the requested spans. Whole blocks are hashed and written as
// they come; patched blocks are assembled in memory (see patch.go).
func (r *receiver) receiveSpans(f, src *os.File, p *filePlan) error {
	a := &assembler{r: r, f: f, src: src, p: p, h: sha256.New(), block: -1}
	defer a.release()
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
		return protoErr("block %d of %q does not match its SHA-256 from the index", i, p.en.Path)
	}
	return nil
}

func beUint32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// syncAlone is the size from which a file is fsynced on its own; smaller
// files are flushed together with one syncfs per batch.
const syncAlone = 1 << 20

// finishTemp truncates the temp file and sets its mode, owner and times.
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
	if err := setTimes(f, en.ModTime); err != nil {
		return err
	}
	if en.Size >= syncAlone {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", p.tmp, err)
		}
	}
	return nil
}

// pendingRename is a finished temp file waiting for its rename.
type pendingRename struct {
	tmp, target string
	synced      bool
	id          fileID // the temp file written; only it is renamed
}

// flushBatch makes the batch durable, renames every temp file over its
// target and fsyncs the directories that changed.
func (r *receiver) flushBatch() error {
	if len(r.batch) == 0 {
		return nil
	}
	needFS := false
	for _, b := range r.batch {
		needFS = needFS || !b.synced
	}
	if needFS {
		if err := syncFS(r.root); err != nil {
			return err
		}
	}
	dirs := map[string]bool{}
	for _, b := range r.batch {
		if !r.stillOurs(b) {
			continue
		}
		if err := r.root.Rename(b.tmp, b.target); err != nil {
			return fmt.Errorf("rename %s into place: %w", b.target, err)
		}
		dirs[parentOf(b.target)] = true
	}
	r.batch, r.batchBytes = r.batch[:0], 0
	for d := range dirs {
		if err := syncDir(r.root, d); err != nil {
			return err
		}
	}
	return nil
}

// report calls the progress callback.
func (r *receiver) report(path string) {
	if r.opts.Progress == nil {
		return
	}
	r.opts.Progress(Progress{BytesDone: r.bytesDone, BytesTotal: r.bytesTotal, FilesDone: r.filesDone, FilesTotal: len(r.files), Path: path})
}

// cacheKey keys the client's hash cache by replica directory and path.
func (r *receiver) cacheKey(p string) string { return r.root.Name() + "\x00" + p }
