// Package timing records how long the named phases of one operation take:
// the per-phase breakdown `BUDGIE_TIMINGS=1 budgie --headless run …`
// prints and `make bench` reports. A context without a Recorder records
// nothing, at the cost of one context lookup per phase.
package timing

import (
	"context"
	"sync"
	"time"
)

// Span is one finished phase.
type Span struct {
	// Name says what the phase did ("create/containerd", "start/task").
	Name string
	// Start is when it began; Duration how long it took.
	Start    time.Time
	Duration time.Duration
}

// Recorder collects the spans of one operation; safe for concurrent use.
// The zero value is not usable: call NewRecorder.
type Recorder struct {
	origin time.Time
	mu     sync.Mutex
	spans  []Span
}

// NewRecorder returns a Recorder whose offsets count from origin (the
// process's start, usually).
func NewRecorder(origin time.Time) *Recorder { return &Recorder{origin: origin} }

// Origin is the time offsets count from.
func (r *Recorder) Origin() time.Time { return r.origin }

// Spans returns the finished spans in the order they ended.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// MaxSpans bounds what one Recorder keeps: a long-running front end
// (nest) records its start-up, not hours of polling.
const MaxSpans = 1000

// Add records a finished span; past MaxSpans it is dropped.
func (r *Recorder) Add(name string, start time.Time, d time.Duration) {
	r.mu.Lock()
	if len(r.spans) < MaxSpans {
		r.spans = append(r.spans, Span{Name: name, Start: start, Duration: d})
	}
	r.mu.Unlock()
}

type key struct{}

// NewContext returns ctx carrying r; Start calls under it record into r.
func NewContext(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, key{}, r)
}

// FromContext returns the Recorder ctx carries, or nil.
func FromContext(ctx context.Context) *Recorder {
	r, _ := ctx.Value(key{}).(*Recorder)
	return r
}

// Start begins the phase name and returns the function that ends it
// (call it once, usually deferred). Without a Recorder in ctx it does
// nothing.
func Start(ctx context.Context, name string) (end func()) {
	r := FromContext(ctx)
	if r == nil {
		return func() {}
	}
	t0 := time.Now()
	return func() { r.Add(name, t0, time.Since(t0)) }
}
