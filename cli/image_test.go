package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
)

func TestHumanSize(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0B"},
		{742, "742B"},
		{999, "999B"},
		{1000, "1kB"},
		{1234, "1.23kB"},
		{999_999, "1MB"},
		{4_194_304, "4.19MB"},
		{123_456_789, "123MB"},
		{1_200_000_000, "1.2GB"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := humanSize(tt.in); got != tt.want {
				t.Errorf("humanSize(%d) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

const layerA = "sha256:aaaaaaaaaaaa1111111111111111111111111111111111111111111111111111"
const layerB = "sha256:bbbbbbbbbbbb2222222222222222222222222222222222222222222222222222"

func TestBarLine(t *testing.T) {
	tests := []struct {
		p    images.Progress
		want string
	}{
		{images.Progress{Digest: layerA, Status: images.StatusWaiting, Total: 100}, "aaaaaaaaaaaa: Waiting"},
		{images.Progress{Digest: layerA, Status: images.StatusDownloading, Offset: 0, Total: 3000},
			"aaaaaaaaaaaa: Downloading [>" + strings.Repeat(" ", 29) + "] 0B/3kB"},
		{images.Progress{Digest: layerA, Status: images.StatusDownloading, Offset: 1500, Total: 3000},
			"aaaaaaaaaaaa: Downloading [" + strings.Repeat("=", 15) + ">" + strings.Repeat(" ", 14) + "] 1.5kB/3kB"},
		{images.Progress{Digest: layerA, Status: images.StatusDownloading, Offset: 3000, Total: 3000},
			"aaaaaaaaaaaa: Downloading [" + strings.Repeat("=", 30) + "] 3kB/3kB"},
		{images.Progress{Digest: layerA, Status: images.StatusDone, Offset: 3000, Total: 3000}, "aaaaaaaaaaaa: Pull complete"},
		{images.Progress{Digest: layerA, Status: images.StatusExists, Total: 3000}, "aaaaaaaaaaaa: Already exists"},
	}
	for _, tt := range tests {
		t.Run(string(tt.p.Status), func(t *testing.T) {
			if got := barLine(tt.p); got != tt.want {
				t.Errorf("barLine = %q\n          want %q", got, tt.want)
			}
		})
	}
}

func TestLineProgress(t *testing.T) {
	var buf bytes.Buffer
	lp := newLineProgress(&buf)
	for _, p := range []images.Progress{
		{Digest: layerA, Status: images.StatusWaiting},
		{Digest: layerB, Status: images.StatusWaiting},
		{Digest: layerA, Status: images.StatusDownloading, Offset: 1},
		{Digest: layerA, Status: images.StatusDownloading, Offset: 2},
		{Digest: layerA, Status: images.StatusDone},
		{Digest: layerB, Status: images.StatusExists},
	} {
		lp.update(p)
	}
	want := "aaaaaaaaaaaa: waiting\nbbbbbbbbbbbb: waiting\naaaaaaaaaaaa: downloading\naaaaaaaaaaaa: done\nbbbbbbbbbbbb: exists\n"
	if buf.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestBarProgressRedraws(t *testing.T) {
	var buf bytes.Buffer
	bp := newBarProgress(&buf)
	bp.update(images.Progress{Digest: layerA, Status: images.StatusWaiting})
	first := buf.String()
	if first != "\r\x1b[2Kaaaaaaaaaaaa: Waiting\n" {
		t.Fatalf("first draw = %q", first)
	}
	buf.Reset()
	bp.update(images.Progress{Digest: layerB, Status: images.StatusWaiting})
	if want := "\x1b[1A\r\x1b[2Kaaaaaaaaaaaa: Waiting\n\r\x1b[2Kbbbbbbbbbbbb: Waiting\n"; buf.String() != want {
		t.Fatalf("second draw = %q, want %q", buf.String(), want)
	}
	buf.Reset()
	bp.update(images.Progress{Digest: layerA, Status: images.StatusDone})
	if want := "\x1b[2A\r\x1b[2Kaaaaaaaaaaaa: Pull complete\n\r\x1b[2Kbbbbbbbbbbbb: Waiting\n"; buf.String() != want {
		t.Fatalf("third draw = %q, want %q", buf.String(), want)
	}
}

func testImages() []models.Image {
	return []models.Image{
		{
			Name: "docker.io/library/busybox:1", Repository: "docker.io/library/busybox", Tag: "1",
			Digest: "sha256:" + strings.Repeat("d", 64), ID: "sha256:0123456789ab" + strings.Repeat("c", 52),
			Created: time.Now().Add(-3 * time.Minute), Size: 4_194_304,
		},
		{
			Name: "<none>@sha256:" + strings.Repeat("e", 64), Repository: images.NoneTag, Tag: images.NoneTag,
			Digest: "sha256:" + strings.Repeat("e", 64), ID: "sha256:" + strings.Repeat("f", 64),
			Created: time.Now().Add(-90 * time.Minute), Size: 742,
		},
	}
}

func TestImagesTable(t *testing.T) {
	tests := []struct {
		name string
		cmd  ImagesCmd
		want []string
	}{
		{"default", ImagesCmd{Format: "table"}, []string{
			"REPOSITORY   TAG      IMAGE ID       CREATED         SIZE",
			"busybox      1        0123456789ab   3 minutes ago   4.19MB",
			"<none>       <none>   ffffffffffff   About an hour ago   742B",
		}},
		{"quiet", ImagesCmd{Quiet: true}, []string{"0123456789ab", "ffffffffffff"}},
		{"quiet no-trunc", ImagesCmd{Quiet: true, NoTrunc: true}, []string{
			"sha256:0123456789ab" + strings.Repeat("c", 52), "sha256:" + strings.Repeat("f", 64)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.cmd.print(&buf, testImages()); err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d:\n%s", len(got), len(tt.want), buf.String())
			}
			for i := range got {
				if strings.Join(strings.Fields(got[i]), " ") != strings.Join(strings.Fields(tt.want[i]), " ") {
					t.Errorf("line %d = %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestImagesTableDigests(t *testing.T) {
	var buf bytes.Buffer
	if err := imagesTable(&buf, testImages()[:1], true, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE" {
		t.Errorf("header = %q", lines[0])
	}
	f := strings.Fields(lines[1])
	if len(f) < 4 || f[2] != "sha256:"+strings.Repeat("d", 64) || f[3] != testImages()[0].ID {
		t.Errorf("row = %q; want the full digest and full ID", lines[1])
	}
	// Columns line up: IMAGE ID starts at the same offset in header and row.
	if strings.Index(lines[0], "IMAGE ID") != strings.Index(lines[1], "sha256:0123") {
		t.Errorf("columns do not line up:\n%s", buf.String())
	}
}

func TestPrintLoaded(t *testing.T) {
	var buf bytes.Buffer
	printLoaded(&buf, testImages(), false)
	want := "Loaded image: busybox:1\nLoaded image ID: sha256:" + strings.Repeat("f", 64) + "\n"
	if buf.String() != want {
		t.Errorf("output = %q, want %q", buf.String(), want)
	}
	buf.Reset()
	printLoaded(&buf, testImages()[:1], true)
	if buf.String() != "docker.io/library/busybox:1\n" {
		t.Errorf("quiet output = %q", buf.String())
	}
}
