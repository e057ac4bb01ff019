package volsync

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		repl := filepath.Join(b.TempDir(), "replica")
		b.StartTimer()
		cpu.start()
		if _, err := c.Sync(context.Background(), "data", repl, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		cpu.stop()
	}
	cpu.report(b)
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

// BenchmarkScatteredEdits syncs two 128 MiB files after 300 random
// 100-byte overwrites, over a new connection each time (the replica's
// hash cache is cold, as in tools/benchrun).
func BenchmarkScatteredEdits(b *testing.B) {
	base := b.TempDir()
	prim, repl := filepath.Join(base, "primary"), filepath.Join(base, "replica")
	const size = 128 << 20
	for i := range 2 {
		writeFile(b, filepath.Join(prim, "big", string(rune('a'+i))), randBytes(b, size), 0o644)
	}
	addr := startServer(b, map[string]string{"data": prim}, nil)
	ctx := context.Background()
	if _, err := dial(b, addr, nil).Sync(ctx, "data", repl, SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		for range 300 {
			p := filepath.Join(prim, "big", string(rune('a'+rng.IntN(2))))
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			f.WriteAt(randBytes(b, 100), rng.Int64N(size-100))
			f.Close()
		}
		syscall.Sync()
		b.StartTimer()
		cpu.start()
		c := dial(b, addr, nil)
		if _, err := c.Sync(ctx, "data", repl, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		c.Close()
		cpu.stop()
	}
	cpu.report(b)
}

// BenchmarkManyFiles syncs 5,000 files of 512 B – 8 KiB into an empty
// replica over a new connection each time.
func BenchmarkManyFiles(b *testing.B) {
	base := b.TempDir()
	prim := filepath.Join(base, "primary")
	rng := mrand.New(mrand.NewPCG(1, 2))
	for i := range 5000 {
		writeFile(b, filepath.Join(prim, fmt.Sprintf("d%02d/f%05d", i/100, i)), randBytes(b, 512+rng.IntN(8<<10-512)), 0o644)
	}
	addr := startServer(b, map[string]string{"data": prim}, nil)
	ctx := context.Background()
	var cpu cpuMeter
	for b.Loop() {
		b.StopTimer()
		repl := filepath.Join(b.TempDir(), "replica")
		syscall.Sync()
		b.StartTimer()
		cpu.start()
		c := dial(b, addr, nil)
		if _, err := c.Sync(ctx, "data", repl, SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		c.Close()
		cpu.stop()
	}
	cpu.report(b)
}

// cpuMeter adds up the CPU time (user and system, both sides of the
// sync run in this process) of the timed part of a benchmark, a figure
// less at the mercy of a loaded machine than wall time.
type cpuMeter struct {
	t0    time.Duration
	total time.Duration
	n     int
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (m *cpuMeter) start() { m.t0 = cpuTime() }

func (m *cpuMeter) stop() {
	m.total += cpuTime() - m.t0
	m.n++
}

func (m *cpuMeter) report(b *testing.B) {
	if m.n > 0 {
		b.ReportMetric(float64(m.total.Milliseconds())/float64(m.n), "cpu-ms/op")
	}
}
