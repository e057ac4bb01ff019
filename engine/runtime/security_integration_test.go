//go:build integration

package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// wantCaps is Podman's default set as /proc/PID/status prints it: CHOWN (0),
// DAC_OVERRIDE (1), FOWNER (3), FSETID (4), KILL (5), SETGID (6), SETUID (7),
// SETPCAP (8), NET_BIND_SERVICE (10), SYS_CHROOT (18), SETFCAP (31).
// Docker's set adds NET_RAW (13), MKNOD (27) and AUDIT_WRITE (29): a80425fb.
const wantCaps = "00000000800405fb"

// TestSecurityDefaults checks, from inside a container, the capability set,
// the seccomp filter and the nodev/nosuid flags of named volumes.
func TestSecurityDefaults(t *testing.T) {
	stamp := strconv.FormatInt(time.Now().UnixNano(), 36)
	vol, roVol := "sec"+stamp, "secro"+stamp
	s := spec(t)
	s.Volumes = []models.VolumeMount{
		{Kind: models.VolumeNamed, Source: vol, Target: "/vol"},
		{Kind: models.VolumeNamed, Source: roVol, Target: "/ro", ReadOnly: true},
	}
	c := run(t, s) // removed with its volumes when the test ends

	t.Run("capabilities and seccomp", func(t *testing.T) {
		for _, status := range []string{"/proc/1/status", "/proc/self/status"} {
			out, code := execIn(t, rt, c.ID, "cat", status)
			if code != 0 {
				t.Fatalf("cat %s: exit %d: %s", status, code, out)
			}
			for _, field := range []string{"CapBnd", "CapPrm", "CapEff"} {
				if got := statusField(out, field); got != wantCaps {
					t.Errorf("%s %s = %q, want %s", status, field, got, wantCaps)
				}
			}
			if got := statusField(out, "Seccomp"); got != "2" {
				t.Errorf("%s Seccomp = %q, want 2 (filter)", status, got)
			}
		}
	})

	t.Run("mknod of a block device is refused", func(t *testing.T) {
		out, code := execIn(t, rt, c.ID, testkit.BusyboxPath, "mknod", "/vol/disk", "b", "8", "0")
		if code == 0 || !strings.Contains(out, "Operation not permitted") {
			t.Errorf("mknod b 8 0 in the volume: exit %d, %q; want EPERM", code, out)
		}
		if _, err := os.Lstat(filepath.Join(rt.VolumeDir(vol), "disk")); !os.IsNotExist(err) {
			t.Errorf("the device node reached the host's volume: %v", err)
		}
		// FIFOs need no capability and still work.
		if out, code := execIn(t, rt, c.ID, testkit.BusyboxPath, "mknod", "/vol/fifo", "p"); code != 0 {
			t.Errorf("mknod p: exit %d: %s", code, out)
		}
	})

	t.Run("device nodes in a volume cannot be opened", func(t *testing.T) {
		// /dev/null's numbers: the device cgroup allows them, so only
		// nodev stands between the container and the device.
		for _, v := range []struct{ name, target string }{{vol, "/vol"}, {roVol, "/ro"}} {
			node := filepath.Join(rt.VolumeDir(v.name), "null")
			if err := unix.Mknod(node, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
				t.Fatal(err)
			}
			out, code := execIn(t, rt, c.ID, "cat", v.target+"/null")
			if code == 0 || !strings.Contains(out, "Permission denied") {
				t.Errorf("cat %s/null: exit %d, %q; want EACCES (nodev)", v.target, code, out)
			}
		}
	})

	t.Run("mount flags", func(t *testing.T) {
		out, code := execIn(t, rt, c.ID, "cat", "/proc/self/mountinfo")
		if code != 0 {
			t.Fatalf("cat mountinfo: exit %d: %s", code, out)
		}
		for target, want := range map[string][]string{
			"/vol": {"rw", "nosuid", "nodev"},
			"/ro":  {"ro", "nosuid", "nodev"},
		} {
			flags := mountFlags(out, target)
			for _, f := range want {
				if !flags[f] {
					t.Errorf("%s is mounted %v, want %s", target, keys(flags), f)
				}
			}
		}
	})
}

// TestVolumesDirMode checks that data_dir/volumes is 0700: made so by New
// (fresh or already there with another mode) and by the first volume made
// after it went away.
func TestVolumesDirMode(t *testing.T) {
	if mode := dirMode(t, filepath.Join(env.DataDir, "volumes")); mode != 0o700 {
		t.Errorf("the suite's volumes directory is %o, want 700", mode)
	}
	exe, _ := os.Executable()
	newRuntime := func(dataDir string) *runtime.Runtime {
		t.Helper()
		r, err := runtime.New(env.Client(), runtime.Options{
			Namespace: testkit.Namespace, DataDir: dataDir, NodeName: testkit.NodeName, LogBinary: exe,
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	fresh := filepath.Join(t.TempDir(), "data")
	newRuntime(fresh)
	if mode := dirMode(t, filepath.Join(fresh, "volumes")); mode != 0o700 {
		t.Errorf("a fresh volumes directory is %o, want 700", mode)
	}

	old := t.TempDir()
	if err := os.Mkdir(filepath.Join(old, "volumes"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(old, "volumes"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := newRuntime(old)
	if mode := dirMode(t, filepath.Join(old, "volumes")); mode != 0o700 {
		t.Errorf("an existing 0755 volumes directory is %o after New, want 700", mode)
	}
	newRuntime(old) // again: idempotent
	if mode := dirMode(t, filepath.Join(old, "volumes")); mode != 0o700 {
		t.Errorf("the volumes directory is %o after a second New, want 700", mode)
	}

	if err := os.Remove(filepath.Join(old, "volumes")); err != nil {
		t.Fatal(err)
	}
	s := spec(t)
	s.Volumes = []models.VolumeMount{{Kind: models.VolumeNamed, Source: "v", Target: "/v"}}
	c, err := r.Run(context.Background(), s, runtime.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = r.Remove(context.Background(), c.ID, runtime.RemoveOptions{Force: true, Volumes: true}) })
	if mode := dirMode(t, filepath.Join(old, "volumes")); mode != 0o700 {
		t.Errorf("the volumes directory remade for a new volume is %o, want 700", mode)
	}
}

// statusField returns the value of field in /proc/PID/status text.
func statusField(status, field string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// mountFlags returns the per-mount options of the mount at target in
// /proc/self/mountinfo text (the last one, as it hides those under it).
func mountFlags(mountinfo, target string) map[string]bool {
	var flags map[string]bool
	for _, line := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[4] == target {
			flags = map[string]bool{}
			for _, o := range strings.Split(f[5], ",") {
				flags[o] = true
			}
		}
	}
	return flags
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func dirMode(t *testing.T, dir string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Error(err)
		return 0
	}
	return fi.Mode().Perm()
}
