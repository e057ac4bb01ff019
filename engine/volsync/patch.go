package volsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// span is a byte range of a file requested from the primary; it lies in
// one block.
type span struct {
	block int
	off   int64
	n     int
}

// patchBlock is a block rebuilt from the basis at the same offset with the
// sub-blocks that differ fetched from the primary.
type patchBlock struct {
	sums  []byte // the primary's sub-block sums, subSumLen bytes each
	fetch []bool // sub-block j is fetched
	last  int    // index in filePlan.spans of the block's last span
}

// planAll plans every file, hashing old copies on all cores.
func (r *receiver) planAll() ([]*filePlan, error) {
	plans := make([]*filePlan, len(r.files))
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				plans[i] = r.plan(r.files[i])
			}
		})
	}
	for i := range r.files {
		select {
		case jobs <- i:
		case <-r.ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	return plans, nil
}

// refine asks the primary, in one pipelined round, for the sub-block sums
// of every candidate block and decides what to fetch: only the sub-blocks
// that differ from the basis, or the whole block when all of them do.
// It then lays out every plan's spans and counts them.
func (r *receiver) refine(plans []*filePlan) error {
	var ask []*filePlan
	for _, p := range plans {
		if len(p.cands) > 0 {
			ask = append(ask, p)
		}
	}
	errc := make(chan error, 1)
	go func() {
		for _, p := range ask {
			req := fileRequest{volume: r.volume, path: p.en.Path, size: p.en.Size, mtime: p.en.ModTime, blocks: toU32(p.cands)}
			if err := r.c.send(msgSums, encodeSumsRequest(&req)); err != nil {
				errc <- fmt.Errorf("request sums of %s: %w", p.en.Path, err)
				return
			}
		}
		errc <- r.c.flush()
	}()
	for _, p := range ask {
		if err := r.readSums(p); err != nil {
			return err
		}
	}
	if err := <-errc; err != nil {
		return err
	}
	for _, p := range plans {
		p.layout()
		for _, sp := range p.spans {
			r.st.BytesFetched += int64(sp.n)
		}
		r.st.BlocksRequested += int64(len(p.fetch) + len(p.partial))
		r.st.BlocksReused += int64(len(p.copy))
		for _, ok := range p.have {
			if ok {
				r.st.BlocksReused++
			}
		}
		r.st.BlocksPatched += int64(len(p.partial))
	}
	return nil
}

func toU32(xs []int) []uint32 {
	out := make([]uint32, len(xs))
	for i, x := range xs {
		out[i] = uint32(x)
	}
	return out
}

// readSums reads the sums answer for p's candidates and compares them
// with the basis at the same offsets.
func (r *receiver) readSums(p *filePlan) error {
	src, err := r.openBasis(p.basis)
	if err == nil {
		defer src.Close()
	}
	bs := p.en.BlockSize
	buf := getBuf(bs)
	defer putBuf(buf)
	p.partial = map[int]*patchBlock{}
	for k := 0; ; k++ {
		typ, data, rerr := r.c.recv()
		if rerr != nil {
			return fmt.Errorf("receive sums of %s: %w", p.en.Path, rerr)
		}
		switch typ {
		case msgBlocksEnd:
			if len(data) != 1 || data[0] > blocksStale || data[0] == blocksOK && k != len(p.cands) {
				return protoErr("bad end of sums for %q", p.en.Path)
			}
			p.stale = p.stale || data[0] == blocksStale || err != nil
			return nil
		case msgError:
			return &remoteError{fmt.Errorf("sums of %s: %w", p.en.Path, decodeError(data))}
		case msgSumsData:
		default:
			return protoErr("unexpected message type 0x%02x in sums", typ)
		}
		if k >= len(p.cands) || len(data) < 4 || int(binary.BigEndian.Uint32(data)) != p.cands[k] {
			return protoErr("primary sent sums of %q that were not requested", p.en.Path)
		}
		i := p.cands[k]
		n := blockLen(p.en.Size, bs, i)
		sub := subBlockSize(bs)
		if len(data)-4 != (n+sub-1)/sub*subSumLen {
			return protoErr("primary sent %d bytes of sums for block %d of %q", len(data)-4, i, p.en.Path)
		}
		if err != nil {
			continue // no basis any more: the file is stale
		}
		have := int(min(int64(n), p.basisSize-int64(i)*int64(bs)))
		if have, err = src.ReadAt(buf[:have], int64(i)*int64(bs)); err != nil && have == 0 {
			continue
		}
		err = nil
		p.decide(i, data[4:], buf[:have], n, sub)
	}
}

// decide compares the primary's sub-block sums of block i with the basis
// bytes at the same offset (local, possibly short).
func (p *filePlan) decide(i int, sums, local []byte, n, sub int) {
	pb := &patchBlock{sums: bytes.Clone(sums), fetch: make([]bool, len(sums)/subSumLen)}
	same := 0
	for j := range pb.fetch {
		lo, hi := j*sub, min((j+1)*sub, n)
		if hi <= len(local) {
			sum := sha256.Sum256(local[lo:hi])
			if bytes.Equal(sum[:subSumLen], sums[j*subSumLen:(j+1)*subSumLen]) {
				same++
				continue
			}
		}
		pb.fetch[j] = true
	}
	if same == 0 || same == len(pb.fetch) {
		// Nothing to reuse, or the sums agree where the block hash did not
		// (the basis changed since it was hashed): fetch the whole block.
		p.fetch = append(p.fetch, i)
		return
	}
	p.partial[i] = pb
}

// layout orders whole and patched blocks into spans.
func (p *filePlan) layout() {
	if p.stale {
		return
	}
	bs := p.en.BlockSize
	sub := subBlockSize(bs)
	whole := map[int]bool{}
	for _, i := range p.fetch {
		whole[i] = true
	}
	for i := range p.en.Blocks {
		off := int64(i) * int64(bs)
		if whole[i] {
			p.spans = append(p.spans, span{i, off, blockLen(p.en.Size, bs, i)})
			continue
		}
		pb, ok := p.partial[i]
		if !ok {
			continue
		}
		n := blockLen(p.en.Size, bs, i)
		for j := 0; j < len(pb.fetch); j++ {
			if !pb.fetch[j] {
				continue
			}
			k := j
			for k+1 < len(pb.fetch) && pb.fetch[k+1] {
				k++
			}
			lo, hi := j*sub, min((k+1)*sub, n)
			p.spans = append(p.spans, span{i, off + int64(lo), hi - lo})
			j = k
		}
		pb.last = len(p.spans) - 1
	}
}

// mergeSpans joins adjacent spans into the request's byte ranges.
func mergeSpans(spans []span) []byteRange {
	var out []byteRange
	for _, sp := range spans {
		if n := len(out); n > 0 && int64(out[n-1].off)+int64(out[n-1].n) == sp.off && uint64(out[n-1].n)+uint64(sp.n) <= 1<<30 {
			out[n-1].n += uint32(sp.n)
			continue
		}
		out = append(out, byteRange{uint64(sp.off), uint32(sp.n)})
	}
	return out
}

// assembler places one file's incoming data: chunks are checked against
// the spans in order; whole blocks are hashed and written as they come,
// patched blocks are built in memory and written once verified.
type assembler struct {
	r      *receiver
	f, src *os.File
	p      *filePlan
	h      hash.Hash
	next   int    // span being received
	got    int    // bytes of it received
	block  int    // patched block held in buf, -1 for none
	buf    []byte // patched block
	stale  bool   // the basis changed: drop the rest of the stream
	wb     writeback
}

func (a *assembler) release() {
	if a.buf != nil {
		putBuf(a.buf)
	}
}

// chunk consumes one BLOCK_DATA payload: a u64 offset and data.
func (a *assembler) chunk(data []byte) error {
	p := a.p
	if len(data) < 8 || a.next >= len(p.spans) || int64(binary.BigEndian.Uint64(data)) != p.spans[a.next].off+int64(a.got) {
		return protoErr("primary sent data of %q that was not requested", p.en.Path)
	}
	data = data[8:]
	for len(data) > 0 {
		if a.next >= len(p.spans) {
			return protoErr("primary sent too much data for %q", p.en.Path)
		}
		sp := &p.spans[a.next]
		k := min(len(data), sp.n-a.got)
		if err := a.put(sp, data[:k]); err != nil {
			return err
		}
		a.got += k
		data = data[k:]
		a.r.bytesDone += int64(k)
		if a.got == sp.n {
			if err := a.end(sp); err != nil {
				return err
			}
			a.next, a.got = a.next+1, 0
		}
	}
	a.r.report("")
	return nil
}

// put stores part of a span.
func (a *assembler) put(sp *span, b []byte) error {
	if a.stale {
		return nil
	}
	pb := a.p.partial[sp.block]
	if pb == nil {
		a.h.Write(b)
		if _, err := a.f.WriteAt(b, sp.off+int64(a.got)); err != nil {
			return fmt.Errorf("write %s: %w", a.p.tmp, err)
		}
		a.wb.wrote(a.f, len(b))
		return nil
	}
	if a.block != sp.block {
		a.load(sp.block, pb)
		if a.stale {
			return nil
		}
	}
	base := int64(sp.block) * int64(a.p.en.BlockSize)
	copy(a.buf[sp.off-base+int64(a.got):], b)
	return nil
}

// load reads a patched block's basis bytes and checks the reused
// sub-blocks against the primary's sums; a mismatch means the local file
// changed since it was compared, and the file is retried next pass.
func (a *assembler) load(i int, pb *patchBlock) {
	bs := a.p.en.BlockSize
	if a.buf == nil {
		a.buf = getBuf(bs)
	}
	a.block = i
	n := blockLen(a.p.en.Size, bs, i)
	sub := subBlockSize(bs)
	clear(a.buf[:n])
	if a.src != nil {
		a.src.ReadAt(a.buf[:n], int64(i)*int64(bs))
	}
	for j, fetched := range pb.fetch {
		if fetched {
			continue
		}
		lo, hi := j*sub, min((j+1)*sub, n)
		sum := sha256.Sum256(a.buf[lo:hi])
		if a.src == nil || !bytes.Equal(sum[:subSumLen], pb.sums[j*subSumLen:(j+1)*subSumLen]) {
			a.stale, a.p.stale = true, true
			return
		}
	}
}

// end finishes a span: a whole block is verified; a patched block is
// verified and written after its last span.
func (a *assembler) end(sp *span) error {
	if a.stale {
		return nil
	}
	pb := a.p.partial[sp.block]
	if pb == nil {
		err := verifyBlock(a.h, a.p, sp.block)
		a.h.Reset()
		return err
	}
	if pb.last != a.next {
		return nil
	}
	n := blockLen(a.p.en.Size, a.p.en.BlockSize, sp.block)
	if Hash(sha256.Sum256(a.buf[:n])) != a.p.en.Blocks[sp.block] {
		return protoErr("block %d of %q does not match its SHA-256 from the index", sp.block, a.p.en.Path)
	}
	if _, err := a.f.WriteAt(a.buf[:n], int64(sp.block)*int64(a.p.en.BlockSize)); err != nil {
		return fmt.Errorf("write %s: %w", a.p.tmp, err)
	}
	a.wb.wrote(a.f, n)
	return nil
}

// writebackEvery is how much a big file is written before the kernel is
// asked to start writing it back, so the disk works while data streams in
// and the final fsync has little left to do.
const writebackEvery = 8 << 20

// writeback starts asynchronous writeback of a temp file as it grows.
type writeback struct{ dirty int }

func (w *writeback) wrote(f *os.File, n int) {
	if w.dirty += n; w.dirty >= writebackEvery {
		w.dirty = 0
		// Only a hint: an error here shows up again at fsync.
		unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	}
}
