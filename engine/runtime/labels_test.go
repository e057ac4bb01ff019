package runtime

import (
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/models"
)

func TestReadLabelsReportsDamage(t *testing.T) {
	sound := map[string]string{}
	spec := models.ContainerSpec{Name: "web", Image: "busybox", Args: []string{strings.Repeat("x", 2*specChunk)},
		Ports: []models.PortMapping{{ContainerPort: 80}}}
	if err := encodeSpec(spec, sound); err != nil {
		t.Fatal(err)
	}
	with := func(change func(map[string]string)) map[string]string {
		out := map[string]string{}
		for k, v := range sound {
			out[k] = v
		}
		change(out)
		return out
	}
	tests := []struct {
		name     string
		labels   map[string]string
		damaged  string // label names, comma-separated
		errPart  string
		wantSpec bool
		ports    int
	}{
		{"sound", sound, "", "", true, 1},
		{"chunk lost", with(func(l map[string]string) { delete(l, LabelSpec+".1") }), "budgie.spec", "decode spec labels", false, 0},
		{"chunk cut short", with(func(l map[string]string) { l[LabelSpec+".2"] = "{" }), "budgie.spec", "decode spec labels", false, 0},
		{"no spec", map[string]string{LabelName: "web"}, "budgie.spec", "no budgie.spec.0 label", false, 0},
		{"ports", with(func(l map[string]string) { l[LabelPorts] = "[{" }), "budgie.ports", "decode ports label", true, 1},
		{"published ports", with(func(l map[string]string) {
			l[LabelPorts] = `[{"container_port":80,"host_port":8080},{"container_port":81}]`
		}), "", "", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ports, damaged := readLabels(tt.labels)
			c := models.Container{Damaged: damaged}
			if c.DamagedLabels() != tt.damaged {
				t.Fatalf("damaged %q, want %q (%+v)", c.DamagedLabels(), tt.damaged, damaged)
			}
			if tt.errPart != "" && !strings.Contains(damaged[0].Error, tt.errPart) {
				t.Errorf("error %q, want it to say %q", damaged[0].Error, tt.errPart)
			}
			if (got.Name == "web") != tt.wantSpec {
				t.Errorf("spec %+v, want it read: %v", got.Name, tt.wantSpec)
			}
			if len(ports) != tt.ports {
				t.Errorf("ports %+v, want %d", ports, tt.ports)
			}
		})
	}
}
