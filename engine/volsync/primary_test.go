package volsync

import (
	"net"
	"testing"
)

// answerFunc answers one request (any frame after the handshake) of a
// scripted primary; false hangs up.
type answerFunc func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool

// welcome plays a primary's side of the handshake on conn: it reads the
// hello, whatever it says, and answers with version.
func welcome(conn net.Conn, version uint16) (*frameReader, *frameWriter, bool) {
	fr, fw := newFrameReader(conn, 0), newFrameWriter(conn)
	if _, _, err := fr.next(); err != nil {
		return nil, nil, false
	}
	var e enc
	e.u16(version)
	fw.write(msgWelcome, e.b)
	return fr, fw, fw.flush() == nil
}

// scriptedPrimary is a primary that only does the handshake and hands
// every later request to answer, flushing after each: a test plays a
// hostile (or stalled) primary through it.
func scriptedPrimary(t *testing.T, answer answerFunc) string {
	ln := listenTLS(t)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				fr, fw, ok := welcome(conn, ProtocolVersion)
				if !ok {
					return
				}
				for {
					typ, p, err := fr.next()
					if err != nil || !answer(conn, typ, p, fw) {
						return
					}
					if fw.flush() != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// memFiles is a primary's volume held in memory: path → content. Every
// file has mode 0644 and the mtime given; the directories above them are
// listed too.
type memFiles struct {
	files map[string][]byte
	mtime int64
}

// entries is the index of the volume, in tree order.
func (m *memFiles) entries() []Entry {
	var out []Entry
	dirs := map[string]bool{}
	for p, data := range m.files {
		for d := parentOf(p); d != "" && !dirs[d]; d = parentOf(d) {
			dirs[d] = true
			out = append(out, Entry{Path: d, Kind: KindDir, Mode: 0o755, ModTime: m.mtime})
		}
		en := Entry{Path: p, Kind: KindFile, Mode: 0o644, Size: int64(len(data)), ModTime: m.mtime, BlockSize: BlockSizeFor(int64(len(data)))}
		for off := 0; off < len(data); off += en.BlockSize {
			en.Blocks = append(en.Blocks, blockSum(data[off:min(off+en.BlockSize, len(data))]))
		}
		out = append(out, en)
	}
	sortEntries(out)
	return out
}

// sendIndex sends the whole index in one frame and its end.
func (m *memFiles) sendIndex(fw *frameWriter) {
	writeIndex(fw, m.entries())
}

// writeIndex answers an index request with entries: one ENTRIES frame,
// then INDEX_END with their count.
func writeIndex(fw *frameWriter, entries []Entry) {
	var b enc
	b.u32(uint32(len(entries)))
	for i := range entries {
		encodeEntry(&b, &entries[i])
	}
	fw.write(msgEntries, b.b)
	var end enc
	end.u32(uint32(len(entries)))
	fw.write(msgIndexEnd, end.b)
}

// sendSums answers a SUMS request as a primary does.
func (m *memFiles) sendSums(p []byte, fw *frameWriter, each func(k int)) {
	req, _ := decodeFileRequest(p, true)
	data := m.files[req.path]
	bs := BlockSizeFor(int64(len(data)))
	for k, b := range req.blocks {
		if each != nil {
			each(k)
		}
		var e enc
		e.u32(b)
		lo := int(b) * bs
		e.b = appendSubSums(e.b, data[lo:min(lo+bs, len(data))], subBlockSize(bs))
		fw.write(msgSumsData, e.b)
	}
	fw.write(msgBlocksEnd, []byte{blocksOK})
}

// sendBlocks answers a BLOCKS request as a primary does: chunks of at
// most dataChunk bytes that never cross a block boundary.
func (m *memFiles) sendBlocks(p []byte, fw *frameWriter) {
	req, _ := decodeFileRequest(p, false)
	data := m.files[req.path]
	bs := int64(BlockSizeFor(int64(len(data))))
	for _, br := range req.ranges {
		for off, end := int64(br.off), int64(br.off)+int64(br.n); off < end; {
			n := min(int64(dataChunk), end-off, bs-off%bs)
			var h enc
			h.u64(uint64(off))
			fw.write(msgBlockData, h.b, data[off:off+n])
			off += n
		}
	}
	fw.write(msgBlocksEnd, []byte{blocksOK})
}

// answer serves the volume like an honest primary.
func (m *memFiles) answer(_ net.Conn, typ byte, p []byte, fw *frameWriter) bool {
	switch typ {
	case msgIndex:
		m.sendIndex(fw)
	case msgSums:
		m.sendSums(p, fw, nil)
	case msgBlocks:
		m.sendBlocks(p, fw)
	default:
		return false
	}
	return true
}
