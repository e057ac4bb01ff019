//go:build integration

package main

import (
	"os"
	"strings"
	"testing"
)

// TestSyncRowsSmall runs the four sync cases on a small tree against a real
// rsync daemon, plain and with --fsync, Budgie's primary in a process of
// its own (this test binary started again): every line is measured, the bytes
// counted at the socket cover at least the data, and the temp data is gone
// after.
func TestSyncRowsSmall(t *testing.T) {
	sc := syncScale{BigFiles: 2, BigSize: 8 << 20, SmallFiles: 16, SmallSize: 64 << 10,
		Edits: 50, EditSize: 100, ManyFiles: 300, FreshReps: 1, Reps: 2}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rows, err := syncRows(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("got %d rows, want 4", len(rows))
	}
	for _, r := range rows {
		for _, l := range r.Lines {
			if !l.Budgie.Measured() || !l.Peer.Measured() || l.Budgie.Value <= 0 || l.Peer.Value <= 0 {
				t.Fatalf("%s, %s: budgie %v, rsync %v", r.Title, l.Measure, l.Budgie, l.Peer)
			}
			t.Logf("%s, %s: budgie %v, rsync %v (%s)", r.Title, l.Measure, l.Budgie, l.Peer, l.RatioText())
		}
	}
	if len(rows[0].Lines) != 4 || !strings.HasPrefix(rows[0].Lines[2].Measure, "bytes") {
		t.Fatalf("lines of %s: %+v", rows[0].Title, rows[0].Lines)
	}
	if b := rows[0].Lines[2].Budgie.Value; b < float64(sc.total()) {
		t.Fatalf("a fresh copy of %d bytes moved %v bytes", sc.total(), b)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("sync rows left %d entries in the temp directory", len(left))
	}
}
