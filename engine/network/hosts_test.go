package network

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

const localhost = hostsHeader

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Hosts
		want string
	}{
		{"empty", Hosts{}, localhost},
		{"self in order, peers sorted and deduplicated", Hosts{
			Self: []HostEntry{{IP: "172.20.0.5", Names: []string{"api", "api.local"}}, {IP: "10.30.0.2", Names: []string{"api"}}},
			Peers: []HostEntry{
				{IP: "172.20.0.9", Names: []string{"web-2", "web"}},
				{IP: "172.20.0.7", Names: []string{"db"}},
				{IP: "172.20.0.8", Names: []string{"web-1", "web"}},
				{IP: "172.20.0.7", Names: []string{"db"}},
				{IP: "10.30.0.3", Names: []string{"db"}},
				{IP: "172.20.0.10", Names: nil},
			},
		}, localhost +
			"172.20.0.5\tapi api.local\n" +
			"10.30.0.2\tapi\n" +
			"10.30.0.3\tdb\n" +
			"172.20.0.7\tdb\n" +
			"172.20.0.8\tweb-1 web\n" +
			"172.20.0.9\tweb-2 web\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.h.Render()
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("Render =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	if _, err := (Hosts{Peers: []HostEntry{{IP: "nope", Names: []string{"x"}}}}).Render(); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("bad IP: err = %v, want ErrInvalid", err)
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

func TestWriteHostsInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	long := Hosts{Peers: []HostEntry{
		{IP: "172.20.0.2", Names: []string{"a-very-long-container-name", "another-long-alias"}},
		{IP: "172.20.0.3", Names: []string{"b"}},
	}}
	if err := WriteHosts(path, long); err != nil {
		t.Fatal(err)
	}
	before := inode(t, path)
	// A second link stands in for the bind mount: it sees the new text only
	// if the file was rewritten, not replaced.
	pinned := path + ".pinned"
	if err := os.Link(path, pinned); err != nil {
		t.Fatal(err)
	}
	short := Hosts{Self: []HostEntry{{IP: "172.20.0.4", Names: []string{"c"}}}}
	if err := WriteHosts(path, short); err != nil {
		t.Fatal(err)
	}
	if after := inode(t, path); after != before {
		t.Fatalf("inode changed from %d to %d: the file was replaced", before, after)
	}
	got, err := os.ReadFile(pinned)
	if err != nil {
		t.Fatal(err)
	}
	if want := localhost + "172.20.0.4\tc\n"; string(got) != want {
		t.Fatalf("pinned file =\n%q\nwant\n%q (the old, longer text must be truncated)", got, want)
	}
	if err := WriteHosts(filepath.Join(t.TempDir(), "missing", "hosts"), short); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing directory: err = %v, want ErrNotExist", err)
	}
}

// TestWriteHostsLeavesSameText: a file that already reads as the hosts is
// not written again (its modification time stays), one with more or other
// text (a container may write to its /etc/hosts) is rewritten exactly.
func TestWriteHostsLeavesSameText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hosts")
	h := Hosts{Self: []HostEntry{{IP: "172.20.0.4", Names: []string{"c"}}}}
	if err := WriteHosts(path, h); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := WriteHosts(path, h); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(old) {
		t.Fatalf("same text: the file was written again (%v, %v)", fi.ModTime(), err)
	}
	want := localhost + "172.20.0.4\tc\n"
	for _, text := range []string{want + "6.6.6.6\tevil\n", "x", ""} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := WriteHosts(path, h); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("file that held %q: now %q, want %q", text, got, want)
		}
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteHosts(link, Hosts{}); err == nil {
		t.Error("WriteHosts followed a symbolic link")
	}
}
