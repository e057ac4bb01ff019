package volsync

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzReadFrame feeds arbitrary bytes to the frame reader: it must never
// panic, must refuse frames over the limit, and frames it accepts must
// re-encode to the same bytes.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{msgHello, 0, 0, 0, 2, 0, 1})
	f.Add([]byte{msgEntries, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{msgBlockData, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 'x', msgBlocksEnd, 0, 0, 0, 1, 0})
	f.Add([]byte{})
	const limit = 1 << 10
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := newFrameReader(bytes.NewReader(data), limit)
		var out bytes.Buffer
		fw := newFrameWriter(&out)
		for {
			typ, p, err := fr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, ErrProtocol) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(p) > limit {
				t.Fatalf("accepted a %d byte frame over the %d limit", len(p), limit)
			}
			fw.write(typ, p)
		}
		fw.flush()
		if !bytes.HasPrefix(data, out.Bytes()) || int64(out.Len()) != fr.bytes {
			t.Fatalf("re-encoded frames differ from the input")
		}
	})
}

// FuzzDecodeEntries feeds arbitrary payloads to the index decoder: it must
// never panic, every entry it accepts must be valid, and accepted batches
// must round-trip.
func FuzzDecodeEntries(f *testing.F) {
	var e enc
	data := []byte("hello")
	e.u32(3)
	encodeEntry(&e, &Entry{Path: "a", Kind: KindDir, Mode: 0o755, ModTime: 7})
	encodeEntry(&e, &Entry{Path: "a/f", Kind: KindFile, Mode: 0o644, Size: 5, ModTime: 9, BlockSize: BlockSizeFor(5), Blocks: []Hash{blockSum(data)}})
	encodeEntry(&e, &Entry{Path: "a/l", Kind: KindSymlink, Mode: 0o777, Target: "../x"})
	f.Add(e.b)
	var bad enc
	bad.u32(1)
	encodeEntry(&bad, &Entry{Path: "../x", Kind: KindFile, BlockSize: BlockSizeFor(0)})
	f.Add(bad.b)
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		entries, err := decodeEntries(p)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("decode error %v is not a protocol error", err)
			}
			return
		}
		var out enc
		out.u32(uint32(len(entries)))
		for i := range entries {
			if err := checkEntry(&entries[i]); err != nil {
				t.Fatalf("accepted an invalid entry: %v", err)
			}
			encodeEntry(&out, &entries[i])
		}
		again, err := decodeEntries(out.b)
		if err != nil || !reflect.DeepEqual(normEntries(again), normEntries(entries)) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

// normEntries makes empty block lists comparable.
func normEntries(es []Entry) []Entry {
	for i := range es {
		if len(es[i].Blocks) == 0 {
			es[i].Blocks = nil
		}
	}
	return es
}

func TestFrameLimit(t *testing.T) {
	tests := []struct {
		name string
		size uint32
		ok   bool
	}{
		{"at the limit", 16, true},
		{"over the limit", 17, false},
		{"huge", 0xffffffff, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			b.Write([]byte{msgMeta, byte(tt.size >> 24), byte(tt.size >> 16), byte(tt.size >> 8), byte(tt.size)})
			b.Write(make([]byte, 16))
			_, _, err := newFrameReader(&b, 16).next()
			if tt.ok != (err == nil) || !tt.ok && !errors.Is(err, ErrProtocol) {
				t.Fatalf("frame of %d bytes with a 16 byte limit: %v", tt.size, err)
			}
		})
	}
}

func TestBlockSizeTable(t *testing.T) {
	tests := []struct {
		size int64
		want int
	}{
		{0, 128 << 10}, {100 << 20, 128 << 10}, {256 << 20, 256 << 10},
		{1 << 30, 1 << 20}, {20 << 30, 16 << 20}, {1 << 40, 16 << 20},
	}
	for _, tt := range tests {
		if got := BlockSizeFor(tt.size); got != tt.want {
			t.Errorf("BlockSizeFor(%d) = %d, want %d", tt.size, got, tt.want)
		}
	}
}
