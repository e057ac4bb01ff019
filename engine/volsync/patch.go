package volsync

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"os"

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

// readSums reads the sums answer for p's candidates and compares them
// with the basis at the same offsets. A candidate whose basis bytes
// cannot be read is fetched whole; a basis that cannot be opened makes
// the file stale. The local sums are dropped afterwards.
func (r *receiver) readSums(p *filePlan) error {
	var src *os.File // opened for the first block without local sums
	var openErr error
	bs := p.en.BlockSize
	buf := getBuf(bs)
	defer putBuf(buf)
	defer func() { p.localSums = nil }()
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
			p.stale = p.stale || data[0] == blocksStale || openErr != nil
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
		have := int(min(int64(n), p.basisSize-int64(i)*int64(bs)))
		if p.localSums != nil && p.localSums[i] != nil { // taken while the basis was hashed
			p.decide(i, data[4:], p.localSums[i], have, n, sub)
			continue
		}
		if src == nil {
			if openErr == nil {
				src, openErr = r.openBasis(p.basis)
			}
			if openErr != nil {
				continue // no basis any more: the file is stale
			}
			defer src.Close()
		}
		got, err := src.ReadAt(buf[:have], int64(i)*int64(bs))
		if err != nil && got == 0 {
			p.fetch = append(p.fetch, i) // nothing to compare with: fetch it whole
			continue
		}
		p.decide(i, data[4:], appendSubSums(nil, buf[:got], sub), got, n, sub)
	}
}

