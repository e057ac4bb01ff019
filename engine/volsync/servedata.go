package volsync

import (
	"crypto/sha256"
	"errors"
	"io"
	"os"
)

// byteRange is a run of file bytes the client asks for.
type byteRange struct {
	off uint64
	n   uint32
}

// fileRequest is a decoded msgBlocks or msgSums: a file as the index
// described it and either byte ranges or block indexes.
type fileRequest struct {
	volume, path string
	size, mtime  int64
	ranges       []byteRange // msgBlocks
	blocks       []uint32    // msgSums, strictly ascending
}

func encodeFileHeader(e *enc, r *fileRequest) {
	e.str(r.volume)
	e.str(r.path)
	e.u64(uint64(r.size))
	e.u64(uint64(r.mtime))
}

func encodeBlocksRequest(r *fileRequest) []byte {
	var e enc
	encodeFileHeader(&e, r)
	e.u32(uint32(len(r.ranges)))
	for _, br := range r.ranges {
		e.u64(br.off)
		e.u32(br.n)
	}
	return e.b
}

func encodeSumsRequest(r *fileRequest) []byte {
	var e enc
	encodeFileHeader(&e, r)
	e.u32(uint32(len(r.blocks)))
	for _, b := range r.blocks {
		e.u32(b)
	}
	return e.b
}

// decodeFileRequest reads either request; each item takes itemLen bytes.
func decodeFileRequest(p []byte, sums bool) (*fileRequest, error) {
	d := dec{b: p}
	r := &fileRequest{volume: d.str(maxPathLen), path: d.str(maxPathLen)}
	r.size, r.mtime = int64(d.u64()), int64(d.u64())
	n := d.u32()
	itemLen := uint64(12)
	if sums {
		itemLen = 4
	}
	if d.err == nil && uint64(n)*itemLen != uint64(len(d.b)) {
		return nil, protoErr("request for %q claims %d items in %d bytes", r.path, n, len(d.b))
	}
	for range n {
		if sums {
			r.blocks = append(r.blocks, d.u32())
		} else {
			r.ranges = append(r.ranges, byteRange{d.u64(), d.u32()})
		}
	}
	if err := d.done(); err != nil {
		return nil, err
	}
	if err := checkPath(r.path); err != nil || r.size < 0 {
		return nil, protoErr("bad request for %q: %v", r.path, err)
	}
	return r, nil
}

// openRequested opens the file of a request when it still matches the
// size and mtime of the index; nil means stale.
func (ss *session) openRequested(r *fileRequest) (*os.File, error) {
	root, err := ss.volume(r.volume)
	if err != nil {
		return nil, err
	}
	f, info, err := openRegular(root, &ss.dirs, r.path, os.O_RDONLY)
	if err != nil {
		return nil, nil
	}
	if info.Size() != r.size || info.ModTime().UnixNano() != r.mtime {
		f.Close()
		return nil, nil
	}
	return f, nil
}

// handleBlocks streams the requested byte ranges of one file.
func (ss *session) handleBlocks(p []byte) error {
	req, err := decodeFileRequest(p, false)
	if err != nil {
		return err
	}
	for _, br := range req.ranges {
		if br.n == 0 || br.off+uint64(br.n) > uint64(req.size) {
			return protoErr("byte range %d+%d is outside the %d bytes of %q", br.off, br.n, req.size, req.path)
		}
	}
	f, err := ss.openRequested(req)
	if f == nil {
		if err != nil {
			return err
		}
		return ss.blocksEnd(blocksStale)
	}
	defer f.Close()
	buf := getBuf(dataChunk + 8)
	defer putBuf(buf)
	bs := int64(BlockSizeFor(req.size))
	for _, br := range req.ranges {
		// Chunks end at block boundaries so a cut connection loses at
		// most one block of what was received.
		for off, end := int64(br.off), int64(br.off)+int64(br.n); off < end; {
			n := int(min(int64(dataChunk), end-off, bs-off%bs))
			beUint64Put(buf[:8], uint64(off))
			if _, err := f.ReadAt(buf[8:8+n], off); err != nil {
				if errors.Is(err, io.EOF) {
					return ss.blocksEnd(blocksStale)
				}
				return &requestError{codeInternal, err.Error()}
			}
			if err := ss.send(msgBlockData, buf[:8+n]); err != nil {
				return err
			}
			off += int64(n)
		}
	}
	return ss.blocksEnd(blocksOK)
}

// handleSums sends the sub-block hashes of the requested blocks of a file.
func (ss *session) handleSums(p []byte) error {
	req, err := decodeFileRequest(p, true)
	if err != nil {
		return err
	}
	bs := BlockSizeFor(req.size)
	nblocks := blockCount(req.size, bs)
	for k, b := range req.blocks {
		if int64(b) >= int64(nblocks) || k > 0 && b <= req.blocks[k-1] {
			return protoErr("sums request for %q names block %d out of order or beyond its %d blocks", req.path, b, nblocks)
		}
	}
	f, err := ss.openRequested(req)
	if f == nil {
		if err != nil {
			return err
		}
		return ss.blocksEnd(blocksStale)
	}
	defer f.Close()
	buf := getBuf(bs)
	defer putBuf(buf)
	var e enc
	for _, b := range req.blocks {
		n := blockLen(req.size, bs, int(b))
		if _, err := f.ReadAt(buf[:n], int64(b)*int64(bs)); err != nil {
			if errors.Is(err, io.EOF) {
				return ss.blocksEnd(blocksStale)
			}
			return &requestError{codeInternal, err.Error()}
		}
		e.b = e.b[:0]
		e.u32(b)
		e.b = appendSubSums(e.b, buf[:n], subBlockSize(bs))
		if err := ss.send(msgSumsData, e.b); err != nil {
			return err
		}
	}
	return ss.blocksEnd(blocksOK)
}

func (ss *session) blocksEnd(status byte) error {
	return ss.send(msgBlocksEnd, []byte{status})
}

// subSumLen is the length of a sub-block hash: the first 16 bytes of its
// SHA-256. The whole block is still checked against its full hash (blockSum).
const subSumLen = 16

// subBlockSize is the sub-block size used inside a block of size bs:
// 4 KiB, or bs/256 for blocks over 1 MiB (at most 256 sub-blocks).
func subBlockSize(bs int) int { return max(4<<10, bs/256) }

// appendSubSums appends the truncated SHA-256 of each sub-block of data.
func appendSubSums(b, data []byte, sub int) []byte {
	for off := 0; off < len(data); off += sub {
		sum := sha256.Sum256(data[off:min(off+sub, len(data))])
		b = append(b, sum[:subSumLen]...)
	}
	return b
}

func beUint64Put(b []byte, v uint64) {
	for i := range 8 {
		b[i] = byte(v >> (56 - 8*i))
	}
}
