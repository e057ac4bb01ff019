package engine

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// hostileRoot is a directory standing for a container's root, with links
// that point out of it, and a file outside it that must never be reached.
func hostileRoot(t *testing.T) (*os.Root, string, string) {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "root")
	outside := filepath.Join(base, "etc")
	for _, d := range []string{filepath.Join(dir, "etc"), filepath.Join(dir, "data"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "etc", "passwd"), []byte("inside\n"), 0o644)
	os.WriteFile(filepath.Join(outside, "passwd"), []byte("outside\n"), 0o644)
	os.Symlink("/etc", filepath.Join(dir, "evil"))
	os.Symlink("../../../../etc", filepath.Join(dir, "up"))
	os.Symlink("loop2", filepath.Join(dir, "loop1"))
	os.Symlink("loop1", filepath.Join(dir, "loop2"))
	os.Symlink("data", filepath.Join(dir, "rel"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root, dir, outside
}

func TestResolveIn(t *testing.T) {
	root, _, _ := hostileRoot(t)
	tests := []struct {
		path       string
		followLast bool
		want       string
		wantErr    bool
	}{
		{"/etc/passwd", false, "etc/passwd", false},
		{"/evil/passwd", false, "etc/passwd", false},
		{"/up/passwd", false, "etc/passwd", false},
		{"/../../etc/passwd", false, "etc/passwd", false},
		{"/evil", false, "evil", false},
		{"/evil", true, "etc", false},
		{"/rel/x/y", true, "data/x/y", false},
		{"/", true, ".", false},
		{"/loop1/x", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := resolveIn(root, tt.path, tt.followLast)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("resolveIn(%q) = %q, %v; want %q (error %v)", tt.path, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func tarOf(t *testing.T, entries ...*tar.Header) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range entries {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Name))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(h.Name))
		}
	}
	tw.Close()
	return &b
}

func TestExtractTarRefusesEscapes(t *testing.T) {
	tests := []struct {
		name    string
		entries []*tar.Header
	}{
		{"dot-dot entry", []*tar.Header{{Name: "../etc/x", Typeflag: tar.TypeReg, Mode: 0o644}}},
		{"write through a planted absolute link", []*tar.Header{
			{Name: "link", Linkname: "/etc", Typeflag: tar.TypeSymlink},
			{Name: "link/x", Typeflag: tar.TypeReg, Mode: 0o644}}},
		{"write through a planted relative link", []*tar.Header{
			{Name: "link", Linkname: "../../etc", Typeflag: tar.TypeSymlink},
			{Name: "link/x", Typeflag: tar.TypeReg, Mode: 0o644}}},
		{"hard link to outside", []*tar.Header{{Name: "h", Linkname: "../etc/passwd", Typeflag: tar.TypeLink}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, dir, outside := hostileRoot(t)
			data, err := root.OpenRoot("data")
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			if err := extractTar(data, tarOf(t, tt.entries...), false); err == nil {
				t.Errorf("extract succeeded")
			}
			for _, p := range []string{filepath.Join(outside, "x"), filepath.Join(dir, "etc", "x")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

func TestExtractTarReplacesLinks(t *testing.T) {
	root, dir, outside := hostileRoot(t)
	// A regular file entry over an existing link replaces the link, never
	// writing through it.
	os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(dir, "data", "f"))
	data, _ := root.OpenRoot("data")
	defer data.Close()
	if err := extractTar(data, tarOf(t, &tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o600}), false); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "passwd")); string(b) != "outside\n" {
		t.Errorf("wrote through the link: %q", b)
	}
	if info, err := os.Lstat(filepath.Join(dir, "data", "f")); err != nil || !info.Mode().IsRegular() || info.Mode().Perm() != 0o600 {
		t.Errorf("f: %v %v", info, err)
	}
}

func TestWriteTarRoundTrip(t *testing.T) {
	root, _, _ := hostileRoot(t)
	os.MkdirAll(filepath.Join(root.Name(), "data", "sub"), 0o755)
	os.WriteFile(filepath.Join(root.Name(), "data", "sub", "a"), []byte("a\n"), 0o640)
	var b bytes.Buffer
	if err := writeTar(root, "data", "copy", &b); err != nil {
		t.Fatal(err)
	}
	out, _ := os.OpenRoot(t.TempDir())
	defer out.Close()
	if err := extractTar(out, &b, false); err != nil {
		t.Fatal(err)
	}
	got, err := out.ReadFile("copy/sub/a")
	if err != nil || string(got) != "a\n" {
		t.Fatalf("copy/sub/a = %q %v", got, err)
	}
	if info, _ := out.Stat("copy/sub/a"); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", info.Mode().Perm())
	}
	// A link is written as a link, not followed.
	b.Reset()
	if err := writeTar(root, "evil", "evil", &b); err != nil {
		t.Fatal(err)
	}
	h, err := tar.NewReader(&b).Next()
	if err != nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/etc" {
		t.Errorf("link entry: %+v %v", h, err)
	}
}

func TestLanding(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), nil, 0o644)
	tests := []struct {
		name                 string
		dst                  string
		srcDir, contentsOnly bool
		wantDir, wantName    string
		wantErr              error
	}{
		{"file into a directory", dir, false, false, dir, "src", nil},
		{"directory into a directory", dir, true, false, dir, "src", nil},
		{"contents into a directory", dir, true, true, dir, "", nil},
		{"file onto a file", dir + "/file", false, false, dir, "file", nil},
		{"file to a new name", dir + "/new", false, false, dir, "new", nil},
		{"directory to a new name", dir + "/new", true, false, dir, "new", nil},
		{"directory onto a file", dir + "/file", true, false, "", "", errdefs.ErrInvalid},
		{"file into a missing directory", dir + "/missing/", false, false, "", "", errdefs.ErrNotFound},
		{"missing parent", dir + "/missing/x", false, false, "", "", errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, n, err := landing(os.Stat, tt.dst, tt.srcDir, tt.contentsOnly, "src")
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || d != tt.wantDir || n != tt.wantName {
				t.Fatalf("landing = %q %q %v; want %q %q", d, n, err, tt.wantDir, tt.wantName)
			}
		})
	}
}
