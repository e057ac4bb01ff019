package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// syncScale sizes the sync rows. The defaults are the issue's: a 1 GiB
// tree, a 1% change of it, 1,000 scattered edits and 10,000 small files.
type syncScale struct {
	// BigFiles of BigSize bytes plus SmallFiles of SmallSize make the tree.
	BigFiles   int
	BigSize    int64
	SmallFiles int
	SmallSize  int64
	// Edits is the number of EditSize-byte overwrites of the scattered case.
	Edits, EditSize int
	// ManyFiles is the small-files case: files of 512 B to 8 KiB.
	ManyFiles int
	// FreshReps times the 1 GiB fresh copy; Reps the other cases.
	FreshReps, Reps int
}

// defaultSyncScale is what `make bench` measures: 4 × 224 MiB + 512 × 256 KiB = 1 GiB.
var defaultSyncScale = syncScale{BigFiles: 4, BigSize: 224 << 20, SmallFiles: 512, SmallSize: 256 << 10,
	Edits: 1000, EditSize: 100, ManyFiles: 10000, FreshReps: 3, Reps: 5}

// total is the size of the tree in bytes.
func (s syncScale) total() int64 {
	return int64(s.BigFiles)*s.BigSize + int64(s.SmallFiles)*s.SmallSize
}

// syncGoalBytes is the bytes goal: no more than 1.1× rsync's.
const syncGoalBytes = 1.1

// syncCase is one comparison: prepare runs untimed before each round, then
// each side syncs volume into its own replica directory.
type syncCase struct {
	title, measure, volume string
	reps                   int
	fresh                  bool // the replica is emptied before each sync
	prepare                func(round int) error
}

