package timing

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestRecorder(t *testing.T) {
	origin := time.Now()
	r := NewRecorder(origin)
	ctx := NewContext(context.Background(), r)
	end := Start(ctx, "outer")
	var wg sync.WaitGroup
	for range 4 { // concurrent phases, as the network's prepare beside the task's create
		wg.Add(1)
		go func() { defer wg.Done(); defer Start(ctx, "outer/inner")() }()
	}
	wg.Wait()
	time.Sleep(2 * time.Millisecond)
	end()
	spans := r.Spans()
	if len(spans) != 5 || spans[4].Name != "outer" {
		t.Fatalf("spans = %+v, want 4 inner then outer", spans)
	}
	if spans[4].Duration < 2*time.Millisecond || spans[4].Start.Before(origin) {
		t.Errorf("outer = %+v: shorter than the work it wrapped, or before the origin", spans[4])
	}
	// Without a recorder nothing is recorded and nothing fails.
	Start(context.Background(), "nothing")()
	if FromContext(context.Background()) != nil || len(r.Spans()) != 5 {
		t.Error("a context without a recorder recorded something")
	}
}

func TestRecorderBounded(t *testing.T) {
	r := NewRecorder(time.Now())
	ctx := NewContext(context.Background(), r)
	for range MaxSpans + 10 {
		Start(ctx, "x")()
	}
	if n := len(r.Spans()); n != MaxSpans {
		t.Fatalf("%d spans kept, want MaxSpans (%d): a long nest session would grow without end", n, MaxSpans)
	}
}
