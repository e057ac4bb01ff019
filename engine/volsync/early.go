package volsync

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// The primary hashes its files while it streams the index, and a replica
// that waited for the whole index before hashing its own old copies would
// leave the disk idle all that time. So as soon as the first entries
// arrive, the replica opens and scans its directory, and every file whose
// old copy lies at the same path (a singly linked regular file whose size
// or mtime differs: exactly what diff will give that basis) is planned
// right away on a few goroutines — its old copy hashed and the blocks it
// keeps written into the temp file — while the rest of the index streams
// in. planAll takes these plans over. Each takes a share of the plan
// budget first (see budget.go); a file that finds none left is planned
// later by planAll, as no early planner may wait for a commit. Entries are
// only decoded and checked one by one at this point; the index as a whole
// is checked when it is complete, and a bad one fails the sync (the temp
// files the planners made are deleted when the pass ends).

// earlyQueue bounds the entries waiting for an early planner.
const earlyQueue = 1024

// earlyPlans plans files while the index streams in. A nil *earlyPlans
// (a dry run) plans nothing.
type earlyPlans struct {
	r        *receiver
	localDir string
	prefixes []string

	started bool
	local   map[string]Entry
	temps   map[string]string     // temp path → itself, as found locally
	entries []Entry               // the local scan, for diff
	tempsL  []string              // the temp files it found
	plans   map[string]*earlyPlan // by path; written by offer only
	jobs    chan earlyJob
	wg      sync.WaitGroup
	seal    sync.Once
	stop    atomic.Bool // planAll took over, or the pass ended early: queued files are skipped
}

// earlyPlan is a plan being made: p is set by an early planner (nil:
// skipped) and read after handOver waited for the planners.
type earlyPlan struct {
	p *filePlan
}

type earlyJob struct {
	en *Entry
	ep *earlyPlan
}

// offer takes a batch of index entries (the index's each callback).
func (e *earlyPlans) offer(batch []Entry) error {
	if !e.started {
		if err := e.start(); err != nil {
			return err
		}
	}
	for i := range batch {
		en := &batch[i]
		loc, ok := e.local[en.Path]
		if !ok || en.Kind != KindFile || loc.Kind != KindFile || loc.links != 1 ||
			loc.Size == en.Size && loc.ModTime == en.ModTime {
			continue
		}
		if _, dup := e.plans[en.Path]; dup {
			continue // a bad index: it fails when complete
		}
		ep := &earlyPlan{}
		e.plans[en.Path] = ep
		cp := *en
		select {
		case e.jobs <- earlyJob{&cp, ep}:
		case <-e.r.ctx.Done():
			return e.r.ctx.Err()
		}
	}
	return nil
}

// start opens the replica (now that the primary answered with entries),
// scans it and starts the planners.
func (e *earlyPlans) start() error {
	e.started = true
	root, err := openLocal(e.localDir, false)
	if err != nil {
		return err
	}
	e.r.root = root
	e.plans = map[string]*earlyPlan{}
	e.jobs = make(chan earlyJob, earlyQueue)
	for range runtime.GOMAXPROCS(0) {
		e.wg.Go(e.run)
	}
	e.entries, e.tempsL, err = scanLocal(root, e.prefixes)
	if err != nil {
		return fmt.Errorf("scan replica: %w", err)
	}
	e.local = make(map[string]Entry, len(e.entries))
	for _, en := range e.entries {
		e.local[en.Path] = en
	}
	e.temps = map[string]string{}
	for _, t := range e.tempsL {
		e.temps[t] = t
	}
	return nil
}

func (e *earlyPlans) run() {
	for j := range e.jobs {
		if !e.stop.Load() && !e.r.quitting() {
			if sh, ok := e.r.reserve(j.en, false); ok {
				p := e.r.planWith(j.en, j.en.Path, e.temps[tempPath(j.en.Path)])
				p.share = sh
				j.ep.p = p
			}
		}
	}
}

// sealed says no entry will be offered any more: the planners end once
// the queue is done.
func (e *earlyPlans) sealed() {
	if e != nil && e.started {
		e.seal.Do(func() { close(e.jobs) })
	}
}

// take returns the plan made early for path; nil when there is none.
// Only after handOver.
func (e *earlyPlans) take(path string) *filePlan {
	if e == nil || !e.started {
		return nil
	}
	if ep := e.plans[path]; ep != nil {
		return ep.p
	}
	return nil
}

// handOver ends early planning once the index is complete: the files
// still queued are left to planAll, the plans in progress are waited for.
// It splits the indexes of files into those with an early plan and the
// rest, and gives back the shares of early plans no file takes. planAll
// hands the early plans to the stream before any planner may wait for the
// budget, which they hold.
func (e *earlyPlans) handOver(files []*Entry) (early, rest []int) {
	if e == nil || !e.started {
		for i := range files {
			rest = append(rest, i)
		}
		return nil, rest
	}
	e.stop.Store(true)
	e.sealed()
	e.wg.Wait()
	taken := make(map[*earlyPlan]bool, len(e.plans))
	for i, en := range files {
		if ep := e.plans[en.Path]; ep != nil && ep.p != nil {
			taken[ep] = true
			early = append(early, i)
		} else {
			rest = append(rest, i)
		}
	}
	for _, ep := range e.plans {
		if ep.p != nil && !taken[ep] {
			ep.p.share.release()
		}
	}
	return early, rest
}

// abort skips the files not planned yet and waits for the planners.
func (e *earlyPlans) abort() {
	if e == nil || !e.started {
		return
	}
	e.stop.Store(true)
	e.sealed()
	e.wg.Wait()
}

// scanned returns the local scan start made; ok is false when none was.
func (e *earlyPlans) scanned() (entries []Entry, temps []string, ok bool) {
	if e == nil || !e.started {
		return nil, nil, false
	}
	return e.entries, e.tempsL, true
}

// sameEntry reports whether an early plan's entry is the index's entry.
func sameEntry(a, b *Entry) bool {
	return a.Path == b.Path && a.Kind == b.Kind && a.Size == b.Size && a.ModTime == b.ModTime &&
		a.BlockSize == b.BlockSize && slices.Equal(a.Blocks, b.Blocks) && a.Mode == b.Mode && a.UID == b.UID && a.GID == b.GID
}
