package images

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/content"
	cimages "github.com/containerd/containerd/images"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ProgressStatus is where one layer of a pull is.
type ProgressStatus string

// Layer statuses, in the order a layer goes through them.
const (
	// StatusWaiting: the manifest lists the layer; its download has not begun.
	StatusWaiting ProgressStatus = "waiting"
	// StatusDownloading: bytes are arriving; Offset says how many.
	StatusDownloading ProgressStatus = "downloading"
	// StatusDone: the layer was downloaded.
	StatusDone ProgressStatus = "done"
	// StatusExists: the layer was in the store already; nothing was downloaded.
	StatusExists ProgressStatus = "exists"
)

// Progress is one report about one layer of a pull.
type Progress struct {
	// Digest is the layer's digest ("sha256:…").
	Digest string
	// Status is where the layer is.
	Status ProgressStatus
	// Offset is how many bytes have arrived (Total once done).
	Offset int64
	// Total is the layer's size in bytes.
	Total int64
}

// pollInterval is how often a pull's download offsets are read.
const pollInterval = 100 * time.Millisecond

// tracker follows the layers of one pull: an image handler wrapper sees
// the manifest (its layers are waiting) and each layer fetch (done or
// exists), and a poller reads the content store's ingest offsets.
type tracker struct {
	cs     content.Store
	report func(Progress)

	mu     sync.Mutex
	layers map[digest.Digest]*Progress
	order  []digest.Digest

	cancel context.CancelFunc
	done   chan struct{}
}

func newTracker(cs content.Store, report func(Progress)) *tracker {
	return &tracker{cs: cs, report: report, layers: map[digest.Digest]*Progress{}}
}

// wrap is a containerd image handler wrapper.
func (t *tracker) wrap(h cimages.Handler) cimages.Handler {
	return cimages.HandlerFunc(func(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
		if !cimages.IsLayerType(desc.MediaType) {
			children, err := h.Handle(ctx, desc)
			if err == nil && cimages.IsManifestType(desc.MediaType) {
				for _, c := range children {
					if cimages.IsLayerType(c.MediaType) {
						t.set(c.Digest, c.Size, StatusWaiting, 0)
					}
				}
			}
			return children, err
		}
		_, infoErr := t.cs.Info(ctx, desc.Digest)
		children, err := h.Handle(ctx, desc)
		if err == nil {
			status := StatusDone
			if infoErr == nil {
				status = StatusExists
			}
			t.set(desc.Digest, desc.Size, status, desc.Size)
		}
		return children, err
	})
}

// set records a layer's state and reports it when it changed. A finished
// layer stays finished.
func (t *tracker) set(d digest.Digest, total int64, status ProgressStatus, offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.layers[d]
	if !ok {
		p = &Progress{Digest: d.String(), Total: total}
		t.layers[d] = p
		t.order = append(t.order, d)
	} else if p.Status == StatusDone || p.Status == StatusExists || (p.Status == status && p.Offset == offset) {
		return
	} else if status == StatusWaiting {
		return
	}
	p.Status, p.Offset = status, offset
	t.report(*p)
}

// start begins polling the content store's active ingests.
func (t *tracker) start(ctx context.Context) {
	ctx, t.cancel = context.WithCancel(ctx)
	t.done = make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.poll(ctx)
			}
		}
	}()
}

// poll reports the download offset of every layer being written.
func (t *tracker) poll(ctx context.Context) {
	statuses, err := t.cs.ListStatuses(ctx)
	if err != nil {
		return
	}
	for _, st := range statuses {
		for _, d := range t.known() {
			if st.Expected == d || strings.HasSuffix(st.Ref, d.String()) {
				t.set(d, st.Total, StatusDownloading, st.Offset)
			}
		}
	}
}

func (t *tracker) known() []digest.Digest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]digest.Digest(nil), t.order...)
}

// stop ends polling. After a successful pull, layers that were never
// fetched (their snapshots existed) are reported as existing.
func (t *tracker) stop(ok bool) {
	t.cancel()
	<-t.done
	if !ok {
		return
	}
	for _, d := range t.known() {
		t.mu.Lock()
		total := t.layers[d].Total
		t.mu.Unlock()
		t.set(d, total, StatusExists, total)
	}
}
