package volsync

import (
	"runtime"
	"sync"
)

// planAll plans every file, hashing old copies on all cores, and sends
// each plan on ready as soon as it is made, so its requests go out while
// others are still being planned; ready is closed at the end. The plans
// made early (see early.go) are handed on first: they hold shares of the
// plan budget, which only their commits give back, so they must reach
// the stream before a planner waits for the budget. Planning stops when
// r.quit is closed (the stream failed, or ctx ended).
func (r *receiver) planAll(ready chan<- *filePlan) error {
	defer close(ready)
	early, rest := r.early.handOver(r.files)
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range jobs {
				p := r.planOne(r.files[i])
				if p == nil {
					continue
				}
				select {
				case ready <- p:
				case <-r.quit:
					p.share.release()
				}
			}
		})
	}
	if r.feed(jobs, early) {
		r.feed(jobs, rest)
	}
	close(jobs)
	wg.Wait()
	return r.ctx.Err()
}

// feed hands the planners the files at idx; false when planning stopped.
func (r *receiver) feed(jobs chan<- int, idx []int) bool {
	for _, i := range idx {
		select {
		case jobs <- i:
		case <-r.quit:
			return false
		}
	}
	return true
}

// planOne takes over en's early plan or plans it, with a share of the
// plan budget when it has an old copy; nil when planning is to stop. An
// early plan that does not fit is made again with its share: waiting for
// another could wait for early plans not yet handed to the stream.
func (r *receiver) planOne(en *Entry) *filePlan {
	var sh *share
	if p := r.early.take(en.Path); p != nil {
		if r.basis[en.Path] == en.Path && sameEntry(p.en, en) {
			p.en = en
			return p
		}
		sh = p.share
	}
	if sh == nil && r.basis[en.Path] != "" {
		var ok bool
		if sh, ok = r.reserve(en, true); !ok {
			return nil
		}
	}
	p := r.plan(en)
	p.share = sh
	if r.quitting() {
		sh.release()
		return nil
	}
	return p
}

// stopPlanning makes the planners stop: the transfer failed or the pass
// ends.
func (r *receiver) stopPlanning() {
	r.quitOnce.Do(func() { close(r.quit) })
}

// quitting reports whether planning is to stop.
func (r *receiver) quitting() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// countPlan adds what a written file's plan fetched and reused to the
// stats.
func (r *receiver) countPlan(p *filePlan) {
	for _, sp := range p.spans {
		r.st.BytesFetched += int64(sp.n)
	}
	r.st.BlocksRequested += int64(len(p.fetch) + len(p.partial))
	r.st.BlocksReused += int64(len(p.copy))
	for _, ok := range p.have {
		if ok {
			r.st.BlocksReused++
		}
	}
	r.st.BlocksPatched += int64(len(p.partial))
}

// uncovered returns the first block of p that no source fills (kept,
// copied, fetched or patched), -1 when every block has one. A file with
// such a block would be committed with zeros there: it must never be.
func (p *filePlan) uncovered() int {
	fetched := make(map[int]bool, len(p.fetch))
	for _, i := range p.fetch {
		fetched[i] = true
	}
	for i := range p.en.Blocks {
		_, copied := p.copy[i]
		_, patched := p.partial[i]
		if !p.have[i] && !copied && !fetched[i] && !patched {
			return i
		}
	}
	return -1
}

func toU32(xs []int) []uint32 {
	out := make([]uint32, len(xs))
	for i, x := range xs {
		out[i] = uint32(x)
	}
	return out
}
