package keeper

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// serveTestKeeper serves a keeper whose live list holds n containers on
// its socket under a temporary data directory and returns a client of it.
func serveTestKeeper(t *testing.T, n int) (*Client, *livelist.List, *int) {
	t.Helper()
	cs := make([]models.Container, n)
	for i := range cs {
		cs[i] = models.Container{ID: fmt.Sprintf("%064x", n-i), Name: fmt.Sprintf("c-%04d", n-i), State: models.StateRunning}
	}
	lists := new(int)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	list := livelist.New(ctx, livelist.Source{
		List: func(context.Context, runtime.ListOptions) ([]models.Container, error) { *lists++; return cs, nil },
		Get: func(context.Context, string) (models.Container, error) {
			return models.Container{}, errdefs.ErrNotFound
		},
		Events: func(ctx context.Context) (<-chan models.Event, <-chan error) {
			out := make(chan models.Event)
			go func() { <-ctx.Done(); close(out) }()
			return out, make(chan error)
		},
	}, nil)
	dir := t.TempDir()
	ln, err := net.Listen("unix", filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	k := &keeper{list: list, sup: &supervisor{subs: map[chan Notice]struct{}{}}}
	srv := &http.Server{Handler: k.handler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return NewClient(dir), list, lists
}

// TestContainersAPI: GET /v1/containers answers from the live list, sorted
// by name with its version; the list is listed once, at the first request
// (not at rest); limit cuts the answer and says the total; a bad limit is
// refused.
func TestContainersAPI(t *testing.T) {
	c, list, lists := serveTestKeeper(t, 30)
	if list.Following() {
		t.Fatal("the live list follows events before anything asked")
	}
	ctx := context.Background()
	resp, err := c.Containers(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Containers) != 30 || resp.Total != 30 || resp.Version == 0 {
		t.Fatalf("answer: %d containers, total %d, version %d; want 30, 30, above 0", len(resp.Containers), resp.Total, resp.Version)
	}
	if resp.Containers[0].Name != "c-0001" || resp.Containers[29].Name != "c-0030" {
		t.Errorf("answer runs %s … %s, want c-0001 … c-0030 by name", resp.Containers[0].Name, resp.Containers[29].Name)
	}
	list.Put(models.Container{ID: "new", Name: "c-0000"})
	resp2, err := c.Containers(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp2.Containers) != 5 || resp2.Total != 31 || resp2.Version <= resp.Version || resp2.Containers[0].Name != "c-0000" {
		t.Errorf("limit 5 after a change: %d containers from %s, total %d, version %d (was %d); want 5 from c-0000, 31, newer",
			len(resp2.Containers), resp2.Containers[0].Name, resp2.Total, resp2.Version, resp.Version)
	}
	if *lists != 1 {
		t.Errorf("%d containerd listings, want 1", *lists)
	}
	for _, q := range []string{"0", "-1", "x", fmt.Sprint(MaxContainers + 1)} {
		r, err := c.do(ctx, "/v1/containers?limit="+url.QueryEscape(q))
		if err == nil {
			r.Body.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "400 Bad Request") {
			t.Errorf("limit=%s: %v, want 400 Bad Request", q, err)
		}
	}
}

// TestContainersNoKeeper: with no keeper socket the client fails with
// ErrUnavailable, which nest takes as "draw from containerd only".
func TestContainersNoKeeper(t *testing.T) {
	_, err := NewClient(t.TempDir()).Containers(context.Background(), 0)
	if !errors.Is(err, errdefs.ErrUnavailable) {
		t.Errorf("no keeper: %v, want ErrUnavailable", err)
	}
}
