//go:build integration

package images_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/internal/testkit"
)

func TestLoadOCIArchive(t *testing.T) {
	ctx := testContext(t)
	tests := []struct {
		ref, want string
	}{
		{"docker.io/library/load-oci:1", "docker.io/library/load-oci:1"},
		{"load-short:2", "docker.io/library/load-short:2"},
		{"localhost/load-demo:latest", "localhost/load-demo:latest"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			imgs, err := svc.Load(ctx, archive(t, tt.ref, testkit.ImageOptions{}), images.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(imgs) != 1 || imgs[0].Name != tt.want {
				t.Fatalf("Load = %+v; want one image named %s", imgs, tt.want)
			}
			if imgs[0].ID == "" || imgs[0].Size <= 0 {
				t.Errorf("loaded image %+v lacks ID or size", imgs[0])
			}
			assertUnpacked(t, ctx, tt.want)
			if tt.ref != tt.want {
				if _, err := env.Client().GetImage(ctx, tt.ref); err == nil {
					t.Errorf("the unnormalised name %s is still in the store", tt.ref)
				}
			}
			if _, err := svc.Get(ctx, tt.ref); err != nil {
				t.Errorf("Get(%s) after load: %v", tt.ref, err)
			}
		})
	}
}

// TestLoadUnnamed loads an OCI layout whose only name is a bare tag.
func TestLoadUnnamed(t *testing.T) {
	ctx := testContext(t)
	imgs, err := svc.Load(ctx, archive(t, "", testkit.ImageOptions{Files: map[string]string{"unnamed": "1"}}), images.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || !strings.HasPrefix(imgs[0].Name, images.NoneTag+"@sha256:") ||
		imgs[0].Repository != images.NoneTag || imgs[0].Tag != images.NoneTag {
		t.Fatalf("Load = %+v; want one <none>:<none> image", imgs)
	}
	assertUnpacked(t, ctx, imgs[0].Name)
	removed, err := svc.Remove(ctx, []string{imgs[0].ID[len("sha256:") : len("sha256:")+12]}, images.RemoveOptions{})
	if err != nil || len(removed) != 1 || removed[0] != imgs[0].Name {
		t.Fatalf("Remove by ID = %v, %v; want [%s]", removed, err, imgs[0].Name)
	}
}

func TestLoadDockerSave(t *testing.T) {
	ctx := testContext(t)
	tarball := dockerSave(t, []string{"save-test:1", "example.com/team/save-test:2"}, map[string]string{"hello.txt": "hello from docker save\n"})
	imgs, err := svc.Load(ctx, tarball, images.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, img := range imgs {
		names[img.Name] = true
		assertUnpacked(t, ctx, img.Name)
		if img.ID != imgs[0].ID {
			t.Errorf("image %s ID %s differs from %s", img.Name, img.ID, imgs[0].ID)
		}
	}
	for _, want := range []string{"docker.io/library/save-test:1", "example.com/team/save-test:2"} {
		if !names[want] {
			t.Errorf("Load = %+v; missing %s", imgs, want)
		}
	}
	if len(imgs) != 2 {
		t.Errorf("Load gave %d images, want 2", len(imgs))
	}
}

func TestLoadGzipped(t *testing.T) {
	ctx := testContext(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := io.Copy(zw, archive(t, "load-gz:1", testkit.ImageOptions{})); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	imgs, err := svc.Load(ctx, &gz, images.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].Name != "docker.io/library/load-gz:1" {
		t.Fatalf("Load(gzipped) = %+v; want docker.io/library/load-gz:1", imgs)
	}
	assertUnpacked(t, ctx, imgs[0].Name)
}

func TestLoadGarbage(t *testing.T) {
	ctx := testContext(t)
	for name, data := range map[string][]byte{"empty": nil, "text": []byte("not a tar at all\n"), "bad gzip": {0x1f, 0x8b, 0, 0}, "tar": tarOf(t, map[string][]byte{"readme": []byte("hi")})} {
		t.Run(name, func(t *testing.T) {
			_, err := svc.Load(ctx, bytes.NewReader(data), images.LoadOptions{})
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("Load(%s) error = %v; want ErrInvalid", name, err)
			}
		})
	}
}

// dockerSave builds a `docker save` archive in the classic layout
// (manifest.json, repositories, CONFIG.json, LAYERID/{layer.tar,json,VERSION})
// of one single-layer image tagged with tags.
func dockerSave(t *testing.T, tags []string, files map[string]string) *bytes.Buffer {
	t.Helper()
	layerFiles := map[string][]byte{}
	for k, v := range files {
		layerFiles[k] = []byte(v)
	}
	layer := tarOf(t, layerFiles)
	diffID := sha256.Sum256(layer)
	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"config":       map[string]any{"Cmd": []string{"/hello.txt"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	layerID := hex.EncodeToString(diffID[:])
	manifest, _ := json.Marshal([]map[string]any{{
		"Config": configName, "RepoTags": tags, "Layers": []string{layerID + "/layer.tar"},
	}})
	repos := map[string]map[string]string{}
	for _, tag := range tags {
		i := strings.LastIndex(tag, ":")
		if repos[tag[:i]] == nil {
			repos[tag[:i]] = map[string]string{}
		}
		repos[tag[:i]][tag[i+1:]] = layerID
	}
	repositories, _ := json.Marshal(repos)
	layerJSON, _ := json.Marshal(map[string]any{"id": layerID, "created": "2026-01-02T00:00:00Z"})
	return bytes.NewBuffer(tarOf(t, map[string][]byte{
		"manifest.json":        manifest,
		"repositories":         repositories,
		configName:             config,
		layerID + "/layer.tar": layer,
		layerID + "/json":      layerJSON,
		layerID + "/VERSION":   []byte("1.0"),
	}))
}

// tarOf returns a tar of regular files (sorted by name for stable digests).
func tarOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: mt}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
