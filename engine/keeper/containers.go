package keeper

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// MaxContainers bounds GET /v1/containers: at most this many containers
// in one answer (the rest are counted in Total).
const MaxContainers = 10000

// maxContainersBytes bounds the client's read of a GET /v1/containers
// answer (a container is well under 6 KiB of JSON).
const maxContainersBytes = 64 << 20

// ContainersResponse is the answer of GET /v1/containers: the node's
// containers from the keeper's live list (engine/livelist), sorted by name.
// It is a copy kept current by containerd's and the keeper's events, not a
// containerd listing; containerd stays the source of truth.
type ContainersResponse struct {
	// Version is the list's version; it grows with every change.
	Version uint64 `json:"version"`
	// Containers are the first Limit containers by name.
	Containers []models.Container `json:"containers"`
	// Total is how many containers the list holds; above len(Containers)
	// when the answer was cut at Limit.
	Total int `json:"total"`
}

// newLiveList returns the keeper's live container list: rt's containers
// (annotated with the supervisor's state, since rt reads keeper state from
// sup) kept current by containerd's events merged with the supervisor's.
// It starts following at the first GET /v1/containers or dashboard page.
func newLiveList(ctx context.Context, rt *runtime.Runtime, sup *supervisor, log *slog.Logger) *livelist.List {
	return livelist.New(ctx, livelist.Source{
		List:   rt.List,
		Get:    rt.Get,
		Events: func(ctx context.Context) (<-chan models.Event, <-chan error) { return mergeNotices(ctx, rt, sup) },
	}, log)
}

// mergeNotices streams containerd's events with each supervisor notice
// about a container turned into an EventUpdate of it (a health change or a
// restart count is not a containerd event). Both channels close when
// containerd's stream ends or ctx ends.
func mergeNotices(ctx context.Context, rt *runtime.Runtime, sup *supervisor) (<-chan models.Event, <-chan error) {
	events, errc := rt.Events(ctx)
	notices, unsubscribe := sup.subscribe()
	out := make(chan models.Event, 256)
	go func() {
		defer close(out)
		defer unsubscribe()
		for {
			var ev models.Event
			select {
			case e, ok := <-events:
				if !ok {
					return
				}
				ev = e
			case n := <-notices:
				if n.ContainerID == "" {
					continue
				}
				ev = models.Event{Type: models.EventUpdate, ContainerID: n.ContainerID, Time: time.Now()}
			case <-ctx.Done():
				return
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errc
}

// serveContainers answers GET /v1/containers[?limit=N] from the live list,
// waiting for its first listing when nothing asked for it before.
func (k *keeper) serveContainers(w http.ResponseWriter, r *http.Request) {
	limit := MaxContainers
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxContainers {
			http.Error(w, "limit must be a number from 1 to "+strconv.Itoa(MaxContainers), http.StatusBadRequest)
			return
		}
		limit = n
	}
	cs, version, _, err := k.list.Snapshot(r.Context())
	if err != nil {
		http.Error(w, "list containers: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	resp := ContainersResponse{Version: version, Total: len(cs), Containers: cs[:min(limit, len(cs))]}
	writeJSON(w, resp)
}
