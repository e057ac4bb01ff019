package logs

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// BenchmarkDrive measures the driver: lines of 80 bytes from one stream to
// json.log, rotating at the default 10 MiB.
func BenchmarkDrive(b *testing.B) {
	line := strings.Repeat("x", 79) + "\n"
	data := bytes.Repeat([]byte(line), b.N)
	dir := b.TempDir()
	b.SetBytes(int64(len(line)))
	b.ResetTimer()
	if err := Drive(context.Background(), dir, bytes.NewReader(data), nil, DriverOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// benchLog100k is a log of 100,000 lines, made once per benchmark.
func benchLog100k(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	drive(b, dir, DriverOptions{MaxSize: 1 << 30}, numbered("line", 0, 100_000), "")
	return dir
}

// BenchmarkReadTail10 is `logs --tail 10` over 100,000 lines: it reads
// the end of the file only.
func BenchmarkReadTail10(b *testing.B) {
	dir := benchLog100k(b)
	b.ResetTimer()
	for b.Loop() {
		if err := Read(context.Background(), dir, ReadOptions{Stdout: io.Discard, Tail: 10}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadAll is `logs` over 100,000 lines, for comparison.
func BenchmarkReadAll(b *testing.B) {
	dir := benchLog100k(b)
	b.ResetTimer()
	for b.Loop() {
		if err := Read(context.Background(), dir, ReadOptions{Stdout: io.Discard, Tail: -1}); err != nil {
			b.Fatal(err)
		}
	}
}