// syncRows measures the four sync cases against an rsync daemon. Every
// byte of test data lives under a temp directory removed on return.
func syncRows(sc syncScale) (rows []Row, err error) {
	work, err := os.MkdirTemp("", "budgie-bench-sync")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	tree, many := filepath.Join(work, "tree"), filepath.Join(work, "many")
	rng := rand.New(rand.NewChaCha8([32]byte{'b', 'u', 'd', 'g', 'i', 'e'}))
	if err := makeSyncTree(rng, tree, sc); err != nil {
		return nil, err
	}
	if err := makeManyFiles(rng, many, sc.ManyFiles); err != nil {
		return nil, err
	}
	vols := map[string]string{"tree": tree, "many": many}
	bs, err := startBudgieSync(vols)
	if err != nil {
		return nil, err
	}
	defer bs.close()
	rs, err := startRsync(vols, work)
	if err != nil {
		return nil, err
	}
	defer rs.stop()
	big := func(i int) string { return filepath.Join(tree, "big", fmt.Sprintf("%02d.bin", i)) }
	change := sc.total() / 100
	// rsync's quick check compares whole seconds: every edit moves the
	// file's mtime to a new second so neither side can skip it.
	stamp := time.Now().Add(-time.Hour).Truncate(time.Second)
	touch := func(p string) error {
		stamp = stamp.Add(time.Second)
		return os.Chtimes(p, stamp, stamp)
	}
	cases := []syncCase{
		{title: fmt.Sprintf("sync: %s tree, fresh", sizeText(sc.total())), volume: "tree", reps: sc.FreshReps, fresh: true,
			measure: fmt.Sprintf("%d files of %s and %d of %s into an empty replica", sc.BigFiles, sizeText(sc.BigSize), sc.SmallFiles, sizeText(sc.SmallSize))},
		{title: "sync: 1% contiguous change", volume: "tree", reps: sc.Reps,
			measure: fmt.Sprintf("%s rewritten in the middle of one %s file, replica up to date before", sizeText(change), sizeText(sc.BigSize)),
			prepare: func(round int) error {
				p := big(round % sc.BigFiles)
				if err := overwrite(rng, p, sc.BigSize/2-change/2, int(change)); err != nil {
					return err
				}
				return touch(p)
			}},
		{title: fmt.Sprintf("sync: %d scattered small edits", sc.Edits), volume: "tree", reps: sc.Reps,
			measure: fmt.Sprintf("%d random %d-byte overwrites across the %d big files", sc.Edits, sc.EditSize, sc.BigFiles),
			prepare: func(int) error {
				for range sc.Edits {
					if err := overwrite(rng, big(rng.IntN(sc.BigFiles)), rng.Int64N(sc.BigSize-int64(sc.EditSize)), sc.EditSize); err != nil {
						return err
					}
				}
				for i := range sc.BigFiles {
					if err := touch(big(i)); err != nil {
						return err
					}
				}
				return nil
			}},
		{title: fmt.Sprintf("sync: %d small files, fresh", sc.ManyFiles), volume: "many", reps: sc.Reps, fresh: true,
			measure: fmt.Sprintf("%d files of 512 B – 8 KiB in %d directories into an empty replica", sc.ManyFiles, (sc.ManyFiles+99)/100)},
	}
	bdst, rdst := filepath.Join(work, "budgie-replica"), filepath.Join(work, "rsync-replica")
	for _, c := range cases {
		fmt.Fprintf(os.Stderr, "benchrun: measuring %s…\n", c.title)
		r, err := runSyncCase(c, bs, rs, bdst, rdst)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", c.title, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// runSyncCase runs one untimed warm-up round and c.reps timed rounds; each
// round prepares the primary, then Budgie syncs, then rsync.
func runSyncCase(c syncCase, bs *budgieSync, rs *rsyncDaemon, bdst, rdst string) (Row, error) {
	bdst, rdst = bdst+"-"+c.volume, rdst+"-"+c.volume
	var bres, rres []syncResult
	for i := -1; i < c.reps; i++ {
		if c.prepare != nil {
			if err := c.prepare(i + 1); err != nil {
				return Row{}, fmt.Errorf("prepare the primary: %w", err)
			}
		}
		b, err := syncSide(c.fresh, bdst, func() (syncResult, error) { return bs.sync(c.volume, bdst) })
		if err != nil {
			return Row{}, fmt.Errorf("budgie side: %w", err)
		}
		r, err := syncSide(c.fresh, rdst, func() (syncResult, error) { return rs.sync(c.volume, rdst) })
		if err != nil {
			return Row{}, fmt.Errorf("rsync side: %w", err)
		}
		if i >= 0 {
			bres, rres = append(bres, b), append(rres, r)
		}
	}
	if err := sameTrees(bdst, rdst); err != nil {
		return Row{}, err
	}
	if c.fresh {
		os.RemoveAll(bdst)
		os.RemoveAll(rdst)
	}
	return syncRow(c, bres, rres), nil
}

// syncSide empties dst for a fresh copy, flushes dirty pages so neither
// side pays for the other's writes, then runs the sync.
func syncSide(fresh bool, dst string, f func() (syncResult, error)) (syncResult, error) {
	if fresh {
		if err := os.RemoveAll(dst); err != nil {
			return syncResult{}, err
		}
	}
	syscall.Sync()
	return f()
}

// syncRow turns both sides' results into a row with time and bytes lines.
func syncRow(c syncCase, bres, rres []syncResult) Row {
	col := func(rs []syncResult, f func(syncResult) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return Median(xs)
	}
	secs := func(r syncResult) float64 { return r.secs }
	bytes := func(r syncResult) float64 { return r.bytes }
	bt, rt := Dur(col(bres, secs)), Dur(col(rres, secs))
	bb, rb := Figure{Value: col(bres, bytes), Unit: Bytes}, Figure{Value: col(rres, bytes), Unit: Bytes}
	reps := fmt.Sprintf("%d + %d, alternated", len(bres), len(rres))
	return Row{
		Title: c.title, Budgie: "budgie sync (sync.Server → sync.Client, mutual TLS 1.3 on 127.0.0.1)",
		Peer: "rsync daemon over TCP on 127.0.0.1: `rsync -a rsync://127.0.0.1:PORT/mod/ dst/`",
		Lines: []Line{
			{Measure: "wall time, median", Budgie: bt, Peer: rt, Reps: reps, Goal: "at least rsync's speed", Verdict: Verdict(bt, bt.Value <= rt.Value)},
			{Measure: "bytes on the wire, median", Budgie: bb, Peer: rb, Reps: reps,
				Goal: fmt.Sprintf("≤ %.1f× rsync's", syncGoalBytes), Verdict: Verdict(bb, bb.Value <= syncGoalBytes*rb.Value)},
		},
		Notes: []string{c.measure + ". Budgie's server and client run in the benchmark's process (a new client connection per sync, " +
			"so the replica side hashes its old files cold, like rsync); its bytes are Stats.BytesSent + BytesReceived (frames, before TLS). " +
			"rsync's are the client's --stats \"Total bytes sent\" + \"received\" (no encryption). Budgie fsyncs every file it writes; rsync does not. " +
			"Before each timed sync the page cache's dirty pages are flushed (sync(2)), untimed."},
	}
}
