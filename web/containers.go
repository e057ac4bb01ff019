package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// statsEvery is how often an open page samples CPU and memory.
const statsEvery = 2 * time.Second

func (s *Server) containerRoutes(m *http.ServeMux) {
	m.Handle("GET /containers", s.page(s.containersPage))
	m.Handle("GET /containers/stream", s.page(s.containersStream))
	m.Handle("GET /containers/{ref}", s.page(s.containerPage))
	m.Handle("GET /containers/{ref}/stream", s.page(s.containerStream))
	m.Handle("POST /containers/{ref}/{action}", s.write(s.containerAction))
}

// containerRow is what a row of the containers table shows.
type containerRow struct {
	models.Container
	CSRF string
}

// firstRows is how many rows the Containers page draws itself; its stream
// sends the rest as soon as it opens, rowBatch to an event. A page of 500
// containers is usable once its first screens are drawn, and parsing and
// laying out 500 rows at once would keep it blank for most of a second.
const (
	firstRows = 50
	rowBatch  = 100
)

func (s *Server) containersPage(w http.ResponseWriter, r *http.Request, sess *session) {
	cs, version, _, err := s.containers.snapshot(r.Context())
	data := struct {
		Rows    []containerRow
		Version uint64
		// After is the last name drawn when the stream sends the rest.
		After string
		Total int
		Error string
	}{Version: version, Total: len(cs)}
	if err != nil {
		data.Error = err.Error()
	}
	if len(cs) > firstRows {
		cs = cs[:firstRows]
		data.After = cs[firstRows-1].Name
	}
	for _, c := range cs {
		data.Rows = append(data.Rows, containerRow{c, sess.csrf})
	}
	s.render(w, r, sess, "containers", data)
}

// containersStream keeps the containers table live from the container
// cache: the rows the page did not draw (those named after its last one,
// ?after=NAME), the rows changed since the page's version (all of them
// when that is too old), then each change as it comes; CPU and memory
// every 2 s.
func (s *Server) containersStream(w http.ResponseWriter, r *http.Request, sess *session) {
	q := r.URL.Query()
	since, sinceErr := strconv.ParseUint(q.Get("since"), 10, 64)
	after := q.Get("after")
	if after != "" && checkRef(after) != nil {
		sinceErr = errors.New("after: not a container name") // a page we did not draw: resend everything
	}
	st, done, err := s.openStream(w, sess)
	if err != nil {
		return
	}
	defer done()
	ctx := r.Context()
	all, version, wake, err := s.containers.snapshot(ctx)
	if err != nil {
		_ = st.send("notice", map[string]string{"error": err.Error()})
		return
	}
	if changed, gone, now, w2, ok := s.containers.since(since); ok && sinceErr == nil {
		version, wake = now, w2
		if s.sendRows(st, undrawn(all, after, changed, gone), nil) != nil || s.sendRows(st, changed, gone) != nil {
			return
		}
	} else if s.sendRows(st, all, nil) != nil || st.send("keep", keysOf(all)) != nil {
		return
	}
	stats := newStatsFeed()
	samples, unsubscribe := s.stats.subscribe()
	defer unsubscribe()
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			changed, gone, now, w2, ok := s.containers.since(version)
			if !ok { // fell behind the change log: start over
				cs, v, w3, err := s.containers.snapshot(ctx)
				if err != nil || s.sendRows(st, cs, nil) != nil || st.send("keep", keysOf(cs)) != nil {
					return
				}
				version, wake = v, w3
				continue
			}
			version, wake = now, w2
			if s.sendRows(st, changed, gone) != nil {
				return
			}
		case cur := <-samples:
			if err := stats.send(cur, st); err != nil {
				return
			}
		case <-beat.C:
			if st.ping() != nil {
				return
			}
		}
	}
}

