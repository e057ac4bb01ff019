package replica

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/models"
)

var testPrimary = identity.IDFromCertificate([]byte("the primary's certificate"))

// goodPlan is a plan an honest primary sends.
func goodPlan() models.ReplicaPlan {
	spec := models.ContainerSpec{
		Name: "web", Image: "docker.io/library/busybox:latest", Args: []string{"httpd", "-f"},
		Env:     []string{"A=1", "B=two"},
		Ports:   []models.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "http"}},
		Volumes: []models.VolumeMount{{Kind: models.VolumeNamed, Source: "www", Target: "/var/www"}},
		Health:  &models.HealthCheck{HTTP: ":80/healthz"},
		Labels:  map[string]string{"team": "ops"},
	}
	return models.ReplicaPlan{
		NodeID: "n1", NodeName: "attic", Identity: testPrimary.String(),
		ContainerID: strings.Repeat("ab", 32), Name: "web", Spec: spec, Image: spec.Image,
		ImageDigest: "sha256:" + strings.Repeat("0f", 32),
		Volumes:     []models.ReplicaVolume{{Name: "www", Target: "/var/www"}},
	}
}

func TestAdmitHonestPlan(t *testing.T) {
	a, err := admit(goodPlan(), admitOptions{verified: testPrimary})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Refused) != 0 {
		t.Fatalf("refused %v", a.Refused)
	}
	want := goodPlan().Spec
	got, _ := json.Marshal(a.Spec)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Fatalf("spec changed:\n got %s\nwant %s", got, exp)
	}
}

// TestAdmitRefusesWholePlan: plans that would write outside the volumes,
// pin the wrong identity or run something else fail before any transfer.
func TestAdmitRefusesWholePlan(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *models.ReplicaPlan)
		opts  admitOptions
		field string
	}{
		{"volume traversal", func(p *models.ReplicaPlan) {
			p.Volumes[0].Name = "../identity"
			p.Spec.Volumes[0].Source = "../identity"
		}, admitOptions{}, "volume name"},
		{"volume to etc", func(p *models.ReplicaPlan) {
			p.Volumes[0].Name = "../../../../etc"
			p.Spec.Volumes[0].Source = "../../../../etc"
		}, admitOptions{}, "volume name"},
		{"empty volume name wipes all", func(p *models.ReplicaPlan) {
			p.Volumes[0].Name = ""
			p.Spec.Volumes[0].Source = ""
		}, admitOptions{}, "volume name"},
		{"synced volume not in spec", func(p *models.ReplicaPlan) {
			p.Volumes = append(p.Volumes, models.ReplicaVolume{Name: "other", Target: "/x"})
		}, admitOptions{}, "named volumes"},
		{"identity claim differs from the handshake", func(p *models.ReplicaPlan) {
			p.Identity = identity.IDFromCertificate([]byte("attacker")).String()
		}, admitOptions{}, "identity"},
		{"bad container id", func(p *models.ReplicaPlan) { p.ContainerID = "../x" }, admitOptions{}, "container_id"},
		{"bad digest", func(p *models.ReplicaPlan) { p.ImageDigest = "sha256:../../x" }, admitOptions{}, "image_digest"},
		{"image differs from spec", func(p *models.ReplicaPlan) { p.Spec.Image = "docker.io/library/evil:latest" }, admitOptions{}, "image"},
		{"bad name", func(p *models.ReplicaPlan) { p.Name = "../web" }, admitOptions{}, "name"},
		{"env with NUL", func(p *models.ReplicaPlan) { p.Spec.Env = []string{"A=\x00"} }, admitOptions{}, "env"},
		{"relative workdir", func(p *models.ReplicaPlan) { p.Spec.Workdir = "tmp" }, admitOptions{}, "workdir"},
		{"unknown volume kind", func(p *models.ReplicaPlan) { p.Spec.Volumes[0].Kind = "tmpfs" }, admitOptions{}, "kind"},
		{"mount over root", func(p *models.ReplicaPlan) { p.Spec.Volumes[0].Target = "/" }, admitOptions{}, "target"},
		{"network traversal", func(p *models.ReplicaPlan) { p.Spec.Networks = []string{"../x"} }, admitOptions{}, "networks"},
		{"allowed secret not used", func(p *models.ReplicaPlan) {}, admitOptions{secrets: []string{"db"}}, "--secret db"},
		{"bad signal", func(p *models.ReplicaPlan) { p.Spec.StopSignal = "SIGNOPE" }, admitOptions{}, "stop_signal"},
		{"negative memory", func(p *models.ReplicaPlan) { p.Spec.Resources.Memory = -1 }, admitOptions{}, "resources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := goodPlan()
			tt.edit(&p)
			if tt.opts.verified.IsZero() {
				tt.opts.verified = testPrimary
			}
			_, err := admit(p, tt.opts)
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("err = %v, want ErrInvalid naming %q", err, tt.field)
			}
		})
	}
}

