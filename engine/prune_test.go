package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
)

// pruneImages is a store: app:1 and app:latest are one image (ID a),
// a container uses app:1; db:1 is unused; two dangling images, one of
// them an unused <none>@digest, the other an untagged name of image a.
var pruneImages = []models.Image{
	{Name: "docker.io/library/app:1", Tag: "1", ID: "sha256:a", Size: 100},
	{Name: "docker.io/library/app:latest", Tag: "latest", ID: "sha256:a", Size: 100},
	{Name: "docker.io/library/db:1", Tag: "1", ID: "sha256:b", Size: 200},
	{Name: "<none>@sha256:c", Tag: images.NoneTag, ID: "sha256:c", Size: 30},
	{Name: "docker.io/library/app@sha256:d", Tag: images.NoneTag, ID: "sha256:a", Size: 100},
	{Name: "docker.io/library/empty:1", Tag: "1", Size: 0},
}

func names(imgs []models.Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, img.Name)
	}
	return out
}

func TestImagesToPrune(t *testing.T) {
	used := usedImageKeys(pruneImages, map[string]bool{"docker.io/library/app:1": true})
	for _, tc := range []struct {
		name string
		all  bool
		want []string
	}{
		// The untagged name of the used image a stays: a is used.
		{"dangling", false, []string{"<none>@sha256:c"}},
		{"all", true, []string{"docker.io/library/db:1", "<none>@sha256:c", "docker.io/library/empty:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(imagesToPrune(pruneImages, used, tc.all)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("imagesToPrune(all=%v) = %q, want %q", tc.all, got, tc.want)
			}
		})
	}
}

func TestDeletedImages(t *testing.T) {
	for _, tc := range []struct {
		name    string
		removed []string
		ids     []string
		size    int64
	}{
		{"nothing", nil, nil, 0},
		{"one name of three", []string{"docker.io/library/app:latest"}, nil, 0},
		{"every name, size once", []string{"docker.io/library/app:1", "docker.io/library/app:latest", "docker.io/library/app@sha256:d"}, []string{"sha256:a"}, 100},
		{"two images", []string{"docker.io/library/db:1", "<none>@sha256:c"}, []string{"sha256:b", "sha256:c"}, 230},
		{"no content", []string{"docker.io/library/empty:1"}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids, size := deletedImages(pruneImages, tc.removed)
			if !reflect.DeepEqual(ids, tc.ids) || size != tc.size {
				t.Errorf("deletedImages = %q, %d; want %q, %d", ids, size, tc.ids, tc.size)
			}
		})
	}
}

func TestImageUsage(t *testing.T) {
	used := usedImageKeys(pruneImages, map[string]bool{"docker.io/library/app:1": true})
	got := imageUsage(pruneImages, used)
	want := DiskUsageRow{Total: 4, Active: 1, Size: 330, Reclaimable: 230}
	if got != want {
		t.Errorf("imageUsage = %+v, want %+v", got, want)
	}
}

func TestUsedNetworks(t *testing.T) {
	cs := []models.Container{
		{Spec: models.ContainerSpec{}},
		{Spec: models.ContainerSpec{Networks: []string{"front", "back"}}},
		{Spec: models.ContainerSpec{Networks: []string{models.HostNetwork}}},
	}
	want := map[string]bool{models.DefaultNetwork: true, "front": true, "back": true}
	if got := usedNetworks(cs); !reflect.DeepEqual(got, want) {
		t.Errorf("usedNetworks = %v, want %v", got, want)
	}
	if got := usedNetworks(cs[2:]); len(got) != 0 {
		t.Errorf("a host-network container uses %v", got)
	}
}

func TestStopped(t *testing.T) {
	for state, want := range map[models.ContainerState]bool{
		models.StateCreated: true, models.StateExited: true,
		models.StateRunning: false, models.StatePaused: false, models.StateRestarting: false,
	} {
		if got := stopped(models.Container{State: state}); got != want {
			t.Errorf("stopped(%s) = %v, want %v", state, got, want)
		}
	}
}

func TestVolumeOf(t *testing.T) {
	dir := "/var/lib/budgie/volumes"
	for path, want := range map[string]string{
		dir + "/data":                "data",
		dir + "/data/sub/file":       "data",
		dir + "/../volumes/x":        "x",
		dir:                          "",
		"/var/lib/budgie/logs":       "",
		"/etc/hosts":                 "",
		"/var/lib/budgie/volumesX/y": "",
	} {
		if got := volumeOf(dir, path); got != want {
			t.Errorf("volumeOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "one"), make([]byte, 1000), 0o644))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "two"), make([]byte, 24), 0o644))
	must(os.Link(filepath.Join(dir, "a", "one"), filepath.Join(dir, "hardlink")))
	outside := filepath.Join(t.TempDir(), "big")
	must(os.WriteFile(outside, make([]byte, 1<<20), 0o644))
	must(os.Symlink(outside, filepath.Join(dir, "link")))
	got, err := dirSize(dir)
	want := int64(1000 + 24 + len(outside)) // the link counts as itself, not its target
	if err != nil || got != want {
		t.Errorf("dirSize = %d, %v; want %d", got, err, want)
	}
	if got, err := dirSize(filepath.Join(dir, "missing")); err != nil || got != 0 {
		t.Errorf("dirSize of a missing directory = %d, %v; want 0", got, err)
	}
}

func TestCreateVolumeBadName(t *testing.T) {
	var e Engine // a bad name fails before anything is touched
	for _, name := range []string{"", "../x", ".hidden", "a/b", "-x", strings.Repeat("v", 256)} {
		if _, err := e.CreateVolume(context.Background(), name); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("CreateVolume(%q) = %v, want ErrInvalid", name, err)
		}
	}
}