// undrawn are the containers of all (sorted by name) that a page which
// drew every name up to after has not drawn, leaving out the changed and
// gone ones: those follow, newer, from the change log.
func undrawn(all []models.Container, after string, changed []models.Container, gone []string) []models.Container {
	if after == "" {
		return nil
	}
	skip := make(map[string]bool, len(changed)+len(gone))
	for _, c := range changed {
		skip[c.ID] = true
	}
	for _, id := range gone {
		skip[id] = true
	}
	i := sort.Search(len(all), func(i int) bool { return all[i].Name > after })
	var out []models.Container
	for _, c := range all[i:] {
		if !skip[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// sendRows sends the rows of cs, rowBatch to a "rows" event, and names
// the gone containers.
func (s *Server) sendRows(st *stream, cs []models.Container, gone []string) error {
	for len(cs) > 0 {
		n := min(len(cs), rowBatch)
		batch := make([]row, 0, n)
		for _, c := range cs[:n] {
			html, err := s.partial("containers", "container-row", containerRow{c, st.sess.csrf})
			if err != nil {
				return err
			}
			batch = append(batch, row{Key: c.ID, HTML: html})
		}
		if err := st.send("rows", batch); err != nil {
			return err
		}
		cs = cs[n:]
	}
	for _, id := range gone {
		if err := st.send("gone", map[string]string{"key": id}); err != nil {
			return err
		}
	}
	return nil
}

// keysOf are the containers' IDs: after a full resync the page drops every
// row not among them ("keep").
func keysOf(cs []models.Container) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// statsFeed turns successive samples into CPU percentages and sends only
// the cells that changed.
type statsFeed struct {
	prev map[string]models.Stats
	sent map[string]statsCell
}

// statsCell is one container's CPU and memory as the page shows them.
type statsCell struct {
	CPU    string  `json:"cpu"`
	Mem    string  `json:"mem"`
	CPUVal float64 `json:"cpu_value"`
	MemVal uint64  `json:"mem_value"`
	Limit  uint64  `json:"mem_limit"`
}

func newStatsFeed() *statsFeed {
	return &statsFeed{prev: map[string]models.Stats{}, sent: map[string]statsCell{}}
}

// sampleStats is the stats hub's sample: every container's, from the engine.
func (s *Server) sampleStats(ctx context.Context) (map[string]models.Stats, error) {
	return s.eng.Stats(ctx, runtime.StatsOptions{NoNetwork: true}) // the table shows CPU and memory
}

// send sends the cells of sample cur that changed since the last one sent.
func (f *statsFeed) send(cur map[string]models.Stats, st *stream) error {
	changed := map[string]statsCell{}
	for id, now := range cur {
		cell := statsCell{Mem: formatBytes(now.MemoryUsage), MemVal: now.MemoryUsage, Limit: now.MemoryLimit}
		if p, ok := f.prev[id]; ok {
			cell.CPUVal = models.CPUPercent(p, now)
			cell.CPU = fmt.Sprintf("%.1f%%", cell.CPUVal)
		}
		if f.sent[id] != cell {
			changed[id] = cell
			f.sent[id] = cell
		}
	}
	f.prev = cur
	for id := range f.sent {
		if _, ok := cur[id]; !ok {
			delete(f.sent, id)
			changed[id] = statsCell{}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return st.send("stats", changed)
}

// containerActions are the writes a container row offers.
var containerActions = map[string]bool{"start": true, "stop": true, "restart": true, "remove": true}

// containerAction starts, stops, restarts or removes a container (the
// page confirms stop and remove first).
func (s *Server) containerAction(w http.ResponseWriter, r *http.Request, _ *session) {
	ref, action := r.PathValue("ref"), r.PathValue("action")
	if !containerActions[action] {
		replyError(w, r, http.StatusNotFound, fmt.Errorf("no action %q (start, stop, restart or remove)", action))
		return
	}
	if err := checkRef(ref); err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
	defer cancel()
	var c models.Container
	var err error
	switch action {
	case "start":
		c, err = s.eng.Start(ctx, ref)
	case "stop":
		c, err = s.eng.Stop(ctx, ref, runtime.StopOptions{})
	case "restart":
		c, err = s.eng.Restart(ctx, ref, runtime.StopOptions{})
	case "remove":
		c, err = s.eng.Remove(ctx, ref, runtime.RemoveOptions{Force: true})
	}
	s.audit(r, "container."+action, ref, err)
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	back := "/containers"
	if action != "remove" && r.FormValue("back") == "detail" {
		back = "/containers/" + c.Name
	}
	reply(w, r, back, map[string]string{"ok": action, "name": c.Name, "state": string(c.State)})
}

// checkRef accepts a container name or ID as the engine knows them
// (letters, digits, '_', '.', '-'; at most 128), refusing anything that
// could be a path or a pattern.
func checkRef(ref string) error {
	if ref == "" || len(ref) > 128 {
		return fmt.Errorf("a container name or ID is 1 to 128 characters: %w", errdefs.ErrInvalid)
	}
	for _, r := range ref {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
		if !ok {
			return fmt.Errorf("%q is not a container name or ID: %w", models.Printable(ref), errdefs.ErrInvalid)
		}
	}
	return nil
}

// statusOf maps an engine error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
