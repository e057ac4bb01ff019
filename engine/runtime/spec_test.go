package runtime

import (
	"reflect"
	"testing"

	"github.com/budgie-sh/budgie/models"
)

func TestMountOptions(t *testing.T) {
	r := &Runtime{opts: Options{DataDir: "/data"}}
	for _, tc := range []struct {
		name    string
		volume  models.VolumeMount
		source  string
		options []string
	}{
		{"named", models.VolumeMount{Kind: models.VolumeNamed, Source: "db", Target: "/v"},
			"/data/volumes/db", []string{"rbind", "rw", "nosuid", "nodev"}},
		{"named read-only", models.VolumeMount{Kind: models.VolumeNamed, Source: "db", Target: "/v", ReadOnly: true},
			"/data/volumes/db", []string{"rbind", "ro", "nosuid", "nodev"}},
		{"bind keeps the host's flags", models.VolumeMount{Kind: models.VolumeBind, Source: "/srv", Target: "/v"},
			"/srv", []string{"rbind", "rw"}},
		{"bind read-only", models.VolumeMount{Kind: models.VolumeBind, Source: "/srv", Target: "/v", ReadOnly: true},
			"/srv", []string{"rbind", "ro"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := r.mounts(models.ContainerSpec{Volumes: []models.VolumeMount{tc.volume}})
			if len(m) != 1 || m[0].Type != "bind" || m[0].Source != tc.source || m[0].Destination != "/v" ||
				!reflect.DeepEqual(m[0].Options, tc.options) {
				t.Errorf("mounts = %+v, want bind %s on /v with %v", m, tc.source, tc.options)
			}
		})
	}
}
