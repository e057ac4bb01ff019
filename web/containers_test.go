package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// seedCache gives the server a live list of n containers named c-000 …
// from a fixed source, so that no engine is asked, and returns it.
func seedCache(t *testing.T, s *Server, n int) *livelist.List {
	cs := make([]models.Container, n)
	for i := range cs {
		id := fmt.Sprintf("%064x", i+1)
		cs[i] = models.Container{ID: id, Name: fmt.Sprintf("c-%03d", i), State: models.StateRunning}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	l := livelist.New(ctx, livelist.Source{
		List: func(context.Context, runtime.ListOptions) ([]models.Container, error) { return cs, nil },
		Get: func(context.Context, string) (models.Container, error) {
			return models.Container{}, errdefs.ErrNotFound
		},
		Events: func(ctx context.Context) (<-chan models.Event, <-chan error) {
			out := make(chan models.Event)
			go func() { <-ctx.Done(); close(out) }()
			return out, make(chan error)
		},
	}, nil)
	s.containers.use(l)
	return l
}

// streamEvents runs the containers stream of query for a moment and
// returns its events, in order, as name and payload.
func streamEvents(t *testing.T, s *Server, query string) [][2]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, "GET", "/containers/stream?"+query, nil)
	w := httptest.NewRecorder()
	s.containersStream(w, r, &session{csrf: "tok"})
	var out [][2]string
	sc := bufio.NewScanner(strings.NewReader(w.Body.String()))
	sc.Buffer(nil, 1<<22)
	var name string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(line, "data: "); ok {
			out = append(out, [2]string{name, v})
		}
	}
	return out
}

// TestContainersStreamSendsUndrawn: the page draws the first firstRows
// containers by name; its stream sends the rest in batches, then what
// changed since the page's version (newer than the batches, so sent
// after them), and names what went away, each container once.
func TestContainersStreamSendsUndrawn(t *testing.T) {
	s, _ := newTestServer(t)
	l := seedCache(t, s, 250)
	all, v, _, err := s.containers.snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := all[firstRows-1].Name
	drawnID, goneID := all[5].ID, all[150].ID // all[200] changes too (undrawn)
	for _, ct := range []models.Container{all[5], all[200]} {
		ct.State = models.StateExited
		l.Put(ct)
	}
	l.Delete(goneID)

	events := streamEvents(t, s, fmt.Sprintf("since=%d&after=%s", v, after))
	seen := map[string]int{}
	var order []string
	var gone []string
	for _, ev := range events {
		switch ev[0] {
		case "rows":
			var rs []row
			if err := json.Unmarshal([]byte(ev[1]), &rs); err != nil {
				t.Fatal(err)
			}
			if len(rs) > rowBatch {
				t.Errorf("a rows event carried %d rows, more than %d", len(rs), rowBatch)
			}
			for _, r := range rs {
				seen[r.Key]++
				order = append(order, r.Key)
			}
		case "gone":
			var g map[string]string
			_ = json.Unmarshal([]byte(ev[1]), &g)
			gone = append(gone, g["key"])
		}
	}
	// The undrawn less the gone one, and the changed drawn one.
	if want := 250 - firstRows; len(order) != want {
		t.Errorf("the stream sent %d rows, want %d (the undrawn but the gone one, and the changed drawn one)", len(order), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %s sent %d times", id, n)
		}
	}
	if seen[goneID] != 0 || len(gone) != 1 || gone[0] != goneID {
		t.Errorf("gone container: sent as a row %d times, gone events %v; want only a gone event", seen[goneID], gone)
	}
	if seen[all[0].ID] != 0 || seen[all[firstRows-1].ID] != 0 {
		t.Error("the stream resent rows the page drew")
	}
	if len(order) < 2 || order[len(order)-1] != drawnID && order[len(order)-2] != drawnID {
		t.Errorf("the changed rows were not sent after the undrawn ones (last rows %v)", order[max(0, len(order)-2):])
	}
}

// TestContainersStreamHostileAfter: an after= that is no container name
// gets every row and a keep, as for a page the server did not draw.
func TestContainersStreamHostileAfter(t *testing.T) {
	s, _ := newTestServer(t)
	seedCache(t, s, 120)
	_, v, _, _ := s.containers.snapshot(context.Background())
	n, keep := 0, false
	for _, ev := range streamEvents(t, s, fmt.Sprintf("since=%d&after=%s", v, "..%2F..%2Fetc")) {
		switch ev[0] {
		case "rows":
			var rs []row
			_ = json.Unmarshal([]byte(ev[1]), &rs)
			n += len(rs)
		case "keep":
			keep = true
		}
	}
	if n != 120 || !keep {
		t.Errorf("hostile after: %d rows, keep %v; want all 120 and a keep", n, keep)
	}
}

// TestStatsHub: one sampler serves every subscriber, a slow reader gets
// the newest sample only, and sampling stops with the last subscriber.
func TestStatsHub(t *testing.T) {
	var calls atomic.Int64
	h := newStatsHub(context.Background(), func(context.Context) (map[string]models.Stats, error) {
		n := calls.Add(1)
		return map[string]models.Stats{"a": {MemoryUsage: uint64(n)}}, nil
	}, 10*time.Millisecond)
	a, endA := h.subscribe()
	b, endB := h.subscribe()
	first := <-a
	time.Sleep(60 * time.Millisecond)
	latest := <-a
	if latest["a"].MemoryUsage <= first["a"].MemoryUsage+1 {
		t.Errorf("a slow reader got sample %d after %d; want the newest, not the next", latest["a"].MemoryUsage, first["a"].MemoryUsage)
	}
	<-b
	endA()
	endB()
	time.Sleep(30 * time.Millisecond)
	stopped := calls.Load()
	time.Sleep(60 * time.Millisecond)
	if calls.Load() != stopped {
		t.Errorf("sampling went on after the last subscriber left (%d → %d calls)", stopped, calls.Load())
	}
}
