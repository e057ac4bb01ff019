package runtime

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHostsStamp: a refresh skips only when another process's listing
// began after it was asked, on the same boot; a missing, foreign or
// garbled stamp never makes it skip.
func TestHostsStamp(t *testing.T) {
	lock, err := lockFile(filepath.Join(t.TempDir(), "hosts", "ns", ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if _, ok := readHostsStamp(lock); ok {
		t.Fatal("an empty lock file read as a stamp")
	}
	asked := hostsClock()
	if asked.boot == "" {
		t.Fatal("no boot ID or CLOCK_BOOTTIME on this machine")
	}
	listed := hostsClock()
	if err := writeHostsStamp(lock, listed); err != nil {
		t.Fatal(err)
	}
	got, ok := readHostsStamp(lock)
	if !ok || got != listed {
		t.Fatalf("stamp read back as %+v (%v), want %+v", got, ok, listed)
	}
	if !asked.before(got) {
		t.Error("a refresh asked before another's listing did not see it as later")
	}
	if later := hostsClock(); later.before(got) {
		t.Error("a refresh asked after the last listing would skip")
	}
	if other := (hostsTime{boot: "another-boot", ns: 0}); other.before(got) {
		t.Error("a time from another boot compared as earlier")
	}
	if (hostsTime{}).before(got) {
		t.Error("a time without a boot ID compared as earlier")
	}
	for _, text := range []string{"garbage", listed.boot, listed.boot + " x", " 12"} {
		if err := lock.Truncate(0); err != nil {
			t.Fatal(err)
		}
		if _, err := lock.WriteAt([]byte(text), 0); err != nil {
			t.Fatal(err)
		}
		if st, ok := readHostsStamp(lock); ok {
			t.Errorf("%q read as stamp %+v", text, st)
		}
	}
	if err := os.Symlink(lock.Name(), lock.Name()+".link"); err != nil {
		t.Fatal(err)
	}
	if f, err := lockFile(lock.Name() + ".link"); err == nil {
		f.Close()
		t.Error("lockFile followed a symbolic link")
	}
}
