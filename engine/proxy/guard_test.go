package proxy

import (
	"testing"
	"time"
)

// TestExtend checks that a deadline set through extend is always between
// the one wanted and an eighth of its timeout later, and is set again
// only when it would not be.
func TestExtend(t *testing.T) {
	now := time.Now()
	const timeout = 80 * time.Second
	want := now.Add(timeout)
	for _, tc := range []struct {
		name string
		by   time.Time
		set  bool
	}{
		{"none yet", time.Time{}, true},
		{"already passed", now.Add(-time.Second), true},
		{"too soon", want.Add(-time.Millisecond), true},
		{"exactly wanted", want, false},
		{"within the eighth", want.Add(5 * time.Second), false},
		{"at the eighth", want.Add(timeout / 8), false},
		{"too late (a longer timeout's)", want.Add(timeout/8 + time.Millisecond), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var setTo time.Time
			got := extend(tc.by, want, timeout, func(d time.Time) error { setTo = d; return nil })
			if set := !setTo.IsZero(); set != tc.set {
				t.Fatalf("set %v, want %v", set, tc.set)
			}
			if tc.set && (!got.Equal(setTo) || !got.Equal(want.Add(timeout/8))) {
				t.Errorf("returned %v after setting %v, want %v", got, setTo, want.Add(timeout/8))
			}
			if !tc.set && !got.Equal(tc.by) {
				t.Errorf("returned %v, want the deadline kept (%v)", got, tc.by)
			}
		})
	}
}
