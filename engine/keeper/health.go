package keeper

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// Health check limits, Docker's.
const (
	// MaxHealthLog is how many probe results are kept.
	MaxHealthLog = 5
	// MaxHealthOutput caps the output kept of one probe, in bytes.
	MaxHealthOutput = 4096
)

// startHealth starts the probe loop for a task that just started (or was
// found running); the state starts over at "starting", as Docker's.
func (w *worker) startHealth() {
	if w.spec.Health == nil || w.healthStop != nil {
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.healthStop = cancel
	w.s.update(w.id, func(s *Supervision) {
		s.Health = &models.Health{Status: models.HealthStarting, Log: []models.HealthResult{}}
	})
	go w.probeLoop(ctx, *w.spec.Health, time.Now())
}

func (w *worker) stopHealth() {
	if w.healthStop != nil {
		w.healthStop()
		w.healthStop = nil
	}
}

// probeLoop probes every interval (the first after one interval, as Docker)
// until ctx ends.
func (w *worker) probeLoop(ctx context.Context, h models.HealthCheck, started time.Time) {
	interval := orDuration(h.Interval, runtime.DefaultHealthInterval)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if w.paused(ctx) {
			continue // as Docker: a frozen container is not probed, nor marked unhealthy
		}
		res := w.probe(ctx, h)
		if ctx.Err() != nil {
			return
		}
		if res.ExitCode != 0 && w.paused(ctx) {
			continue // paused while the probe ran: its failure says nothing
		}
		grace := h.StartPeriod > 0 && res.Start.Sub(started) < h.StartPeriod
		status, changed := w.s.recordHealth(w.id, res, grace, retriesOf(h))
		if !changed {
			continue
		}
		w.s.publish(Notice{Type: NoticeHealth, ContainerID: w.id, Name: w.name, Health: status})
		if status == models.HealthUnhealthy && h.OnUnhealthy == "restart" {
			w.send(ctx, message{kind: msgUnhealthy})
		}
	}
}

// paused reports whether the container's task is paused now.
func (w *worker) paused(ctx context.Context) bool {
	st, err := w.s.rt.Status(ctx, w.id)
	return err == nil && st.Container.State == models.StatePaused
}

// recordHealth appends a result and returns the new status and whether it
// changed. During the start period failures do not count; a success always does.
func (s *supervisor) recordHealth(id string, res models.HealthResult, grace bool, retries int) (models.HealthStatus, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.states[id]
	if st == nil || st.Health == nil {
		return models.HealthNone, false
	}
	h := st.Health
	old := h.Status
	h.Log = append(h.Log, res)
	if len(h.Log) > MaxHealthLog {
		h.Log = append([]models.HealthResult(nil), h.Log[len(h.Log)-MaxHealthLog:]...)
	}
	switch {
	case res.ExitCode == 0:
		h.Status, h.FailingStreak = models.HealthHealthy, 0
	case grace:
	default:
		h.FailingStreak++
		if h.FailingStreak >= retries {
			h.Status = models.HealthUnhealthy
		}
	}
	return h.Status, h.Status != old
}

// probe runs one check, bounded by its timeout. ExitCode is 0 when healthy,
// 1 when not, -1 when the probe could not run or timed out (Docker's codes).
func (w *worker) probe(ctx context.Context, h models.HealthCheck) models.HealthResult {
	timeout := orDuration(h.Timeout, runtime.DefaultHealthTimeout)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := models.HealthResult{Start: time.Now()}
	var out string
	switch {
	case len(h.Cmd) > 0:
		res.ExitCode, out = w.probeCmd(pctx, h.Cmd)
	case h.HTTP != "":
		res.ExitCode, out = probeHTTP(pctx, h.HTTP, w.probeHost(pctx))
	case h.TCP != "":
		res.ExitCode, out = probeTCP(pctx, h.TCP, w.probeHost(pctx))
	}
	if pctx.Err() == context.DeadlineExceeded {
		res.ExitCode, out = -1, fmt.Sprintf("health check exceeded timeout (%s)", timeout)
	}
	if len(out) > MaxHealthOutput {
		out = out[:MaxHealthOutput]
	}
	res.End, res.Output = time.Now(), out
	return res
}

func (w *worker) probeCmd(ctx context.Context, cmd []string) (int, string) {
	var out cappedBuffer
	code, err := w.s.rt.Exec(ctx, w.id, runtime.ExecOptions{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		return -1, err.Error()
	}
	if code != 0 {
		return 1, out.String()
	}
	return 0, out.String()
}

// probeHost is where ":PORT" probes go: the container's address now.
func (w *worker) probeHost(ctx context.Context) string {
	c, err := w.s.rt.Get(ctx, w.id)
	if err != nil {
		return "127.0.0.1"
	}
	return runtime.ProbeHost(c)
}

func probeHTTP(ctx context.Context, probe, host string) (int, string) {
	u, err := runtime.HealthURL(probe, host)
	if err != nil {
		return -1, err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return -1, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 1, err.Error()
	}
	resp.Body.Close()
	msg := fmt.Sprintf("GET %s: %s", u, resp.Status)
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return 0, msg
	}
	return 1, msg
}

func probeTCP(ctx context.Context, probe, host string) (int, string) {
	addr, err := runtime.HealthAddr(probe, host)
	if err != nil {
		return -1, err.Error()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 1, err.Error()
	}
	conn.Close()
	return 0, "connected to " + addr
}

func retriesOf(h models.HealthCheck) int {
	if h.Retries > 0 {
		return h.Retries
	}
	return runtime.DefaultHealthRetries
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// cappedBuffer keeps the first MaxHealthOutput bytes written to it; the
// exec's stdout and stderr share it.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := MaxHealthOutput - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
