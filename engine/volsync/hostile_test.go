package volsync

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// hostileServer speaks the protocol but answers every index request with
// entries and every blocks request with blocks from the given function.
func hostileServer(t *testing.T, entries []Entry, block func(i uint32) []byte, rawIndex []byte) string {
	return scriptedPrimary(t, func(conn net.Conn, typ byte, p []byte, fw *frameWriter) bool {
		switch typ {
		case msgIndex:
			if rawIndex != nil {
				conn.Write(rawIndex)
				return true
			}
			writeIndex(fw, entries)
		case msgBlocks:
			req, _ := decodeFileRequest(p, false)
			bs := uint64(BlockSizeFor(req.size))
			for _, r := range req.ranges {
				// One frame per block the range covers, each block's bytes from block.
				for off := r.off; off < r.off+uint64(r.n); off = (off/bs + 1) * bs {
					data := block(uint32(off / bs))
					if rest := r.off + uint64(r.n) - off; uint64(len(data)) > rest {
						data = data[:rest]
					}
					var h enc
					h.u64(off)
					fw.write(msgBlockData, h.b, data)
				}
			}
			fw.write(msgBlocksEnd, []byte{blocksOK})
		}
		return true
	})
}

func fileEntry(p string, data []byte) Entry {
	return Entry{Path: p, Kind: KindFile, Mode: 0o644, Size: int64(len(data)), ModTime: 1, BlockSize: BlockSizeFor(int64(len(data))), Blocks: []Hash{blockSum(data)}}
}

func TestHostileServer(t *testing.T) {
	hello := []byte("hello")
	const bs = 128 << 10
	nineData := randBytes(t, 9*bs) // over smallFile: streamed into its temp file, checked by a blockWriter
	nineBlocks := fileEntry("f", nineData)
	nineBlocks.BlockSize, nineBlocks.Blocks = bs, nil
	for i := range 9 {
		nineBlocks.Blocks = append(nineBlocks.Blocks, blockSum(nineData[i*bs:(i+1)*bs]))
	}
	good := func(uint32) []byte { return hello }
	oversized := make([]byte, 5)
	oversized[0] = msgEntries
	binary.BigEndian.PutUint32(oversized[1:], 9<<20)
	tests := []struct {
		name    string
		entries func(sentinel string) []Entry
		block   func(uint32) []byte
		raw     []byte
		paths   []string
		prepare func(t *testing.T, repl, sentinel string)
	}{
		{name: "dotdot", entries: func(string) []Entry { return []Entry{fileEntry("../x", hello)} }, block: good},
		{name: "absolute", entries: func(s string) []Entry { return []Entry{fileEntry(filepath.Join(s, "x"), hello)} }, block: good},
		{name: "through a symlink in the index", entries: func(s string) []Entry {
			return []Entry{{Path: "evil", Kind: KindSymlink, Mode: 0o777, Target: s, ModTime: 1}, fileEntry("evil/x", hello)}
		}, block: good},
		{name: "through a local symlink", paths: []string{"in/x"}, entries: func(string) []Entry {
			return []Entry{{Path: "in", Kind: KindDir, Mode: 0o755, ModTime: 1}, fileEntry("in/x", hello)}
		}, block: good, prepare: func(t *testing.T, repl, s string) {
			mustDo(t, os.MkdirAll(repl, 0o755))
			mustDo(t, os.Symlink(s, filepath.Join(repl, "in")))
		}},
		{name: "oversized frame", raw: oversized},
		{name: "wrong block data", entries: func(string) []Entry { return []Entry{fileEntry("f", hello)} }, block: func(uint32) []byte { return []byte("HELLO") }},
		{name: "internal name", entries: func(string) []Entry { return []Entry{fileEntry(InternalPrefix+"f.tmp", hello)} }, block: good},
		{name: "wrong block in a big file", entries: func(string) []Entry { return []Entry{nineBlocks} }, block: func(i uint32) []byte {
			if i != 7 {
				return nineData[int(i)*bs : (int(i)+1)*bs]
			}
			return make([]byte, bs) // the right length, the wrong bytes
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			repl, sentinel := filepath.Join(base, "replica"), filepath.Join(base, "sentinel")
			mustDo(t, os.Mkdir(sentinel, 0o755))
			if tt.prepare != nil {
				tt.prepare(t, repl, sentinel)
			}
			var entries []Entry
			if tt.entries != nil {
				entries = tt.entries(sentinel)
			}
			c := dial(t, hostileServer(t, entries, tt.block, tt.raw), nil)
			_, err := c.Sync(context.Background(), "data", repl, SyncOptions{Paths: tt.paths})
			t.Logf("refused: %v", err)
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("Sync from a hostile server = %v, want a protocol error", err)
			}
			if ents, _ := os.ReadDir(sentinel); len(ents) != 0 {
				t.Fatalf("hostile server wrote %d entries outside the volume", len(ents))
			}
			ents, _ := os.ReadDir(base)
			for _, e := range ents {
				if e.Name() != "replica" && e.Name() != "sentinel" {
					t.Fatalf("hostile server created %s outside the volume", e.Name())
				}
			}
			if _, err := os.Lstat(filepath.Join(repl, "f")); !os.IsNotExist(err) {
				t.Fatalf("a rejected file is visible: %v", err)
			}
			if _, err := os.Lstat(filepath.Join(repl, InternalPrefix+"f.tmp")); !os.IsNotExist(err) {
				t.Fatalf("the temp file of a rejected file was kept: %v", err)
			}
		})
	}
}

