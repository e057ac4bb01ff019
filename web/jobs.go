package web

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// job is a long action begun from a page (a pull, a replication) whose
// progress streams to every open page of its kind.
type job struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Title   string    `json:"title"`
	Steps   []jobStep `json:"steps"`
	Done    bool      `json:"done"`
	Error   string    `json:"error,omitempty"`
	Result  string    `json:"result,omitempty"`
	Link    string    `json:"link,omitempty"`
	Started time.Time `json:"started"`
	byName  map[string]int
}

// jobStep is one part of a job: an image layer, a volume.
type jobStep struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Done   int64  `json:"done"`
	Total  int64  `json:"total"`
}

// jobBoard holds the recent jobs and wakes streams when one changes.
type jobBoard struct {
	mu      sync.Mutex
	jobs    map[string]*job
	seq     int
	changed chan struct{}
}

// maxJobs bounds the finished jobs kept for pages that open later.
const maxJobs = 20

func newJobBoard() *jobBoard {
	return &jobBoard{jobs: map[string]*job{}, changed: make(chan struct{})}
}

// start registers a job and returns its ID.
func (b *jobBoard) start(kind, title string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	id := fmt.Sprintf("%s-%d", kind, b.seq)
	b.jobs[id] = &job{ID: id, Kind: kind, Title: title, Started: time.Now(), byName: map[string]int{}}
	b.prune()
	b.wake()
	return id
}

// step records a step's progress.
func (b *jobBoard) step(id string, st jobStep) {
	b.update(id, func(j *job) {
		if i, ok := j.byName[st.Name]; ok {
			j.Steps[i] = st
			return
		}
		j.byName[st.Name] = len(j.Steps)
		j.Steps = append(j.Steps, st)
	})
}

// finish ends a job with its result or error.
func (b *jobBoard) finish(id, result, link string, err error) {
	b.update(id, func(j *job) {
		j.Done, j.Result, j.Link = true, result, link
		if err != nil {
			j.Error = err.Error()
		}
	})
}

func (b *jobBoard) update(id string, f func(*job)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if j := b.jobs[id]; j != nil {
		f(j)
		b.wake()
	}
}

// wake closes the changed channel (the caller holds mu).
func (b *jobBoard) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// prune drops the oldest finished jobs beyond maxJobs (the caller holds mu).
func (b *jobBoard) prune() {
	if len(b.jobs) <= maxJobs {
		return
	}
	var done []*job
	for _, j := range b.jobs {
		if j.Done {
			done = append(done, j)
		}
	}
	sort.Slice(done, func(i, k int) bool { return done[i].Started.Before(done[k].Started) })
	for i := 0; i < len(done) && len(b.jobs) > maxJobs; i++ {
		delete(b.jobs, done[i].ID)
	}
}

// snapshot returns copies of the jobs of kind, oldest first, and a channel
// closed at the next change.
func (b *jobBoard) snapshot(kind string) ([]job, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []job
	for _, j := range b.jobs {
		if j.Kind == kind {
			c := *j
			c.Steps = append([]jobStep(nil), j.Steps...)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Started.Before(out[k].Started) })
	return out, b.changed
}
