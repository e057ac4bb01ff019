package web

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// listFeed is what a list page's stream sends: its rows, listed again on
// each of the triggers, and the progress of its jobs.
type listFeed struct {
	// rows lists the page's rows as they are now.
	rows func(ctx context.Context, csrf string) ([]row, error)
	// every lists again at this interval; zero means only on triggers.
	every time.Duration
	// onContainerEvents lists again after container events (a network's
	// users, a secret's).
	onContainerEvents bool
	// jobs is the job kind whose progress the page shows; empty for none.
	jobs string
	// topic lists again when a write of the dashboard's changes it
	// (Server.changed); empty for none.
	topic string
}

// listStream runs a list page's stream until the browser leaves.
func (s *Server) listStream(w http.ResponseWriter, r *http.Request, sess *session, feed listFeed) {
	st, done, err := s.openStream(w, sess)
	if err != nil {
		return
	}
	defer done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rows := newRowSet()
	relist := func() error {
		rs, err := feed.rows(ctx, sess.csrf)
		if err != nil {
			return st.send("notice", map[string]string{"error": err.Error()})
		}
		return rows.replace(st, rs)
	}
	if relist() != nil {
		return
	}
	var events <-chan struct{}
	if feed.onContainerEvents {
		events = s.containerActivity(ctx)
	}
	var tick <-chan time.Time
	if feed.every > 0 {
		t := time.NewTicker(feed.every)
		defer t.Stop()
		tick = t.C
	}
	jobs := &jobFeed{kind: feed.jobs, sent: map[string]string{}}
	var jobWake <-chan struct{}
	if feed.jobs != "" {
		if jobWake, err = jobs.flush(s, st); err != nil {
			return
		}
	}
	var topic <-chan struct{}
	if feed.topic != "" {
		topic = s.topics.wait(feed.topic)
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-topic:
			topic = s.topics.wait(feed.topic)
			err = relist()
		case <-events:
			err = relist()
		case <-tick:
			err = relist()
		case <-jobWake:
			time.Sleep(100 * time.Millisecond) // at most ~10 progress events a second
			if jobWake, err = jobs.flush(s, st); err == nil {
				err = relist() // a finished pull adds an image
			}
		case <-beat.C:
			err = st.ping()
		}
		if err != nil {
			return
		}
	}
}

// containerActivity signals (coalesced) when any container event arrives.
func (s *Server) containerActivity(ctx context.Context) <-chan struct{} {
	out := make(chan struct{}, 1)
	events, _ := s.eng.Events(ctx)
	go func() {
		for range events {
			select {
			case out <- struct{}{}:
			default:
			}
		}
	}()
	return out
}

// jobFeed sends a page the jobs of its kind whose state changed.
type jobFeed struct {
	kind string
	sent map[string]string
}

func (f *jobFeed) flush(s *Server, st *stream) (<-chan struct{}, error) {
	jobs, wake := s.jobs.snapshot(f.kind)
	for _, j := range jobs {
		b, _ := json.Marshal(j)
		if f.sent[j.ID] == string(b) {
			continue
		}
		f.sent[j.ID] = string(b)
		if err := st.send("job", j); err != nil {
			return nil, err
		}
	}
	return wake, nil
}

// topics wakes the streams of a kind of thing (secrets, networks) when a
// write of the dashboard changed it.
type topics struct {
	mu sync.Mutex
	ch map[string]chan struct{}
}

func newTopics() *topics { return &topics{ch: map[string]chan struct{}{}} }

// wait returns a channel closed at the topic's next change.
func (t *topics) wait(topic string) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.ch[topic]
	if !ok {
		c = make(chan struct{})
		t.ch[topic] = c
	}
	return c
}

// changed wakes every stream waiting on topic.
func (t *topics) changed(topic string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.ch[topic]; ok {
		close(c)
		delete(t.ch, topic)
	}
}
