//go:build integration

package images_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// recorder collects progress reports.
type recorder struct {
	mu     sync.Mutex
	events []images.Progress
}

func (r *recorder) add(p images.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, p)
}

// statuses returns the statuses reported per layer digest, in order.
func (r *recorder) statuses() map[string][]images.ProgressStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]images.ProgressStatus{}
	for _, e := range r.events {
		out[e.Digest] = append(out[e.Digest], e.Status)
	}
	return out
}

func TestPullFromRegistry(t *testing.T) {
	ctx := testContext(t)
	ref := reg.Addr() + "/test/pull:1"
	push(t, ref, testkit.ImageOptions{Files: map[string]string{"etc/marker": "pull"}})

	var rec recorder
	img, err := svc.Pull(ctx, ref, images.PullOptions{Progress: rec.add})
	if err != nil {
		t.Fatal(err)
	}
	if img.Name != ref || img.Repository != reg.Addr()+"/test/pull" || img.Tag != "1" {
		t.Errorf("pulled image = %+v; want name %s, tag 1", img, ref)
	}
	if digest.Digest(img.Digest).Validate() != nil || digest.Digest(img.ID).Validate() != nil || img.Digest == img.ID {
		t.Errorf("digest %q and ID %q must be distinct valid digests", img.Digest, img.ID)
	}
	if img.Size < 100_000 {
		t.Errorf("size = %d, want the size of a busybox image", img.Size)
	}
	assertUnpacked(t, ctx, ref)

	// One layer: reported waiting, then (maybe downloading, then) done.
	st := rec.statuses()
	if len(st) != 1 {
		t.Fatalf("progress for %d layers, want 1: %+v", len(st), rec.events)
	}
	for d, seq := range st {
		if digest.Digest(d).Validate() != nil {
			t.Errorf("progress digest %q is not a digest", d)
		}
		if seq[0] != images.StatusWaiting || seq[len(seq)-1] != images.StatusDone {
			t.Errorf("layer %s statuses %v; want waiting … done", d, seq)
		}
	}
	last := rec.events[len(rec.events)-1]
	if last.Offset != last.Total || last.Total <= 0 {
		t.Errorf("done event %+v: offset must equal a positive total", last)
	}

	listed, err := svc.List(ctx, images.ListOptions{Repo: reg.Addr() + "/test/pull"})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Name != ref || listed[0].ID != img.ID || listed[0].Size != img.Size {
		t.Errorf("List = %+v; want the pulled image %+v", listed, img)
	}

	// A second pull downloads nothing.
	var again recorder
	if _, err := svc.Pull(ctx, ref, images.PullOptions{Progress: again.add}); err != nil {
		t.Fatal(err)
	}
	for d, seq := range again.statuses() {
		if seq[len(seq)-1] != images.StatusExists {
			t.Errorf("second pull: layer %s statuses %v; want … exists", d, seq)
		}
	}
	if len(again.statuses()) != 1 {
		t.Errorf("second pull: progress for %d layers, want 1", len(again.statuses()))
	}
}

func TestPullMissingTag(t *testing.T) {
	ctx := testContext(t)
	push(t, reg.Addr()+"/test/missing:1", testkit.ImageOptions{})
	for _, ref := range []string{reg.Addr() + "/test/missing:2", reg.Addr() + "/test/never:1"} {
		t.Run(ref, func(t *testing.T) {
			_, err := svc.Pull(ctx, ref, images.PullOptions{})
			if !errors.Is(err, errdefs.ErrNotFound) {
				t.Fatalf("Pull(%s) error = %v; want ErrNotFound", ref, err)
			}
			if !strings.Contains(err.Error(), ref) {
				t.Errorf("error %q does not name %s", err, ref)
			}
		})
	}
}

func TestPullUnreachableRegistry(t *testing.T) {
	ctx := testContext(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = svc.Pull(ctx, addr+"/test/x:1", images.PullOptions{})
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Pull from %s error = %v; want ErrUnavailable", addr, err)
	}
	for _, want := range []string{"cannot reach registry " + addr, "registries.insecure"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestPullInsecure reaches the registry as 0.0.0.0:PORT, which Linux routes
// to loopback but which is not a loopback name: Budgie speaks HTTPS to it
// unless registries.insecure lists it.
func TestPullInsecure(t *testing.T) {
	ctx := testContext(t)
	_, port, _ := net.SplitHostPort(reg.Addr())
	host := "0.0.0.0:" + port
	push(t, reg.Addr()+"/test/insecure:1", testkit.ImageOptions{})
	ref := host + "/test/insecure:1"

	_, err := svc.Pull(ctx, ref, images.PullOptions{})
	if !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "registries.insecure") {
		t.Fatalf("HTTPS pull from a plain-HTTP registry: error = %v; want ErrUnavailable with a registries.insecure hint", err)
	}
	insecure := images.New(env.Client(), images.Options{Insecure: []string{host}})
	img, err := insecure.Pull(ctx, ref, images.PullOptions{})
	if err != nil {
		t.Fatalf("pull with %s in Insecure: %v", host, err)
	}
	if img.Name != ref {
		t.Errorf("name = %q, want %q", img.Name, ref)
	}
	assertUnpacked(t, ctx, ref)
}

func TestPullBadInput(t *testing.T) {
	ctx := testContext(t)
	for _, tt := range []struct{ ref, platform string }{{"Bad/Name", ""}, {"busybox", "not a platform/"}} {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := svc.Pull(ctx, tt.ref, images.PullOptions{Platform: tt.platform})
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Pull(%q, platform %q) error = %v; want ErrInvalid", tt.ref, tt.platform, err)
			}
		})
	}
}
