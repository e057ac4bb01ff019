package keeper

import (
	"fmt"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

func TestNextBackoff(t *testing.T) {
	// A crash loop: every run shorter than ResetUptime.
	var got []time.Duration
	d := time.Duration(0)
	for i := 0; i < 12; i++ {
		d = NextBackoff(d, time.Second)
		got = append(got, d)
	}
	want := []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 12800 * time.Millisecond,
		25600 * time.Millisecond, 51200 * time.Millisecond, time.Minute, time.Minute,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("crash-loop schedule\n got %v\nwant %v", got, want)
	}
	tests := []struct {
		name         string
		prev, uptime time.Duration
		want         time.Duration
	}{
		{"first restart", 0, 0, MinBackoff},
		{"quick failure doubles", 400 * time.Millisecond, 9 * time.Second, 800 * time.Millisecond},
		{"ten seconds up resets", 30 * time.Second, 10 * time.Second, MinBackoff},
		{"long run resets", time.Minute, time.Hour, MinBackoff},
		{"cap", 40 * time.Second, time.Second, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextBackoff(tt.prev, tt.uptime); got != tt.want {
				t.Errorf("NextBackoff(%v, %v) = %v, want %v", tt.prev, tt.uptime, got, tt.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	no := models.RestartPolicy{}
	always := models.RestartPolicy{Name: models.RestartAlways}
	unless := models.RestartPolicy{Name: models.RestartUnlessStopped}
	onFail := models.RestartPolicy{Name: models.RestartOnFailure}
	onFail3 := models.RestartPolicy{Name: models.RestartOnFailure, MaxRetries: 3}
	tests := []struct {
		name   string
		policy models.RestartPolicy
		exit   Exit
		want   bool
	}{
		{"no, exit 1", no, Exit{Code: 1}, false},
		{"explicit no, exit 1", models.RestartPolicy{Name: models.RestartNo}, Exit{Code: 1}, false},
		{"no, after boot", no, Exit{AfterBoot: true}, false},
		{"always, exit 0", always, Exit{Code: 0}, true},
		{"always, exit 1", always, Exit{Code: 1}, true},
		{"always, stopped by user", always, Exit{Code: 143, StoppedByUser: true}, false},
		{"always, after boot", always, Exit{AfterBoot: true}, true},
		{"always, after boot, stopped by user", always, Exit{AfterBoot: true, StoppedByUser: true}, true},
		{"unless-stopped, exit 0", unless, Exit{Code: 0}, true},
		{"unless-stopped, stopped by user", unless, Exit{Code: 0, StoppedByUser: true}, false},
		{"unless-stopped, after boot", unless, Exit{AfterBoot: true}, true},
		{"unless-stopped, after boot, stopped by user", unless, Exit{AfterBoot: true, StoppedByUser: true}, false},
		{"on-failure, exit 0", onFail, Exit{Code: 0}, false},
		{"on-failure, exit 3", onFail, Exit{Code: 3}, true},
		{"on-failure, exit 3, many restarts, no limit", onFail, Exit{Code: 3, Restarts: 1000}, true},
		{"on-failure, stopped by user", onFail, Exit{Code: 137, StoppedByUser: true}, false},
		{"on-failure, after boot", onFail, Exit{Code: 1, AfterBoot: true}, false},
		{"on-failure:3, 2 restarts", onFail3, Exit{Code: 1, Restarts: 2}, true},
		{"on-failure:3, 3 restarts", onFail3, Exit{Code: 1, Restarts: 3}, false},
		{"on-failure:3, exit 0", onFail3, Exit{Code: 0}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.policy, tt.exit); got != tt.want {
				t.Errorf("Decide(%+v, %+v) = %v, want %v", tt.policy, tt.exit, got, tt.want)
			}
		})
	}
}
