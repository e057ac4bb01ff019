//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// pruneEnv runs budgie against a private containerd and data directory:
// the prunes would otherwise take the images and volumes that the other
// tests share (the CLI image, nest's demo image).
type pruneEnv struct {
	t    *testing.T
	env  *testkit.Env
	vars []string
}

// newPruneEnv starts the private containerd with the CLI test image in
// it; cleanup removes the containers and networks the test made (with
// budgie, so that bridges and leases go too) before stopping it.
func newPruneEnv(t *testing.T) *pruneEnv {
	t.Helper()
	env, err := testkit.StartContainerd("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	if err := env.LoadBusybox(testkit.ImageOptions{Ref: cliImage, Cmd: []string{"sleep", "3600"}}); err != nil {
		t.Fatal(err)
	}
	p := &pruneEnv{t: t, env: env, vars: []string{
		"BUDGIE_CONTAINERD_ADDRESS=" + env.Conn.Address,
		"BUDGIE_CONTAINERD_NAMESPACE=" + testkit.Namespace,
		"BUDGIE_DATA_DIR=" + env.DataDir,
		"BUDGIE_NETWORKS_DEFAULT_BRIDGE=" + testkit.TestBridge,
		"BUDGIE_NETWORKS_DEFAULT_SUBNET=" + testkit.TestSubnet,
	}}
	t.Cleanup(func() {
		if ids := strings.Fields(p.run("ps", "-a", "-q").stdout); len(ids) > 0 {
			p.run(append([]string{"rm", "-f"}, ids...)...)
		}
		for _, n := range strings.Fields(p.run("network", "ls", "--format", "{{.Name}}").stdout) {
			if n != models.DefaultNetwork {
				p.run("network", "rm", n)
			}
		}
	})
	return p
}

func (p *pruneEnv) run(args ...string) result {
	p.t.Helper()
	return budgieEnv(p.t, p.vars, args...)
}

