package volsync

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// hostileServer speaks the protocol but answers every index request with
// entries and every blocks request with blocks from the given function.
func hostileServer(t *testing.T, entries []Entry, block func(i uint32) []byte, rawIndex []byte) string {
	ln := listenTLS(t)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				fr, fw := newFrameReader(conn, 0), newFrameWriter(conn)
				if _, _, err := fr.next(); err != nil {
					return
				}
				var e enc
				e.u16(ProtocolVersion)
				fw.write(msgWelcome, e.b)
				fw.flush()
				for {
					typ, p, err := fr.next()
					if err != nil {
						return
					}
					switch typ {
					case msgIndex:
						if rawIndex != nil {
							conn.Write(rawIndex)
							continue
						}
						var b enc
						b.u32(uint32(len(entries)))
						for i := range entries {
							encodeEntry(&b, &entries[i])
						}
						fw.write(msgEntries, b.b)
						var end enc
						end.u32(uint32(len(entries)))
						fw.write(msgIndexEnd, end.b)
					case msgBlocks:
						req, _ := decodeFileRequest(p, false)
						for _, r := range req.ranges {
							var h enc
							h.u64(r.off)
							fw.write(msgBlockData, h.b, block(uint32(r.off/uint64(BlockSizeFor(req.size)))))
						}
						fw.write(msgBlocksEnd, []byte{blocksOK})
					}
					fw.flush()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func fileEntry(p string, data []byte) Entry {
	return Entry{Path: p, Kind: KindFile, Mode: 0o644, Size: int64(len(data)), ModTime: 1, BlockSize: BlockSizeFor(int64(len(data))), Blocks: []Hash{sha256.Sum256(data)}}
}

func TestHostileServer(t *testing.T) {
	hello := []byte("hello")
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