// TestAdmitLeavesOut: what the allow-list drops is gone from the spec and
// named in Refused.
func TestAdmitLeavesOut(t *testing.T) {
	p := goodPlan()
	p.Spec.Volumes = append(p.Spec.Volumes, models.VolumeMount{Kind: models.VolumeBind, Source: "/etc", Target: "/host-etc"})
	p.Spec.Networks = []string{"host"}
	p.Spec.Ports[0].HostIP = "10.1.2.3"
	p.Spec.Labels = map[string]string{"budgie.replicable": "true", "io.containerd.x": "1", "ok": "1"}
	p.Spec.Secrets = []string{"db", "api"}
	p.Spec.DependsOn = []models.Dependency{{Name: "db"}}
	p.Spec.Replicas = &models.Replicas{Count: 3}
	p.Spec.Health = &models.HealthCheck{HTTP: "http://169.254.169.254/latest", TCP: "10.0.0.1:22"}
	a, err := admit(p, admitOptions{verified: testPrimary, secrets: []string{"api"}, name: "web2"})
	if err != nil {
		t.Fatal(err)
	}
	s := a.Spec
	if s.Name != "web2" || len(s.Volumes) != 1 || s.Volumes[0].Kind != models.VolumeNamed {
		t.Fatalf("volumes/name: %+v", s)
	}
	if len(s.Networks) != 0 || s.Ports[0].HostIP != "" || s.Health != nil || s.DependsOn != nil || s.Replicas != nil {
		t.Fatalf("spec kept what it must not: %+v", s)
	}
	if !slices.Equal(s.Secrets, []string{"api"}) || len(s.Labels) != 1 || s.Labels["ok"] != "1" {
		t.Fatalf("secrets %v labels %v", s.Secrets, s.Labels)
	}
	all := strings.Join(a.Refused, "\n")
	for _, want := range []string{`"/etc"`, "network host", `"10.1.2.3"`, "budgie.replicable", "io.containerd.x", "secret db", "depends_on", "replicas", "health.http", "health.tcp"} {
		if !strings.Contains(all, want) {
			t.Errorf("refused lines miss %q:\n%s", want, all)
		}
	}
}

func TestCheckImageExport(t *testing.T) {
	dgst := "sha256:" + strings.Repeat("0f", 32)
	hex := strings.Repeat("0f", 32)
	tests := []struct {
		exp ImageExport
		ok  bool
	}{
		{ImageExport{Volume: ImageVolumePrefix + hex, File: "image.tar"}, true},
		{ImageExport{Volume: ImageVolumePrefix + "..", File: "image.tar"}, false},
		{ImageExport{Volume: "abc/www", File: "image.tar"}, false},
		{ImageExport{Volume: ImageVolumePrefix + hex, File: "../../etc/shadow"}, false},
		{ImageExport{Volume: ImageVolumePrefix + strings.Repeat("1f", 32), File: "image.tar"}, false},
	}
	for _, tt := range tests {
		got, err := checkImageExport(tt.exp, dgst)
		if (err == nil) != tt.ok || (tt.ok && got != hex) {
			t.Errorf("%+v: got %q, %v", tt.exp, got, err)
		}
	}
}

// FuzzAdmitPlan decodes arbitrary plans: whatever a primary sends, an
// admitted spec mounts only valid named volumes inside the volumes
// directory, joins no host network, carries no reserved label and reads
// only allowed secrets.
func FuzzAdmitPlan(f *testing.F) {
	good, _ := json.Marshal(goodPlan())
	f.Add(good, "")
	evil := goodPlan()
	evil.Volumes[0].Name, evil.Spec.Volumes[0].Source = "..", ".."
	b, _ := json.Marshal(evil)
	f.Add(b, "db")
	f.Add([]byte(`{"spec":{"volumes":[{"kind":"bind","source":"/","target":"/h"}],"networks":["host"]}}`), "x")
	f.Fuzz(func(t *testing.T, data []byte, secret string) {
		var p models.ReplicaPlan
		if json.Unmarshal(data, &p) != nil {
			return
		}
		p.Identity = testPrimary.String()
		var allowed []string
		if secret != "" {
			allowed = []string{secret}
		}
		a, err := admit(p, admitOptions{verified: testPrimary, secrets: allowed})
		if err != nil {
			return
		}
		volumes := "/var/lib/budgie/volumes"
		for _, v := range a.Spec.Volumes {
			dir := filepath.Join(volumes, v.Source)
			if v.Kind != models.VolumeNamed || filepath.Dir(dir) != volumes || v.Source == "" {
				t.Fatalf("admitted volume %+v escapes %s", v, volumes)
			}
		}
		for _, v := range a.Volumes {
			if dir := filepath.Join(volumes, v.Name); filepath.Dir(dir) != volumes {
				t.Fatalf("synced volume %q escapes %s", v.Name, volumes)
			}
		}
		if slices.Contains(a.Spec.Networks, models.HostNetwork) {
			t.Fatal("host network admitted")
		}
		for k := range a.Spec.Labels {
			if strings.HasPrefix(k, "budgie.") || strings.HasPrefix(k, "io.containerd.") {
				t.Fatalf("reserved label %q admitted", k)
			}
		}
		for _, s := range a.Spec.Secrets {
			if s != secret {
				t.Fatalf("secret %q admitted without consent", s)
			}
		}
	})
}