func (p *pruneEnv) must(args ...string) string {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("budgie %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// bundle writes a bundle of one container of the CLI image and returns its path.
func (p *pruneEnv) bundle(name, body string) string {
	p.t.Helper()
	path := filepath.Join(p.t.TempDir(), name+".bun")
	if err := os.WriteFile(path, []byte("name: "+name+"\nimage: "+cliImage+"\nstop_timeout: 1s\n"+body), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// loadImage loads a busybox image with a file of its own (so an ID of its
// own) through `budgie load`; an empty ref makes a dangling image. It
// returns what load printed.
func (p *pruneEnv) loadImage(ref, file string) string {
	p.t.Helper()
	var archive bytes.Buffer
	if err := testkit.WriteBusyboxArchive(&archive, testkit.ImageOptions{Ref: ref, Files: map[string]string{"id": file}}); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.t.TempDir(), "image.tar")
	if err := os.WriteFile(path, archive.Bytes(), 0o644); err != nil {
		p.t.Fatal(err)
	}
	return p.must("load", "-i", path)
}

// volumeDir is a named volume's directory.
func (p *pruneEnv) volumeDir(name string) string {
	return filepath.Join(p.env.DataDir, "volumes", name)
}

// fill writes a file of n bytes into volume name's directory.
func (p *pruneEnv) fill(name, file string, n int) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.volumeDir(name), file), bytes.Repeat([]byte("x"), n), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// imageNames lists `budgie images` by full name, with their IDs.
func (p *pruneEnv) imageNames() map[string]string {
	p.t.Helper()
	var imgs []models.Image
	if err := json.Unmarshal([]byte(p.must("images", "--format", "json")), &imgs); err != nil {
		p.t.Fatal(err)
	}
	out := map[string]string{}
	for _, img := range imgs {
		out[img.Name] = img.ID
	}
	return out
}

func dirExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

const loopArgs = `args: [sh, -c, "trap 'exit 0' TERM; while :; do sleep 0.1; done"]` + "\n"

// TestCLIPrune: volume, image and system prune remove what nothing uses
// and keep what a running or stopped container uses; without -f and
// without a terminal they refuse and touch nothing; a volume that cannot
// be removed is named at the end, after what was removed.
func TestCLIPrune(t *testing.T) {
	p := newPruneEnv(t)
	sfx := fmt.Sprint(time.Now().UnixNano() % 1e9)
	keep, used, stoppedVol, unused := "keep"+sfx, "used"+sfx, "stv"+sfx, "unused"+sfx
	p.must("network", "create", keep, "--subnet", fmt.Sprintf("10.202.%d.0/24", rand.IntN(200)))
	runner := "run" + sfx
	p.must("run", p.bundle(runner, loopArgs+"networks: ["+keep+"]\nvolumes: [\""+used+":/data\"]\n"))
	idle := "idle" + sfx
	p.must("run", p.bundle(idle, loopArgs+"networks: [host]\nvolumes: [\""+stoppedVol+":/data\"]\n"))
	p.must("stop", idle)
	p.must("volume", "create", unused)
	p.fill(unused, "blob", 3<<20)

	t.Run("refuses without -f off a terminal", func(t *testing.T) {
		for _, args := range [][]string{{"volume", "prune"}, {"image", "prune", "-a"}, {"system", "prune", "--volumes"}} {
			r := p.run(args...)
			if r.code != 2 || !strings.Contains(r.stderr, "pass -f") || r.stdout != "" {
				t.Errorf("%v: exit %d stdout %q stderr %q; want 2 and a hint to pass -f", args, r.code, r.stdout, r.stderr)
			}
		}
		if !dirExists(p.volumeDir(unused)) || !p.exists(idle) {
			t.Fatal("a refused prune removed something")
		}
	})

	t.Run("volume prune", func(t *testing.T) {
		out := p.must("volume", "prune", "-f")
		want := "Deleted Volumes:\n" + unused + "\n\nTotal reclaimed space: 3 MiB\n"
		if out != want {
			t.Errorf("volume prune printed %q, want %q", out, want)
		}
		if dirExists(p.volumeDir(unused)) {
			t.Errorf("volume %s is still on disk", unused)
		}
		for _, v := range []string{used, stoppedVol} {
			if !dirExists(p.volumeDir(v)) {
				t.Errorf("volume prune removed %s, which a container mounts", v)
			}
		}
		if out := p.must("volume", "prune", "-f"); out != "Total reclaimed space: 0 B\n" {
			t.Errorf("a second volume prune printed %q", out)
		}
	})

	t.Run("image prune", func(t *testing.T) {
		loaded := p.loadImage("", "dangling"+sfx)
		danglingID := strings.TrimSpace(strings.TrimPrefix(loaded, "Loaded image ID:"))
		p.loadImage("prune-unused:1", "unused"+sfx)
		const unusedName = "docker.io/library/prune-unused:1"
		before := p.imageNames()
		if len(before) != 3 || before[unusedName] == "" {
			t.Fatalf("images before: %v", before)
		}
		out := p.must("image", "prune", "-f")
		if !strings.Contains(out, "deleted: "+danglingID+"\n") || strings.Contains(out, "prune-unused") {
			t.Errorf("image prune (dangling only) printed:\n%s", out)
		}
		after := p.imageNames()
		if len(after) != 2 || after[unusedName] == "" || after[cliImage] == "" {
			t.Errorf("after image prune: %v; want the two tagged images", after)
		}
		out = p.must("image", "prune", "-a", "-f")
		if !strings.Contains(out, "untagged: prune-unused:1\ndeleted: "+before[unusedName]+"\n") ||
			!regexp.MustCompile(`Total reclaimed space: [0-9.]+ [KM]iB\n$`).MatchString(out) {
			t.Errorf("image prune -a printed:\n%s", out)
		}
		if after := p.imageNames(); len(after) != 1 || after[cliImage] == "" {
			t.Errorf("after image prune -a: %v; want only %s, which containers use", after, cliImage)
		}
	})

	t.Run("a failure partway", func(t *testing.T) {
		ok, stuck := "ok"+sfx, "stuck"+sfx
		p.must("volume", "create", ok)
		p.must("volume", "create", stuck)
		p.fill(ok, "f", 1000)
		// A mount point cannot be removed (EBUSY): a failure that needs no fault injection.
		if err := syscall.Mount(p.volumeDir(stuck), p.volumeDir(stuck), "", syscall.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Unmount(p.volumeDir(stuck), syscall.MNT_DETACH) })
		r := p.run("volume", "prune", "-f")
		if r.code != 1 || !strings.Contains(r.stdout, "Deleted Volumes:\n"+ok+"\n") || strings.Contains(r.stdout, stuck) ||
			!strings.Contains(r.stdout, "Total reclaimed space: 1000 B\n") ||
			!strings.Contains(r.stderr, "those listed above were") || !strings.Contains(r.stderr, "remove volume "+stuck) {
			t.Errorf("prune with a stuck volume: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		if dirExists(p.volumeDir(ok)) || !dirExists(p.volumeDir(stuck)) {
			t.Errorf("volume %s exists %v (want gone), %s exists %v (want kept)", ok, dirExists(p.volumeDir(ok)), stuck, dirExists(p.volumeDir(stuck)))
		}
		syscall.Unmount(p.volumeDir(stuck), syscall.MNT_DETACH)
		p.must("volume", "rm", stuck)
	})

	t.Run("system prune", func(t *testing.T) {
		gone := "gone" + sfx
		p.must("network", "create", gone, "--subnet", fmt.Sprintf("10.203.%d.0/24", rand.IntN(200)))
		p.loadImage("prune-unused:2", "unused2"+sfx)
		out := p.must("system", "prune", "-f")
		want := "Deleted Containers:\n" + idle + "\n\nDeleted Networks:\n" + gone + "\n\n"
		if !strings.HasPrefix(out, want) || strings.Contains(out, "Deleted Volumes") || strings.Contains(out, "Deleted Images") {
			t.Errorf("system prune printed:\n%s\nwant it to start with:\n%s(and no volumes or images)", out, want)
		}
		if p.exists(idle) || !p.exists(runner) {
			t.Errorf("system prune: stopped %s exists %v (want gone), running %s exists %v (want kept)",
				idle, p.exists(idle), runner, p.exists(runner))
		}
		nets := p.must("network", "ls", "--format", "{{.Name}}")
		if strings.Contains(nets, gone) || !strings.Contains(nets, keep) || !strings.Contains(nets, models.DefaultNetwork) {
			t.Errorf("networks after system prune:\n%s\nwant %s gone, %s and %s kept", nets, gone, keep, models.DefaultNetwork)
		}
		if !dirExists(p.volumeDir(stoppedVol)) {
			t.Errorf("system prune without --volumes removed volume %s", stoppedVol)
		}

		out = p.must("system", "prune", "-a", "--volumes", "-f")
		if !strings.Contains(out, "Deleted Volumes:\n"+stoppedVol+"\n") || !strings.Contains(out, "untagged: prune-unused:2\n") {
			t.Errorf("system prune -a --volumes printed:\n%s", out)
		}
		if dirExists(p.volumeDir(stoppedVol)) || !dirExists(p.volumeDir(used)) {
			t.Errorf("volumes after system prune --volumes: %s exists %v (want gone), %s exists %v (want kept)",
				stoppedVol, dirExists(p.volumeDir(stoppedVol)), used, dirExists(p.volumeDir(used)))
		}
		if imgs := p.imageNames(); len(imgs) != 1 || imgs[cliImage] == "" {
			t.Errorf("images after system prune -a: %v; want only %s", imgs, cliImage)
		}
	})
}

// exists reports whether budgie lists container name.
func (p *pruneEnv) exists(name string) bool {
	p.t.Helper()
	return p.run("inspect", name).code == 0
}

// TestCLIVolumeCreate: volume create makes a volume a container then
// mounts; an existing name is refused (exit 1), a bad one too (exit 2).
func TestCLIVolumeCreate(t *testing.T) {
	name := fmt.Sprintf("vc%d", time.Now().UnixNano())
	t.Cleanup(func() { budgie(t, "volume", "rm", "-f", name) })
	if out := must(t, "volume", "create", name); out != name+"\n" {
		t.Errorf("volume create printed %q", out)
	}
	if !volumeExists(name) || !strings.Contains(must(t, "volume", "ls", "-q"), name+"\n") {
		t.Fatalf("volume %s is not on disk or not listed", name)
	}
	if r := budgie(t, "volume", "create", name); r.code != 1 || !strings.Contains(r.stderr, "volume "+name+" already exists") {
		t.Errorf("a second create: exit %d stderr %q; want 1 and already exists", r.code, r.stderr)
	}
	for _, bad := range []string{"../escape", ".hidden", "-dash", "a/b"} {
		if r := budgie(t, "volume", "create", "--", bad); r.code != 2 || !strings.Contains(r.stderr, "invalid name") {
			t.Errorf("volume create %q: exit %d stderr %q; want 2 and invalid name", bad, r.code, r.stderr)
		}
	}
	if volumeExists("escape") || volumeExists(".hidden") {
		t.Error("a bad name made a directory")
	}
	path, _ := writeBundle(t, "args: [sh, -c, \"echo hi > /data/f\"]\nvolumes: [\""+name+":/data\"]\n")
	must(t, "run", "--attach", path)
	if b, err := os.ReadFile(filepath.Join(ctrEnv.DataDir, "volumes", name, "f")); err != nil || string(b) != "hi\n" {
		t.Errorf("the container's write to the created volume: %q, %v", b, err)
	}
}

// TestCLISystemDf: system df counts and sizes what images, ps and volume
// ls list, in JSON and in a table.
func TestCLISystemDf(t *testing.T) {
	p := newPruneEnv(t)
	sfx := fmt.Sprint(time.Now().UnixNano() % 1e9)
	p.loadImage("df-unused:1", "df"+sfx)
	p.loadImage("df-alias:1", "df"+sfx) // the same image under a second name
	usedVol, freeVol := "dfu"+sfx, "dff"+sfx
	p.must("run", p.bundle("up"+sfx, loopArgs+"networks: [host]\nvolumes: [\""+usedVol+":/data\"]\n"))
	p.must("run", p.bundle("down"+sfx, `args: [sh, -c, "head -c 204800 /dev/zero > /big; trap 'exit 0' TERM; while :; do sleep 0.1; done"]`+"\nnetworks: [host]\n"))
	waitUntil(t, func() bool { return p.run("exec", "down"+sfx, "test", "-s", "/big").code == 0 })
	p.must("stop", "down"+sfx)
	p.must("volume", "create", freeVol)
	p.fill(usedVol, "a", 2048)
	p.fill(freeVol, "b", 5000)

	var du struct {
		Images, Containers, Volumes struct {
			Total, Active     int
			Size, Reclaimable int64
		}
	}
	if err := json.Unmarshal([]byte(p.must("system", "df", "--format", "json")), &du); err != nil {
		t.Fatal(err)
	}

	var imgs []models.Image
	if err := json.Unmarshal([]byte(p.must("images", "--format", "json")), &imgs); err != nil {
		t.Fatal(err)
	}
	ids, sizes := map[string]bool{}, map[string]int64{}
	var total int64
	for _, img := range imgs {
		if !ids[img.ID] {
			total += img.Size
		}
		ids[img.ID], sizes[img.Name] = true, img.Size
	}
	unusedSize := sizes["docker.io/library/df-unused:1"]
	if len(imgs) != 3 || len(ids) != 2 || unusedSize == 0 {
		t.Fatalf("images: %d names, %d IDs: %+v", len(imgs), len(ids), imgs)
	}
	if i := du.Images; i.Total != len(ids) || i.Active != 1 || i.Size != total || i.Reclaimable != unusedSize {
		t.Errorf("df images %+v; want total %d, active 1, size %d, reclaimable %d", i, len(ids), total, unusedSize)
	}

	all, running := strings.Fields(p.must("ps", "-a", "-q")), strings.Fields(p.must("ps", "-q"))
	if c := du.Containers; c.Total != len(all) || c.Total != 2 || c.Active != len(running) || c.Active != 1 ||
		c.Reclaimable < 204800 || c.Size < c.Reclaimable {
		t.Errorf("df containers %+v; want %d of which %d running, the stopped one's 200 KiB reclaimable", c, len(all), len(running))
	}

	var vols []models.Volume
	if err := json.Unmarshal([]byte(p.must("volume", "ls", "--format", "json")), &vols); err != nil {
		t.Fatal(err)
	}
	active := 0
	for _, v := range vols {
		if len(v.UsedBy) > 0 {
			active++
		}
	}
	if v := du.Volumes; v.Total != len(vols) || v.Total != 2 || v.Active != active || v.Active != 1 || v.Size != 7048 || v.Reclaimable != 5000 {
		t.Errorf("df volumes %+v; want 2 (%d listed), 1 active (%d), 7048 bytes, 5000 reclaimable", v, len(vols), active)
	}

	table := p.must("system", "df")
	for _, re := range []string{
		`^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE\n`,
		`\nImages +2 +1 +[0-9.]+ [KM]iB +[0-9.]+ [KM]iB \(\d+%\)\n`,
		`\nContainers +2 +1 +[0-9.]+ KiB +[0-9.]+ KiB \(\d+%\)\n`,
		`\nLocal Volumes +2 +1 +6\.88 KiB +4\.88 KiB \(70%\)\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(table) {
			t.Errorf("system df table does not match %s:\n%s", re, table)
		}
	}
}

// waitUntil polls cond for up to 20 seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 20 s")
}
