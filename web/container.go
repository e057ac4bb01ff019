package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

const (
	// logTail is how many lines the container page starts with.
	logTail = 500
	// maxLogLine cuts a longer line (a container's output is hostile).
	maxLogLine = 16 << 10
	// logBatch gathers lines for one event.
	logBatch = 100 * time.Millisecond
)

type containerData struct {
	C       models.Container
	Inspect string
	CSRF    string
	Error   string
}

// pathContainer is the container the request's {ref} names, checked
// first; when there is none it answers the request and returns false.
func (s *Server) pathContainer(w http.ResponseWriter, r *http.Request) (models.Container, bool) {
	ref := r.PathValue("ref")
	if err := checkRef(ref); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return models.Container{}, false
	}
	c, err := s.eng.Container(r.Context(), ref)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return models.Container{}, false
	}
	return c, true
}

func (s *Server) containerPage(w http.ResponseWriter, r *http.Request, sess *session) {
	c, ok := s.pathContainer(w, r)
	if !ok {
		return
	}
	data := containerData{C: c, CSRF: sess.csrf}
	if in, err := s.eng.Inspect(r.Context(), c.ID, engine.InspectOptions{}); err != nil {
		data.Error = err.Error()
	} else if b, err := json.MarshalIndent(in, "", "  "); err == nil {
		data.Inspect = string(b)
	}
	s.render(w, r, sess, "container", data)
}

// logLine is one line of a container's output.
type logLine struct {
	Stream string `json:"s"`
	Text   string `json:"t"`
}

// lineWriter splits a log stream into lines, cut at maxLogLine, and hands
// them to a channel (blocking: the follow waits for the page).
type lineWriter struct {
	stream string
	buf    []byte
	out    chan<- logLine
	ctx    context.Context
	mu     *sync.Mutex
}

func (lw *lineWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLogLine - len(lw.buf)
			lw.buf = append(lw.buf, p[:min(len(p), max(room, 0))]...)
			break
		}
		lw.buf = append(lw.buf, p[:min(i, max(maxLogLine-len(lw.buf), 0))]...)
		select {
		case lw.out <- logLine{Stream: lw.stream, Text: string(bytes.ToValidUTF8(lw.buf, []byte("\uFFFD")))}:
		case <-lw.ctx.Done():
			return 0, lw.ctx.Err()
		}
		lw.buf = lw.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// containerStream keeps a container's page live: its state on each of its
// events, a CPU and memory sample every 2 s for the graphs, and its log,
// followed (across restarts).
func (s *Server) containerStream(w http.ResponseWriter, r *http.Request, sess *session) {
	c, ok := s.pathContainer(w, r)
	if !ok {
		return
	}
	st, done, err := s.openStream(w, sess)
	if err != nil {
		return
	}
	defer done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	events, _ := s.eng.Events(ctx)
	lines := make(chan logLine, 256)
	followEnded := make(chan time.Time, 1)
	follow := func(opts engine.LogsOptions) {
		var mu sync.Mutex
		opts.Stdout = &lineWriter{stream: "stdout", out: lines, ctx: ctx, mu: &mu}
		opts.Stderr = &lineWriter{stream: "stderr", out: lines, ctx: ctx, mu: &mu}
		opts.Follow = true
		go func() {
			_ = s.eng.Logs(ctx, c.ID, opts)
			followEnded <- time.Now()
		}()
	}
	follow(engine.LogsOptions{Tail: logTail})
	following := true
	var stoppedAt time.Time
	var prev *models.Stats
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	var batch []logLine
	flush := time.NewTimer(logBatch)
	defer flush.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case l := <-lines:
			batch = append(batch, l)
			if len(batch) >= 200 {
				if st.send("log", batch) != nil {
					return
				}
				batch = nil
			}
		case <-flush.C:
			if len(batch) > 0 {
				if st.send("log", batch) != nil {
					return
				}
				batch = nil
			}
			flush.Reset(logBatch)
		case t := <-followEnded:
			following, stoppedAt = false, t
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if ev.ContainerID != c.ID {
				continue
			}
			if err := s.sendContainerState(ctx, st, c.ID); err != nil {
				return
			}
			if !following && ev.Type == models.EventStart {
				following = true
				follow(engine.LogsOptions{Tail: -1, Since: stoppedAt})
			}
		case <-tick.C:
			all, err := s.eng.Stats(ctx, runtime.StatsOptions{IDs: []string{c.ID}, NoNetwork: true})
			cur, ok := all[c.ID]
			if err != nil || !ok {
				prev = nil
				continue
			}
			sample := map[string]any{"t": cur.Time.UnixMilli(), "mem": cur.MemoryUsage, "limit": cur.MemoryLimit}
			if prev != nil {
				sample["cpu"] = models.CPUPercent(*prev, cur)
			}
			prev = &cur
			if st.send("sample", sample) != nil {
				return
			}
		case <-beat.C:
			if st.ping() != nil {
				return
			}
		}
	}
}

// sendContainerState sends the container page's state panel.
func (s *Server) sendContainerState(ctx context.Context, st *stream, id string) error {
	c, err := s.eng.Container(ctx, id)
	if err != nil {
		return st.send("notice", map[string]string{"error": err.Error()})
	}
	html, err := s.partial("container", "container-state", containerData{C: c, CSRF: st.sess.csrf})
	if err != nil {
		return err
	}
	return st.send("state", map[string]string{"html": html})
}
