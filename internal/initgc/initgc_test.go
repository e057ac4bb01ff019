package initgc

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// TestRaisedUntilGraceAfterDone: this package's init raised the GC
// percentage; Done puts GOGC's value back a second later, not at once.
// (Each run raises it again, so -count=N repeats the whole test.)
func TestRaisedUntilGraceAfterDone(t *testing.T) {
	want := 100
	if v := os.Getenv("GOGC"); v == "off" {
		want = -1
	} else if n, err := strconv.Atoi(v); err == nil {
		want = n
	}
	raised := during
	if want < 0 || want >= during {
		raised = want // left as it is
	}
	if atInit != raised {
		t.Fatalf("init left the GC percentage at %d, want %d", atInit, raised)
	}
	if got := raise(); got != raised {
		t.Fatalf("raise set %d, want %d", got, raised)
	}
	Done()
	if p := debug.SetGCPercent(raised); p != raised {
		t.Fatalf("just after Done the GC percentage is %d, want still %d", p, raised)
	}
	time.Sleep(grace + 500*time.Millisecond)
	if p := debug.SetGCPercent(want); p != want {
		t.Fatalf("%v after Done the GC percentage is %d, want GOGC's %d", grace, p, want)
	}
	Done() // a second call does nothing
	time.Sleep(grace + 200*time.Millisecond)
	if p := debug.SetGCPercent(want); p != want {
		t.Fatalf("a second Done changed the percentage to %d", p)
	}
}
