package sync

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"os"
	"sort"
	"time"
)

// filePlan says where each block of a file to transfer comes from.
type filePlan struct {
	en    *Entry
	tmp   string
	basis string
	have  []bool        // block already correct in the temp file
	copy  map[int]int64 // block → offset in the basis file
	fetch []int         // blocks requested from the primary, in order
	stale bool          // the file changed on either side during the sync
}

// plan works out the blocks of en that must be fetched.
func (r *receiver) plan(en *Entry) (*filePlan, error) {
	p := &filePlan{en: en, tmp: tempPath(en.Path), basis: r.basis[en.Path], copy: map[int]int64{}}
	p.have = make([]bool, len(en.Blocks))
	if t, ok := r.temps[en.Path]; ok && r.root != nil {
		r.checkTemp(t, p)
	}
	var local map[Hash]int64
	if p.basis != "" {
		_, _, blocks, err := r.c.cache.hashFile(r.root, r.cacheKey(p.basis), p.basis, en.BlockSize)
		if err == nil {
			local = make(map[Hash]int64, len(blocks))
			for i := len(blocks) - 1; i >= 0; i-- {
				local[blocks[i]] = int64(i) * int64(en.BlockSize)
			}
		}
	}
	for i, h := range en.Blocks {
		switch off, ok := local[h]; {
		case p.have[i]:
			r.st.BlocksReused++
		case ok:
			p.copy[i] = off
			r.st.BlocksReused++
		default:
			p.fetch = append(p.fetch, i)
			r.st.BlocksRequested++
			r.st.BytesFetched += int64(blockLen(en.Size, en.BlockSize, i))
		}
	}
	return p, nil
}

// checkTemp marks the blocks of an interrupted temp file that already hold
// the right data.
func (r *receiver) checkTemp(t string, p *filePlan) {
	f, err := r.root.OpenFile(t, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return
	}
	bs := p.en.BlockSize
	buf := getBuf(bs)
	defer putBuf(buf)
	for i, want := range p.en.Blocks {
		n, off := blockLen(p.en.Size, bs, i), int64(i)*int64(bs)
		if off+int64(n) > info.Size() {
			break
		}
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			break
		}
		p.have[i] = sha256.Sum256(buf[:n]) == want
	}
}

// ranges turns sorted block indexes into runs.
func ranges(idx []int) []blockRange {
	var out []blockRange
	for _, i := range idx {
		if n := len(out); n > 0 && int(out[n-1].start+out[n-1].count) == i {
			out[n-1].count++
			continue
		}
		out = append(out, blockRange{uint32(i), 1})
	}
	return out
}

