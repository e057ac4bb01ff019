package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

const (
	// streamWriteTimeout bounds each write to a browser: a client that
	// stops reading loses its stream rather than holding a goroutine.
	streamWriteTimeout = 10 * time.Second
	// heartbeat keeps proxies from closing an idle stream and notices a
	// session that ended.
	heartbeat = 25 * time.Second
)

// stream is one page's server-sent-event stream.
type stream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	sess *session
	srv  *Server
}

var errStreamsFull = errors.New("too many live streams are open (at most 64); close some dashboard tabs")

// openStream starts a stream, taking one of the server's stream slots;
// call the returned function when done.
func (s *Server) openStream(w http.ResponseWriter, sess *session) (*stream, func(), error) {
	select {
	case s.streams <- struct{}{}:
	default:
		http.Error(w, errStreamsFull.Error(), http.StatusServiceUnavailable)
		return nil, nil, errStreamsFull
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	st := &stream{w: w, rc: http.NewResponseController(w), sess: sess, srv: s}
	if err := st.flush(); err != nil {
		<-s.streams
		return nil, nil, err
	}
	return st, func() { <-s.streams }, nil
}

// send writes one event with a JSON payload.
func (st *stream) send(event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := fmt.Fprintf(st.w, "event: %s\ndata: %s\n\n", event, b); err != nil {
		return err
	}
	return st.flush()
}

// ping writes a comment line, and fails once the session has ended (a
// logout elsewhere ends the page's stream).
func (st *stream) ping() error {
	if st.srv.sessions.get(st.sess.id, time.Now()) == nil {
		_ = st.send("logout", nil)
		return errors.New("session ended")
	}
	_ = st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := fmt.Fprint(st.w, ": ping\n\n"); err != nil {
		return err
	}
	return st.flush()
}

func (st *stream) flush() error { return st.rc.Flush() }

// rowSet remembers the rows a stream's page shows, so that only changed
// rows are sent ("row") and vanished ones named ("gone").
type rowSet struct {
	last map[string]string
}

// row is one keyed row of a table, rendered.
type row struct {
	Key  string `json:"key"`
	HTML string `json:"html"`
}

func newRowSet() *rowSet { return &rowSet{last: map[string]string{}} }

// update sends r if it differs from what the page has.
func (rs *rowSet) update(st *stream, r row) error {
	if rs.last[r.Key] == r.HTML {
		return nil
	}
	rs.last[r.Key] = r.HTML
	return st.send("row", r)
}

// remove tells the page that the row of key is gone.
func (rs *rowSet) remove(st *stream, key string) error {
	if _, ok := rs.last[key]; !ok {
		return nil
	}
	delete(rs.last, key)
	return st.send("gone", map[string]string{"key": key})
}

// replace makes the page show exactly rows: changed ones are sent, the
// rest named gone.
func (rs *rowSet) replace(st *stream, rows []row) error {
	keep := map[string]bool{}
	for _, r := range rows {
		keep[r.Key] = true
		if err := rs.update(st, r); err != nil {
			return err
		}
	}
	for key := range rs.last {
		if !keep[key] {
			if err := rs.remove(st, key); err != nil {
				return err
			}
		}
	}
	return nil
}