// TestHostileIndexWhileEarlyPlanning: files with an old copy are planned
// (and their temp files filled) while the index still streams in, before
// it is checked as a whole. An index that then fails (here: a path twice)
// still fails the sync, leaves the old copy as it was and writes nothing
// but temp files inside the volume, which the next good sync cleans up.
func TestHostileIndexWhileEarlyPlanning(t *testing.T) {
	base := t.TempDir()
	repl := filepath.Join(base, "replica")
	old := randBytes(t, 256<<10)
	writeFile(t, filepath.Join(repl, "f"), old, 0o644)
	next := append(bytes.Clone(old[:128<<10]), randBytes(t, 100<<10)...) // keeps the first block
	en := Entry{Path: "f", Kind: KindFile, Mode: 0o644, Size: int64(len(next)), ModTime: 1, BlockSize: BlockSizeFor(int64(len(next)))}
	en.Blocks = []Hash{blockSum(next[:128<<10]), blockSum(next[128<<10:])}
	written := make(chan struct{})
	c := dial(t, gatedIndexServer(t, en, written), nil)
	var once sync.Once
	c.hook = func(ev syncEvent, p string) {
		if ev == evCreate && p == InternalPrefix+"f.tmp" {
			once.Do(func() { close(written) })
		}
	}
	_, err := c.Sync(context.Background(), "data", repl, SyncOptions{})
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("Sync of an index with a path twice = %v, want a protocol error", err)
	}
	select {
	case <-written:
	default:
		t.Fatal("f's temp file was not filled early: the test no longer covers early planning")
	}
	got, err := os.ReadFile(filepath.Join(repl, "f"))
	mustDo(t, err)
	if !bytes.Equal(got, old) {
		t.Fatal("the old copy changed though the index was refused")
	}
	ents, err := os.ReadDir(repl)
	mustDo(t, err)
	for _, e := range ents {
		if e.Name() != "f" && !internalName(e.Name()) {
			t.Fatalf("a refused index left %s in the volume", e.Name())
		}
	}
	if ents, _ := os.ReadDir(base); len(ents) != 1 {
		t.Fatalf("a refused index left %d entries beside the volume", len(ents)-1)
	}
	// The next sync, from a good primary, removes what the refused one left.
	prim := filepath.Join(base, "primary")
	writeFile(t, filepath.Join(prim, "f"), next, 0o644)
	if _, err := dial(t, startServer(t, map[string]string{"data": prim}, nil), nil).Sync(context.Background(), "data", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
}

// gatedIndexServer answers an index request with en, then, once gate is
// closed (or after 5 s), with en again and the end of the index.
func gatedIndexServer(t *testing.T, en Entry, gate <-chan struct{}) string {
	ln := listenTLS(t)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		fr, fw, ok := welcome(conn, ProtocolVersion)
		if !ok {
			return
		}
		if typ, _, err := fr.next(); err != nil || typ != msgIndex {
			return
		}
		entries := func() {
			var b enc
			b.u32(1)
			encodeEntry(&b, &en)
			fw.write(msgEntries, b.b)
			fw.flush()
		}
		entries()
		select {
		case <-gate:
		case <-time.After(5 * time.Second):
		}
		entries()
		var end enc
		end.u32(2)
		fw.write(msgIndexEnd, end.b)
		fw.flush()
		fr.next() // until the client hangs up
	}()
	return ln.Addr().String()
}
