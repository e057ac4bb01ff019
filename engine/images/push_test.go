package images

import (
	"context"
	"errors"
	"testing"

	cimages "github.com/containerd/containerd/images"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestPushTracker(t *testing.T) {
	layer := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromString("layer"), Size: 42}
	config := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("config")}
	manifest := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("manifest")}
	var got []Progress
	h := newPushTracker(func(p Progress) { got = append(got, p) }).wrap(cimages.HandlerFunc(
		func(_ context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			if desc.Digest == manifest.Digest {
				return []ocispec.Descriptor{config, layer}, nil
			}
			return nil, nil
		}))
	for _, d := range []ocispec.Descriptor{manifest, config, layer, layer} {
		if _, err := h.Handle(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	want := []Progress{
		{Digest: layer.Digest.String(), Status: StatusWaiting, Total: 42},
		{Digest: layer.Digest.String(), Status: StatusUploading, Total: 42},
		{Digest: layer.Digest.String(), Status: StatusDone, Offset: 42, Total: 42},
	}
	if len(got) != len(want) {
		t.Fatalf("reports = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestSaveOptionsInvalid(t *testing.T) {
	s := &Service{}
	tests := []struct {
		name   string
		refs   []string
		format string
	}{
		{"bad format", []string{"a"}, "zip"},
		{"no images", nil, FormatOCI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.saveOptions(context.Background(), tt.refs, SaveOptions{Format: tt.format}); !errors.Is(err, errdefs.ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
