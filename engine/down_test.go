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
	"github.com/budgie-sh/budgie/models"
)

func TestDownSpecsBadBundle(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.bun")
	bad := filepath.Join(dir, "bad.bun")
	os.WriteFile(good, []byte("name: a\nimage: busybox\n"), 0o644)
	os.WriteFile(bad, []byte("name: x\nimgae: busybox\n"), 0o644)
	if _, err := loadDownGroup(context.Background(), bad); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "bad.bun:2") {
		t.Errorf("a bad bundle: %v, want ErrInvalid naming bad.bun:2", err)
	}
	g, err := loadDownGroup(context.Background(), good)
	if err != nil || len(g.specs) != 1 || g.specs[0].Name != "a" || g.owner != "" {
		t.Errorf("a good bundle: %+v, %v", g, err)
	}
}

func TestNamedVolumes(t *testing.T) {
	named := func(names ...string) []models.VolumeMount {
		var out []models.VolumeMount
		for _, n := range names {
			out = append(out, models.VolumeMount{Kind: models.VolumeNamed, Source: n, Target: "/" + n})
		}
		return out
	}
	specs := []models.ContainerSpec{
		{Name: "web", Volumes: append(named("site", "cache"), models.VolumeMount{Kind: models.VolumeBind, Source: "/etc", Target: "/host"})},
		{Name: "db", Volumes: named("pg")},
	}
	members := map[string][]models.Container{
		"db": {{Name: "db", Spec: models.ContainerSpec{Volumes: named("pg", "old-pg")}}},
	}
	if got, want := namedVolumes(specs, members), []string{"cache", "old-pg", "pg", "site"}; !reflect.DeepEqual(got, want) {
		t.Errorf("namedVolumes = %v, want %v (bind mounts left out)", got, want)
	}
}
