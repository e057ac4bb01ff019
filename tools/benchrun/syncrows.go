package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	bs, err := startBudgieSync(vols, work)
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
	sides := []syncSide{
		{name: "budgie", sync: bs.sync},
		{name: "rsync", sync: func(vol, dst string) (syncResult, error) { return rs.sync(vol, dst) }},
		{name: "rsync-fsync", sync: func(vol, dst string) (syncResult, error) { return rs.sync(vol, dst, "--fsync") }},
	}
	for _, c := range cases {
		fmt.Fprintf(os.Stderr, "benchrun: measuring %s…\n", c.title)
		before := loadAverage()
		res, err := runSyncCase(c, sides, work)
		if err != nil {
			return rows, fmt.Errorf("%s: %w", c.title, err)
		}
		r := syncRow(c, rs.version, res)
		r.Notes = append(r.Notes, fmt.Sprintf("Machine load (1-minute load average, /proc/loadavg) before and after this row: %s and %s, "+
			"on %d cores; whatever else ran shares the disk and the CPUs with all three sides.", before, loadAverage(), runtime.NumCPU()))
		rows = append(rows, r)
	}
	return rows, nil
}

// loadAverage is the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// syncSide is one contender of the sync rows: it copies a volume into a
// replica directory of its own.
type syncSide struct {
	name string
	sync func(volume, dst string) (syncResult, error)
}

// runSyncCase runs one untimed warm-up round and c.reps timed rounds. Each
// round prepares the primary, then every side syncs into its own replica;
// the order rotates from round to round so no side always goes first
// (or always right after the primary was written). It returns each side's
// timed results, by index in sides.
func runSyncCase(c syncCase, sides []syncSide, work string) ([][]syncResult, error) {
	dst := func(s syncSide) string { return filepath.Join(work, s.name+"-replica-"+c.volume) }
	res := make([][]syncResult, len(sides))
	for i := -1; i < c.reps; i++ {
		if c.prepare != nil {
			if err := c.prepare(i + 1); err != nil {
				return nil, fmt.Errorf("prepare the primary: %w", err)
			}
		}
		for k := range sides {
			j := (k + i + 1) % len(sides)
			s := sides[j]
			r, err := timeSide(c.fresh, dst(s), func() (syncResult, error) { return s.sync(c.volume, dst(s)) })
			if err != nil {
				return nil, fmt.Errorf("%s side: %w", s.name, err)
			}
			if i >= 0 {
				res[j] = append(res[j], r)
			}
		}
	}
	for _, s := range sides[1:] {
		if err := sameTrees(dst(sides[0]), dst(s)); err != nil {
			return nil, fmt.Errorf("%s against %s: %w", sides[0].name, s.name, err)
		}
	}
	if c.fresh {
		for _, s := range sides {
			os.RemoveAll(dst(s))
		}
	}
	return res, nil
}

// timeSide empties dst for a fresh copy, flushes dirty pages so no side
// pays for another's writes, then runs the sync.
func timeSide(fresh bool, dst string, f func() (syncResult, error)) (syncResult, error) {
	if fresh {
		if err := os.RemoveAll(dst); err != nil {
			return syncResult{}, err
		}
	}
	syscall.Sync()
	return f()
}

// syncRow turns the three sides' results (Budgie, rsync, rsync --fsync)
// into a row: wall time and bytes on the wire against each peer. The goal
// is set at equal durability, against rsync --fsync.
func syncRow(c syncCase, rsyncVersion string, res [][]syncResult) Row {
	med := func(rs []syncResult, f func(syncResult) float64) float64 {
		xs := make([]float64, len(rs))
		for i, r := range rs {
			xs[i] = f(r)
		}
		return Median(xs)
	}
	secs := func(r syncResult) float64 { return r.secs }
	bytes := func(r syncResult) float64 { return r.bytes }
	bt, rt, ft := Dur(med(res[0], secs)), Dur(med(res[1], secs)), Dur(med(res[2], secs))
	fig := func(rs []syncResult) Figure { return Figure{Value: med(rs, bytes), Unit: Bytes} }
	bb, rb, fb := fig(res[0]), fig(res[1]), fig(res[2])
	reps := fmt.Sprintf("%d + %d + %d, alternated", len(res[0]), len(res[1]), len(res[2]))
	return Row{
		Title: c.title, Budgie: "budgie sync (sync.Server → sync.Client, mutual TLS 1.3 on 127.0.0.1)",
		Peer: fmt.Sprintf("rsync %s daemon over TCP on 127.0.0.1: `rsync -a rsync://127.0.0.1:PORT/mod/ dst/`, "+
			"and the same with `--fsync` (the durable peer)", rsyncVersion),
		Lines: []Line{
			{Measure: "wall time, median, vs rsync --fsync", Budgie: bt, Peer: ft, Reps: reps,
				Goal: "at least rsync's speed at equal durability", Verdict: Verdict(bt, bt.Value <= ft.Value)},
			{Measure: "wall time, median, vs rsync (no fsync)", Budgie: bt, Peer: rt, Reps: reps},
			{Measure: "bytes on the wire, median, vs rsync --fsync", Budgie: bb, Peer: fb, Reps: reps,
				Goal: fmt.Sprintf("≤ %.1f× rsync's", syncGoalBytes), Verdict: Verdict(bb, bb.Value <= syncGoalBytes*fb.Value)},
			{Measure: "bytes on the wire, median, vs rsync (no fsync)", Budgie: bb, Peer: rb, Reps: reps},
		},
		Notes: []string{c.measure + ". Each round the primary is prepared (untimed), then Budgie, rsync and rsync --fsync " +
			"each sync into a replica of their own, in an order that rotates from round to round; before each timed sync " +
			"the page cache's dirty pages are flushed (sync(2)), untimed. The three replicas are compared file by file " +
			"(mode, mtime, SHA-256) after the last round.",
			"Durability. Budgie reports a file synced only once its data is on disk (an fsync of each file of 1 MiB " +
				"or more, one syncfs for a batch of smaller ones), it was renamed from its temp name and its directory " +
				"was fsynced, and the sync returns only when every file is: all inside the timing. rsync --fsync " +
				"fsyncs each file before its rename but never a directory, so a crash may still lose renames it " +
				"finished; plain rsync leaves everything to the page cache. The goal compares with rsync --fsync, the " +
				"closest to equal durability; plain rsync is shown for reference.",
			"Budgie's primary runs in a process of its own, like rsync's daemon, and every sync dials a new connection, " +
				"so the replica side hashes its old files cold, like rsync. " +
				"Bytes. Budgie's are counted at the client's TCP socket, both directions: TLS records and the handshake " +
				"included. " +
				"rsync's are the client's --stats \"Total bytes sent\" + \"received\" (no encryption).",
		},
	}
}