// transfer plans every file on a goroutine that also sends the block
// requests, while this goroutine writes the files as the data streams in.
func (r *receiver) transfer() error {
	plans := make(chan *filePlan, len(r.files))
	quit := make(chan struct{})
	defer close(quit)
	errc := make(chan error, 1)
	go func() { errc <- r.requestAll(plans, quit) }()
	for p := range plans {
		if err := r.writeFile(p); err != nil {
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	return r.flushBatch()
}

// requestAll plans each file and sends its block request.
func (r *receiver) requestAll(plans chan<- *filePlan, quit <-chan struct{}) error {
	defer close(plans)
	for _, en := range r.files {
		p, err := r.plan(en)
		if err != nil {
			return err
		}
		if len(p.fetch) > 0 {
			req := blocksRequest{volume: r.volume, path: en.Path, size: en.Size, mtime: en.ModTime, ranges: ranges(p.fetch)}
			if err := r.c.sendFlush(msgBlocks, encodeBlocksRequest(&req)); err != nil {
				return fmt.Errorf("request blocks of %s: %w", en.Path, err)
			}
		}
		select {
		case plans <- p:
		case <-quit:
			return nil
		}
	}
	return nil
}

// writeFile assembles one file in its temp file and queues the rename.
func (r *receiver) writeFile(p *filePlan) error {
	f, err := r.root.OpenFile(p.tmp, os.O_RDWR|os.O_CREATE|noFollow, 0o600)
	if err != nil {
		return r.drainAfter(p, fmt.Errorf("create temp file for %s: %w", p.en.Path, err))
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
	// The file now holds exactly the indexed blocks: remember them so the
	// next change to it needs no local hashing.
	r.c.cache.put(r.cacheKey(p.en.Path), p.en.Size, p.en.ModTime, p.en.BlockSize, p.en.Blocks)
	r.filesDone++
	r.st.FilesTransferred++
	r.batch = append(r.batch, pendingRename{p.tmp, p.en.Path, p.en.Size >= syncAlone})
	r.batchBytes += p.en.Size
	r.report(p.en.Path)
	if len(r.batch) >= 512 || r.batchBytes >= 64<<20 {
		return r.flushBatch()
	}
	return nil
}

// drainAfter reads and drops a file's block stream after a local error,
// so the connection stays in step, and returns err.
func (r *receiver) drainAfter(p *filePlan, err error) error {
	if len(p.fetch) == 0 {
		return err
	}
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
	if len(p.copy) > 0 {
		if err := r.copyBlocks(f, p); err != nil {
			return r.drainAfter(p, err)
		}
	}
	for i, ok := range p.have {
		if ok {
			r.bytesDone += int64(blockLen(p.en.Size, p.en.BlockSize, i))
		}
	}
	if len(p.fetch) == 0 {
		return nil
	}
	return r.receiveBlocks(f, p)
}

// copyBlocks copies blocks from the local basis file, checking each hash.
func (r *receiver) copyBlocks(f *os.File, p *filePlan) error {
	src, err := r.root.OpenFile(p.basis, os.O_RDONLY|noFollow, 0)
	if err != nil {
		p.stale = true
		return nil
	}
	defer src.Close()
	bs := p.en.BlockSize
	buf := getBuf(bs)
	defer putBuf(buf)
	idx := make([]int, 0, len(p.copy))
	for i := range p.copy {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		n := blockLen(p.en.Size, bs, i)
		if _, err := src.ReadAt(buf[:n], p.copy[i]); err != nil || sha256.Sum256(buf[:n]) != p.en.Blocks[i] {
			p.stale = true // the local file changed under us: retry next pass
			return nil
		}
		if _, err := f.WriteAt(buf[:n], int64(i)*int64(bs)); err != nil {
			return fmt.Errorf("write %s: %w", p.tmp, err)
		}
		r.bytesDone += int64(n)
	}
	return nil
}

// receiveBlocks reads one file's block stream, verifying every block.
func (r *receiver) receiveBlocks(f *os.File, p *filePlan) error {
	bs := p.en.BlockSize
	h := sha256.New()
	next, got := 0, 0 // position in p.fetch, bytes of the current block
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
			if next != len(p.fetch) {
				return protoErr("primary sent %d of %d blocks of %q", next, len(p.fetch), p.en.Path)
			}
			return nil
		case msgError:
			return &remoteError{fmt.Errorf("blocks of %s: %w", p.en.Path, decodeError(data))}
		case msgBlockData:
		default:
			return protoErr("unexpected message type 0x%02x in block data", typ)
		}
		if next >= len(p.fetch) || len(data) < 4 || int(beUint32(data)) != p.fetch[next] {
			return protoErr("primary sent a block of %q that was not requested", p.en.Path)
		}
		i := p.fetch[next]
		n := blockLen(p.en.Size, bs, i)
		if got+len(data)-4 > n {
			return protoErr("primary sent too much data for block %d of %q", i, p.en.Path)
		}
		if err := r.writeChunk(f, h, data[4:], int64(i)*int64(bs)+int64(got)); err != nil {
			return err
		}
		if got += len(data) - 4; got == n {
			if err := verifyBlock(h, p, i); err != nil {
				return err
			}
			h.Reset()
			next, got = next+1, 0
		}
	}
}

func (r *receiver) writeChunk(f *os.File, h hash.Hash, chunk []byte, off int64) error {
	h.Write(chunk)
	if _, err := f.WriteAt(chunk, off); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	r.bytesDone += int64(len(chunk))
	r.report("")
	return nil
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
	if err := r.root.Chtimes(p.tmp, time.Unix(0, en.ModTime), time.Unix(0, en.ModTime)); err != nil {
		return fmt.Errorf("set times of %s: %w", p.tmp, err)
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
