package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

func TestCheckOwners(t *testing.T) {
	all := []models.Container{
		{ID: "1", Name: "db", Service: "db", Owner: "compose:proja"},
		{ID: "2", Name: "web", Service: "web"},
		{ID: "3", Name: "api-1", Service: "api", Replica: 1, Owner: "kube:/m.yaml"},
	}
	specs := func(names ...string) []models.ContainerSpec {
		var out []models.ContainerSpec
		for _, n := range names {
			out = append(out, models.ContainerSpec{Name: n})
		}
		return out
	}
	tests := []struct {
		name  string
		specs []models.ContainerSpec
		owner string
		want  string // "" for no error
	}{
		{"same project", specs("db"), "compose:proja", ""},
		{"another project", specs("db"), "compose:projb", "db belongs to compose project proja, not to compose project projb (rename it in the file, or take proja down first"},
		{"a plain bundle over a project's", specs("db"), "", "db belongs to compose project proja, not to no compose project"},
		{"a project over a plain run's", specs("web"), "compose:proja", "web belongs to no compose project or manifest (a plain budgie run), not to compose project proja (rename it in the file, or remove the container first: budgie rm -f web)"},
		{"a replica of a manifest's", specs("api"), "compose:proja", "api-1 belongs to kube manifest /m.yaml"},
		{"the same manifest's replicas", specs("api"), "kube:/m.yaml", ""},
		{"nothing there", specs("new"), "compose:projb", ""},
	}
	// a plain run may leave a project's container as it is
	if err := checkOwners(specs("db"), nil, all, map[string]bool{"db": true}); err != nil {
		t.Errorf("a plain run of db's very spec: %v", err)
	}
	// but a project may not adopt a plain run's, unchanged or not
	if err := checkOwners(specs("web"), map[string]string{"web": "compose:p"}, all, map[string]bool{"web": true}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("a project over a plain run's unchanged container: %v, want ErrConflict", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ownerOf := map[string]string{}
			for _, s := range tt.specs {
				ownerOf[s.Name] = tt.owner
			}
			err := checkOwners(tt.specs, ownerOf, all, nil)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkOwners: %v, want nil", err)
			case tt.want != "" && (!errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("checkOwners: %v, want ErrConflict with %q", err, tt.want)
			}
		})
	}
}

func TestMembersOnce(t *testing.T) {
	all := []models.Container{
		{ID: "1", Name: "web", Service: "web"},
		{ID: "2", Name: "web-1", Service: "web", Replica: 1},
		{ID: "3", Name: "web-1x", Service: "web-1x"},
	}
	// web-1 is both a spec's name and a replica of web: taken once.
	got := members([]models.ContainerSpec{{Name: "web"}, {Name: "web-1"}}, all)
	if len(got["web"]) != 2 || len(got["web-1"]) != 0 {
		t.Errorf("members = %+v, want web's two containers, web-1's none", got)
	}
}

func TestAttachWithReconciledRefused(t *testing.T) {
	err := checkCount([]models.ContainerSpec{{Name: "a"}}, RunBundleOptions{
		Single: true, Attach: &runtime.AttachOptions{}, Reconciled: func(ReconcileResult) {},
	})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "reconcil") {
		t.Errorf("Attach with Reconciled: %v, want ErrInvalid", err)
	}
}

// TestReadersRefuseFIFO: a FIFO given as a secret file or a manifest is
// refused at once instead of blocking the open; a large file is refused.
func TestReadersRefuseFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 2)
	go func() { _, err := readSecretFile(fifo); done <- err }()
	go func() { _, err := readManifest(fifo); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("read of a FIFO: %v, want not a regular file", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("read of a FIFO blocks")
		}
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, make([]byte, 600<<10), 0o600)
	if _, err := readSecretFile(big); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("a large secret file: %v, want ErrInvalid", err)
	}
	// a symlink to a regular file is followed, as docker compose follows it
	target := filepath.Join(dir, "pw")
	os.WriteFile(target, []byte("pw"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)
	if data, err := readSecretFile(link); err != nil || string(data) != "pw" {
		t.Errorf("a symlinked secret file: %q, %v", data, err)
	}
}

func TestMakeDirUndo(t *testing.T) {
	dir := t.TempDir()
	var undo undoList
	if err := makeDir(filepath.Join(dir, "a", "b", "c"), &undo); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a", "b", "c")); err != nil || !fi.IsDir() {
		t.Fatalf("makeDir made nothing: %v", err)
	}
	if len(undo) != 3 {
		t.Errorf("undo has %d steps, want 3 (one per directory made)", len(undo))
	}
	undo.run(context.Background())
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("undo left %s/a: %v", dir, err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("undo removed the existing parent: %v", err)
	}
}

func TestOwnerSpecs(t *testing.T) {
	all := []models.Container{
		{Name: "db", Service: "db", Owner: "compose:p", Spec: models.ContainerSpec{Name: "db"}},
		{Name: "w-1", Service: "w", Replica: 1, Owner: "compose:p", Spec: models.ContainerSpec{Name: "w-1", DependsOn: []models.Dependency{{Name: "db"}, {Name: "gone"}}}},
		{Name: "w-2", Service: "w", Replica: 2, Owner: "compose:p", Spec: models.ContainerSpec{Name: "w-2"}},
		{Name: "x", Service: "x", Owner: "compose:q"},
	}
	got := ownerSpecs("compose:p", all)
	if len(got) != 2 || got[0].Name != "db" || got[1].Name != "w" || len(got[1].DependsOn) != 1 || got[1].DependsOn[0].Name != "db" {
		t.Errorf("ownerSpecs = %+v, want db and w (depending on db only)", got)
	}
}
