package volsync

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// ProtocolVersion is the version of the sync protocol this package speaks.
// Both sides must speak the same one. Version 3 hashes blocks with BLAKE3
// (version 2 used SHA-256; see blockSum).
const ProtocolVersion = 3

// versionHint ends both sides' version errors.
const versionHint = "run the same Budgie release on both nodes (budgie --headless version)"

// DefaultPort is the TCP port the primary listens on.
const DefaultPort = 18733

// DefaultMaxFrame is the largest frame payload accepted when no limit is set.
const DefaultMaxFrame = 8 << 20

// dataChunk is the largest piece of block data sent in one frame.
const dataChunk = 1 << 20

// magic opens the hello message.
const magic = "BUDGIE-SYNC"

// Message types, one byte at the start of every frame.
const (
	msgHello      byte = 0x01 // C→S: magic, version
	msgWelcome    byte = 0x02 // S→C: version
	msgMeta       byte = 0x10 // C→S: key
	msgMetaReply  byte = 0x11 // S→C: value
	msgIndex      byte = 0x20 // C→S: volume, prefixes
	msgEntries    byte = 0x21 // S→C: a batch of index entries
	msgIndexEnd   byte = 0x22 // S→C: entry count
	msgBlocks     byte = 0x30 // C→S: volume, path, size, mtime, byte ranges
	msgBlockData  byte = 0x31 // S→C: file offset, data (≤ 1 MiB)
	msgBlocksEnd  byte = 0x32 // S→C: status (ends BLOCKS and SUMS answers)
	msgSums       byte = 0x33 // C→S: volume, path, size, mtime, block indexes
	msgSumsData   byte = 0x34 // S→C: block index, sub-block hashes
	msgSubscribe  byte = 0x40 // C→S: volume
	msgSubscribed byte = 0x41 // S→C: empty
	msgChanged    byte = 0x42 // S→C: rescan flag, paths
	msgError      byte = 0x7F // S→C: code, message
)

// Error codes carried by msgError.
const (
	codeProtocol byte = 1
	codeNotFound byte = 2
	codeDenied   byte = 3
	codeInternal byte = 4
	codeInvalid  byte = 5
)

// Blocks-end status values.
const (
	blocksOK    byte = 0
	blocksStale byte = 1
)

// ErrProtocol marks a peer that broke the protocol: a bad frame, an
// oversized message, a hostile path or wrong block data. The connection
// cannot be used afterwards.
var ErrProtocol = errors.New("sync protocol error")

// ErrDenied marks a request the primary refused: the peer is not trusted
// for that volume or the container is not replicable.
var ErrDenied = errors.New("refused by the primary")

// protoErr wraps ErrProtocol and errdefs.ErrInvalid with a message.
func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %w: "+format, append([]any{ErrProtocol, errdefs.ErrInvalid}, args...)...)
}

// frameReader reads frames and counts the bytes it consumed.
type frameReader struct {
	r     *bufio.Reader
	max   int
	bytes int64
	buf   []byte
}

func newFrameReader(r io.Reader, max int) *frameReader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &frameReader{r: bufio.NewReaderSize(r, 256<<10), max: max}
}

// next reads one frame. The payload is valid until the next call.
func (fr *frameReader) next() (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(fr.r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if uint64(n) > uint64(fr.max) {
		return 0, nil, protoErr("frame of type 0x%02x is %d bytes, over the %d byte limit", hdr[0], n, fr.max)
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	p := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	fr.bytes += int64(5 + n)
	return hdr[0], p, nil
}

// frameWriter writes frames through a buffer and counts the bytes.
type frameWriter struct {
	w     *bufio.Writer
	bytes int64
}

func newFrameWriter(w io.Writer) *frameWriter {
	return &frameWriter{w: bufio.NewWriterSize(w, 256<<10)}
}

// write buffers one frame made of typ and the concatenated parts.
func (fw *frameWriter) write(typ byte, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n > math.MaxUint32 {
		return fmt.Errorf("frame of %d bytes is too large", n)
	}
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(n))
	if _, err := fw.w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := fw.w.Write(p); err != nil {
			return err
		}
	}
	fw.bytes += int64(5 + n)
	return nil
}

func (fw *frameWriter) flush() error { return fw.w.Flush() }

// enc appends big-endian fields to a byte slice.
type enc struct{ b []byte }

func (e *enc) u8(v byte)    { e.b = append(e.b, v) }
func (e *enc) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *enc) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *enc) u64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *enc) str(s string) { e.u32(uint32(len(s))); e.b = append(e.b, s...) }
func (e *enc) raw(p []byte) { e.b = append(e.b, p...) }

// dec reads big-endian fields; the first short read sets err and every
// later read returns zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.err = protoErr("message is truncated")
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) u8() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *dec) u16() uint16 {
	if p := d.take(2); p != nil {
		return binary.BigEndian.Uint16(p)
	}
	return 0
}

func (d *dec) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *dec) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// str reads a length-prefixed string of at most limit bytes.
func (d *dec) str(limit int) string {
	n := d.u32()
	if d.err == nil && uint64(n) > uint64(limit) {
		d.err = protoErr("string of %d bytes is over the %d byte limit", n, limit)
		return ""
	}
	return string(d.take(int(n)))
}

// done reports a decode error or trailing bytes.
func (d *dec) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = protoErr("%d unexpected trailing bytes", len(d.b))
	}
	return d.err
}

// errorPayload encodes an msgError body.
func errorPayload(code byte, msg string) []byte {
	var e enc
	e.u8(code)
	e.str(msg)
	return e.b
}

// decodeError turns an msgError body into a Go error with the right sentinel.
func decodeError(p []byte) error {
	d := dec{b: p}
	code := d.u8()
	msg := d.str(64 << 10)
	if err := d.done(); err != nil {
		return err
	}
	switch code {
	case codeNotFound:
		return fmt.Errorf("primary: %s: %w", msg, errdefs.ErrNotFound)
	case codeDenied:
		return fmt.Errorf("primary: %s: %w", msg, ErrDenied)
	case codeInvalid:
		return fmt.Errorf("primary: %s: %w", msg, errdefs.ErrInvalid)
	case codeProtocol:
		return fmt.Errorf("primary: %s: %w", msg, ErrProtocol)
	}
	return fmt.Errorf("primary: %s", msg)
}
