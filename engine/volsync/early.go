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
// in. planAll takes these plans over. Entries are only decoded and checked
// one by one at this point; the index as a whole is checked when it is
// complete, and a bad one fails the sync (temp files left behind are
// resumed or deleted by the next one).

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
	stop    atomic.Bool // the pass ended early: queued files are skipped
}

// earlyPlan is a plan being made; done is closed when p is set (nil:
// skipped).
type earlyPlan struct {
	p    *filePlan
	done chan struct{}
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
		ep := &earlyPlan{done: make(chan struct{})}
		e.plans[en.Path] = ep
		cp := *en
		select {
		case e.jobs <- earlyJob{&cp, ep}:
		case <-e.r.ctx.Done():
			close(ep.done)
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
		if !e.stop.Load() && e.r.ctx.Err() == nil {
			j.ep.p = e.r.planWith(j.en, j.en.Path, e.temps[tempPath(j.en.Path)])
		}
		close(j.ep.done)
	}
}

// sealed says no entry will be offered any more: the planners end once
// the queue is done.
func (e *earlyPlans) sealed() {
	if e != nil && e.started {
		e.seal.Do(func() { close(e.jobs) })
	}
}

// take returns the plan made early for path, waiting for it to be done;
// nil when there is none. Only after the index is complete.
func (e *earlyPlans) take(path string) *filePlan {
	if e == nil || !e.started {
		return nil
	}
	ep := e.plans[path]
	if ep == nil {
		return nil
	}
	<-ep.done
	return ep.p
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
