package volsync

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFreshSync64MiB syncs a 64 MiB tree (one 48 MiB file and 1,024
// files of 16 KiB) into an empty replica over loopback TLS.
func BenchmarkFreshSync64MiB(b *testing.B) {
	prim := filepath.Join(b.TempDir(), "primary")
	writeFile(b, filepath.Join(prim, "big.bin"), randBytes(b, 48<<20), 0o644)
	for i := range 1024 {
		writeFile(b, filepath.Join(prim, "small", string(rune('a'+i%26)), filepath.Base(b.TempDir())+string(rune('a'+i/26))), randBytes(b, 16<<10), 0o644)
	}
	addr := startServer(b, map[string]string{"data": prim}, nil)
	c := dial(b, addr, nil)
	b.SetBytes(64 << 20)
	for b.Loop() {
		b.StopTimer()
		repl := filepath.Join(b.TempDir(), "replica")
		b.StartTimer()
		if _, err := c.Sync(context.Background(), "data", repl, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChange1Percent syncs a 64 MiB file after 1% of it changed.
func BenchmarkChange1Percent(b *testing.B) {
	base := b.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	const size = 64 << 20
	writeFile(b, filepath.Join(prim, "big.bin"), randBytes(b, size), 0o644)
	addr := startServer(b, map[string]string{"data": prim}, nil)
	c := dial(b, addr, nil)
	ctx := context.Background()
	if _, err := c.Sync(ctx, "data", repl, SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	var wire int64
	for b.Loop() {
		b.StopTimer()
		f, err := os.OpenFile(filepath.Join(prim, "big.bin"), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		f.WriteAt(randBytes(b, size/100), size/3)
		f.Close()
		b.StartTimer()
		st, err := c.Sync(ctx, "data", repl, SyncOptions{})
		if err != nil {
			b.Fatal(err)
		}
		wire += st.BytesReceived + st.BytesSent
	}
	b.ReportMetric(float64(wire)/float64(b.N), "wire-B/op")
}