// decide compares the primary's sub-block sums of block i (n bytes) with
// those of the basis at the same offset (localLen bytes, possibly short).
func (p *filePlan) decide(i int, sums, local []byte, localLen, n, sub int) {
	pb := &patchBlock{sums: bytes.Clone(sums), fetch: make([]bool, len(sums)/subSumLen)}
	same := 0
	for j := range pb.fetch {
		lo, hi := j*sub, min((j+1)*sub, n)
		if hi <= localLen && bytes.Equal(local[j*subSumLen:(j+1)*subSumLen], sums[j*subSumLen:(j+1)*subSumLen]) && hi-lo == min(sub, localLen-lo) {
			same++
			continue
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
	r     *receiver
	dst   io.WriterAt // the temp file, or a memFile
	src   *os.File    // the basis, nil without one
	p     *filePlan
	h     hash.Hash
	next  int    // span being received
	got   int    // bytes of it received
	block int    // patched block held in buf, -1 for none
	buf   []byte // patched block
	stale bool   // the basis changed: drop the rest of the stream
	wb    writeback
	bw    *blockWriter // hashes and writes whole blocks, when set
	wbuf  []byte       // the whole block being received for bw
}

func (a *assembler) release() {
	if a.buf != nil {
		putBuf(a.buf)
	}
	if a.wbuf != nil {
		putBuf(a.wbuf)
	}
}

// chunk consumes one BLOCK_DATA payload: a u64 offset and data.
func (a *assembler) chunk(data []byte) error {
	p := a.p
	if len(data) < 8 || a.next >= len(p.spans) || int64(binary.BigEndian.Uint64(data)) != p.spans[a.next].off+int64(a.got) {
		return protoErr("primary sent data of %q that was not requested", p.en.Path)
	}
	data = data[8:]
	defer a.r.landed(int64(len(data)))
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
		if a.got == sp.n {
			if err := a.end(sp); err != nil {
				return err
			}
			a.next, a.got = a.next+1, 0
		}
	}
	return nil
}

// put stores part of a span.
func (a *assembler) put(sp *span, b []byte) error {
	if a.stale {
		return nil
	}
	pb := a.p.partial[sp.block]
	if pb == nil && a.bw != nil {
		if a.wbuf == nil {
			a.wbuf = getBuf(a.p.en.BlockSize)
		}
		copy(a.wbuf[sp.off-int64(sp.block)*int64(a.p.en.BlockSize)+int64(a.got):], b)
		return nil
	}
	if pb == nil {
		a.h.Write(b)
		if _, err := a.dst.WriteAt(b, sp.off+int64(a.got)); err != nil {
			return fmt.Errorf("write %s: %w", a.p.tmp, err)
		}
		a.wb.wrote(a.dst, len(b))
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

// load reads a patched block's basis bytes. Whether the reused
// sub-blocks still match the primary's sums is only checked when the
// rebuilt block fails its hash (see end).
func (a *assembler) load(i int, pb *patchBlock) {
	bs := a.p.en.BlockSize
	if a.buf == nil {
		a.buf = getBuf(bs)
	}
	a.block = i
	n := blockLen(a.p.en.Size, bs, i)
	clear(a.buf[:n])
	if a.src == nil {
		a.stale, a.p.stale = true, true
		return
	}
	a.src.ReadAt(a.buf[:n], int64(i)*int64(bs))
}

// basisChanged reports whether a reused sub-block of the patched block in
// buf no longer matches the primary's sums: the local copy changed since
// it was compared, and the file is retried next pass.
func (a *assembler) basisChanged(pb *patchBlock, n int) bool {
	sub := subBlockSize(a.p.en.BlockSize)
	for j, fetched := range pb.fetch {
		if fetched {
			continue
		}
		lo, hi := j*sub, min((j+1)*sub, n)
		sum := sha256.Sum256(a.buf[lo:hi])
		if !bytes.Equal(sum[:subSumLen], pb.sums[j*subSumLen:(j+1)*subSumLen]) {
			return true
		}
	}
	return false
}

// end finishes a span: a whole block is verified; a patched block is
// verified and written after its last span.
func (a *assembler) end(sp *span) error {
	if a.stale {
		return nil
	}
	pb := a.p.partial[sp.block]
	if pb == nil && a.bw != nil {
		a.bw.jobs <- blockJob{sp.block, a.wbuf, sp.n}
		a.wbuf = nil
		return nil
	}
	if pb == nil {
		err := verifyBlock(a.h, a.p, sp.block)
		a.h.Reset()
		return err
	}
	if pb.last != a.next {
		return nil
	}
	n := blockLen(a.p.en.Size, a.p.en.BlockSize, sp.block)
	if blockSum(a.buf[:n]) != a.p.en.Blocks[sp.block] {
		if a.basisChanged(pb, n) {
			a.stale, a.p.stale = true, true
			return nil
		}
		return protoErr("block %d of %q does not match its hash in the index", sp.block, a.p.en.Path)
	}
	if _, err := a.dst.WriteAt(a.buf[:n], int64(sp.block)*int64(a.p.en.BlockSize)); err != nil {
		return fmt.Errorf("write %s: %w", a.p.tmp, err)
	}
	a.wb.wrote(a.dst, n)
	return nil
}

// writebackEvery is how much a big file is written before the kernel is
// asked to start writing it back, so the disk works while data streams in
// and the final fsync has little left to do.
const writebackEvery = 8 << 20

// writeback counts what one writer wrote to a temp file and asks the
// kicker to start its writeback every writebackEvery bytes.
type writeback struct {
	k     *kicker
	dirty int
}

// wrote counts n bytes written to dst; only a file has writeback.
func (w *writeback) wrote(dst io.WriterAt, n int) {
	f, ok := dst.(*os.File)
	if !ok || w.k == nil {
		return
	}
	if w.dirty += n; w.dirty >= writebackEvery {
		w.dirty = 0
		w.k.kick(f)
	}
}

// kicker starts the writeback of temp files on a goroutine of its own:
// sync_file_range blocks while the disk's queue is full (an fsync of the
// file before, say), and the stream and the planners must not wait for
// it. Hints are dropped while it is busy.
type kicker struct {
	files chan *os.File
	done  chan struct{}
}

func startKicker() *kicker {
	k := &kicker{files: make(chan *os.File, 8), done: make(chan struct{})}
	go k.run()
	return k
}

func (k *kicker) run() {
	defer close(k.done)
	for f := range k.files {
		// Only a hint: an error here shows up again at fsync. A file
		// closed meanwhile refuses Control.
		if rc, err := f.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE) })
		}
	}
}

func (k *kicker) kick(f *os.File) {
	select {
	case k.files <- f:
	default:
	}
}

// stop waits for the hint in progress; no kick may follow.
func (k *kicker) stop() {
	close(k.files)
	<-k.done
}
