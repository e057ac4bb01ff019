//go:build integration

package images_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/oci"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/internal/testkit"
)

func TestListRepoFilter(t *testing.T) {
	ctx := testContext(t)
	load(t, "docker.io/library/list-alpha:1", testkit.ImageOptions{Files: map[string]string{"a": "1"}})
	load(t, "docker.io/library/list-alpha:2", testkit.ImageOptions{Files: map[string]string{"a": "2"}})
	load(t, "docker.io/team/list-alpha:1", testkit.ImageOptions{Files: map[string]string{"a": "3"}})
	load(t, "docker.io/library/list-beta:1", testkit.ImageOptions{Files: map[string]string{"b": "1"}})
	tests := []struct {
		repo string
		want []string
	}{
		{"list-alpha", []string{"docker.io/library/list-alpha:1", "docker.io/library/list-alpha:2"}},
		{"list-alpha:2", []string{"docker.io/library/list-alpha:2"}},
		{"team/list-alpha", []string{"docker.io/team/list-alpha:1"}},
		{"docker.io/library/list-beta", []string{"docker.io/library/list-beta:1"}},
		{"list-*", []string{"docker.io/library/list-alpha:1", "docker.io/library/list-alpha:2", "docker.io/library/list-beta:1"}},
		{"*/list-alpha:1", []string{"docker.io/team/list-alpha:1"}},
		{"list-gamma", nil},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			imgs, err := svc.List(ctx, images.ListOptions{Repo: tt.repo})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, img := range imgs {
				got = append(got, img.Name)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) = %v, want %v", tt.repo, got, tt.want)
			}
		})
	}
	all, err := svc.List(ctx, images.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Created.After(all[i-1].Created) {
			t.Errorf("List is not newest first: %s (%s) after %s (%s)", all[i].Name, all[i].Created, all[i-1].Name, all[i-1].Created)
		}
	}
	if _, err := svc.List(ctx, images.ListOptions{Repo: "Bad Repo"}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("List(bad repo) error = %v, want ErrInvalid", err)
	}
}

func TestRemove(t *testing.T) {
	ctx := testContext(t)
	name := load(t, "rm-plain:1", testkit.ImageOptions{Files: map[string]string{"rm": "plain"}})
	removed, err := svc.Remove(ctx, []string{"rm-plain:1"}, images.RemoveOptions{})
	if err != nil || !slices.Equal(removed, []string{name}) {
		t.Fatalf("Remove = %v, %v; want [%s]", removed, err, name)
	}
	if _, err := svc.Get(ctx, name); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Get after Remove error = %v, want ErrNotFound", err)
	}

	removed, err = svc.Remove(ctx, []string{"rm-never:1"}, images.RemoveOptions{Force: true})
	if !errors.Is(err, errdefs.ErrNotFound) || len(removed) != 0 {
		t.Errorf("Remove(unknown) = %v, %v; want ErrNotFound", removed, err)
	}
	if !strings.Contains(err.Error(), "rm-never:1") {
		t.Errorf("error %q does not name the image", err)
	}
}

func TestRemoveByIDWithTwoNames(t *testing.T) {
	ctx := testContext(t)
	opts := testkit.ImageOptions{Files: map[string]string{"rm": "two names"}}
	a := load(t, "rm-twin:a", opts)
	b := load(t, "rm-twin:b", opts)
	img, err := svc.Get(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(img.ID, "sha256:")[:12]
	got, err := svc.Get(ctx, id)
	if err != nil || got.ID != img.ID {
		t.Fatalf("Get by ID %s = %+v, %v", id, got, err)
	}
	if _, err := svc.Remove(ctx, []string{id}, images.RemoveOptions{}); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Remove(ID of two names) error = %v, want ErrConflict", err)
	}
	removed, err := svc.Remove(ctx, []string{"sha256:" + id}, images.RemoveOptions{Force: true})
	if err != nil || !slices.Equal(removed, []string{a, b}) {
		t.Fatalf("Remove -f by ID = %v, %v; want [%s %s]", removed, err, a, b)
	}
}

func TestRemoveInUse(t *testing.T) {
	ctx := testContext(t)
	name := load(t, "rm-used:1", testkit.ImageOptions{Files: map[string]string{"rm": "used"}})
	free := load(t, "rm-free:1", testkit.ImageOptions{Files: map[string]string{"rm": "free"}})
	c, err := env.Client().NewContainer(ctx, "rm-used-ctr", containerd.WithImageName(name),
		containerd.WithSpec(&oci.Spec{}), containerd.WithContainerLabels(map[string]string{"budgie.name": "web"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(env.Context()) })

	removed, err := svc.Remove(ctx, []string{"rm-used:1", "rm-free:1"}, images.RemoveOptions{})
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Remove(used image) error = %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "container web") {
		t.Errorf("error %q does not name the container", err)
	}
	if !slices.Equal(removed, []string{free}) {
		t.Errorf("Remove went on to remove %v, want [%s]", removed, free)
	}
	if _, err := svc.Get(ctx, name); err != nil {
		t.Fatalf("the used image is gone: %v", err)
	}
	removed, err = svc.Remove(ctx, []string{"rm-used:1"}, images.RemoveOptions{Force: true})
	if err != nil || !slices.Equal(removed, []string{name}) {
		t.Fatalf("Remove -f = %v, %v; want [%s]", removed, err, name)
	}
	if _, err := svc.Get(ctx, name); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Get after Remove -f error = %v, want ErrNotFound", err)
	}
}
