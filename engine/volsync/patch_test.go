package volsync

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestScatteredEdits checks that small edits cost about one sub-block
// each, not a whole block: the bytes on the wire stay under edits ×
// (sub-block size + 1 KiB of sums and framing) plus the index.
func TestScatteredEdits(t *testing.T) {
	base := t.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	const size = 32<<20 + 12345 // a short last block and sub-block
	bigPath := filepath.Join(prim, "big.bin")
	writeFile(t, bigPath, randBytes(t, size), 0o644)
	addr := startServer(t, map[string]string{"data": prim}, nil)
	ctx := context.Background()
	if _, err := dial(t, addr, nil).Sync(ctx, "data", repl, SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	sub := subBlockSize(BlockSizeFor(size))
	rng := rand.New(rand.NewPCG(1, 2))
	const edits = 200
	f, err := os.OpenFile(bigPath, os.O_WRONLY, 0)
	mustDo(t, err)
	for range edits {
		// Inside one sub-block, so each edit touches exactly one.
		off := int64(rng.IntN(size/sub))*int64(sub) + int64(rng.IntN(sub-100))
		_, err := f.WriteAt(randBytes(t, 100), off)
		mustDo(t, err)
	}
	_, err = f.WriteAt(randBytes(t, 10), size-5) // the very end, growing the file
	mustDo(t, err)
	mustDo(t, f.Close())

	// A new client hashes the old copy cold, as after a restart.
	st, err := dial(t, addr, nil).Sync(ctx, "data", repl, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, prim, repl)
	wire := st.BytesSent + st.BytesReceived
	limit := int64(edits+1)*int64(sub+1024) + st.IndexBytes
	t.Logf("%d edits: %d bytes on the wire (index %d, data %d, limit %d), %d blocks patched of %d requested",
		edits, wire, st.IndexBytes, st.BytesFetched, limit, st.BlocksPatched, st.BlocksRequested)
	if wire > limit || st.BlocksPatched == 0 || st.BytesFetched > int64(edits+2)*int64(sub) {
		t.Fatalf("scattered edits cost %d bytes (limit %d): %+v", wire, limit, st)
	}
}

func TestPatchShapes(t *testing.T) {
	const size = 1<<20 + 777
	tests := []struct {
		name   string
		change func(old []byte) []byte
	}{
		{"shrunk inside a block", func(old []byte) []byte { return old[:size-300000] }},
		{"grown by half a block", func(old []byte) []byte { return append(old, make([]byte, 64<<10)...) }},
		{"inserted byte shifts everything", func(old []byte) []byte { return append([]byte{1}, old...) }},
		{"every other sub-block changed", func(old []byte) []byte {
			out := append([]byte(nil), old...)
			for off := 0; off < len(out); off += 8 << 10 {
				out[off] ^= 0xff
			}
			return out
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
			old := randBytes(t, size)
			writeFile(t, filepath.Join(prim, "f"), old, 0o644)
			addr := startServer(t, map[string]string{"data": prim}, nil)
			ctx := context.Background()
			if _, err := dial(t, addr, nil).Sync(ctx, "data", repl, SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(prim, "f"), tt.change(old), 0o644)
			st, err := dial(t, addr, nil).Sync(ctx, "data", repl, SyncOptions{})
			if err != nil {
				t.Fatal(err)
			}
			assertSameTree(t, prim, repl)
			if st.Stale != 0 {
				t.Fatalf("stats = %+v", st)
			}
		})
	}
}
