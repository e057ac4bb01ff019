package runtime

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func TestResolve(t *testing.T) {
	cs := []models.Container{
		{ID: "abc111", Name: "web"},
		{ID: "abc222", Name: "worker"},
		{ID: "def333", Name: "abc111x"},
		{ID: "web999", Name: "db"},
	}
	tests := []struct {
		ref    string
		wantID string
		is     error
	}{
		{"abc111", "abc111", nil},  // exact ID
		{"web", "abc111", nil},     // a name wins over an ID prefix
		{"def", "def333", nil},     // unique prefix
		{"abc111x", "def333", nil}, // name
		{"abc", "", errdefs.ErrAmbiguous},
		{"zzz", "", errdefs.ErrNotFound},
		{"", "", errdefs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := resolve(cs, tt.ref)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
				return
			}
			if err != nil || got.ID != tt.wantID {
				t.Fatalf("got %s, %v; want %s", got.ID, err, tt.wantID)
			}
		})
	}
	_, err := resolve(cs, "abc")
	for _, want := range []string{"abc111 (web)", "abc222 (worker)", "2 containers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ambiguity error %q lacks %q", err, want)
		}
	}
}

func TestFilters(t *testing.T) {
	c := models.Container{ID: "abc123", Name: "web-1", State: models.StateRunning, Image: "docker.io/library/nginx:1",
		Labels: map[string]string{"tier": "front"}}
	tests := []struct {
		filters []string
		want    bool
	}{
		{[]string{"name=web"}, true},
		{[]string{"name=db"}, false},
		{[]string{"name=db,name=web"}, true}, // same key: alternatives
		{[]string{"name=web", "status=exited"}, false},
		{[]string{"status=running", "id=abc"}, true},
		{[]string{"label=tier"}, true},
		{[]string{"label=tier=front"}, true},
		{[]string{"label=tier=back"}, false},
		{[]string{"image=nginx"}, true},
	}
	for _, tt := range tests {
		fs, err := ParseFilters(tt.filters)
		if err != nil {
			t.Fatal(err)
		}
		if got := matchAll(fs, c); got != tt.want {
			t.Errorf("%v: got %v want %v", tt.filters, got, tt.want)
		}
	}
	for _, bad := range []string{"colour=red", "status=sleeping", "name", "name="} {
		if _, err := ParseFilters([]string{bad}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func TestSpecLabelsRoundTrip(t *testing.T) {
	spec := models.ContainerSpec{Name: "big", Image: "x", Env: []string{strings.Repeat("A", 9000) + "=1"}}
	labels := map[string]string{}
	if err := encodeSpec(spec, labels); err != nil {
		t.Fatal(err)
	}
	if len(labels) < 3 {
		t.Fatalf("a 9 KB spec should span several labels, got %d", len(labels))
	}
	for k, v := range labels {
		if len(k)+len(v) > 4096 {
			t.Errorf("label %s is %d bytes, over containerd's cap", k, len(k)+len(v))
		}
	}
	got, err := decodeSpec(labels)
	if err != nil || got.Env[0] != spec.Env[0] || got.Name != "big" {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := decodeSpec(map[string]string{}); err == nil {
		t.Error("decode of no labels succeeded")
	}
}

func TestProcessArgs(t *testing.T) {
	ic := ocispec.ImageConfig{Entrypoint: []string{"/entry"}, Cmd: []string{"serve"}}
	tests := []struct {
		name string
		spec models.ContainerSpec
		want string
	}{
		{"image defaults", models.ContainerSpec{}, "/entry serve"},
		{"args replace cmd", models.ContainerSpec{Args: []string{"run", "x"}}, "/entry run x"},
		{"command clears cmd", models.ContainerSpec{Command: []string{"sh"}}, "sh"},
		{"command and args", models.ContainerSpec{Command: []string{"sh"}, Args: []string{"-c", "id"}}, "sh -c id"},
	}
	for _, tt := range tests {
		if got := strings.Join(processArgs(ic, tt.spec), " "); got != tt.want {
			t.Errorf("%s: %q want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "hup": syscall.SIGHUP, "9": syscall.SIGKILL, "QUIT": syscall.SIGQUIT} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"SIGNOPE", "0", "99"} {
		if _, err := ParseSignal(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseSignal(%q): %v", bad, err)
		}
	}
}

func TestCheckSupported(t *testing.T) {
	if err := CheckSupported(models.ContainerSpec{Name: "a", RestartPolicy: models.RestartPolicy{Name: "no"}}); err != nil {
		t.Errorf("plain spec refused: %v", err)
	}
	if err := CheckSupported(models.ContainerSpec{Name: "a", Ports: []models.PortMapping{{ContainerPort: 80}}, Networks: []string{"n"},
		Replicas: &models.Replicas{Count: 2}}); err != nil {
		t.Errorf("ports, networks and replicas refused: %v", err)
	}
	err := CheckSupported(models.ContainerSpec{Name: "a", Health: &models.HealthCheck{HTTP: "/healthz"}})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "/healthz") {
		t.Errorf("a health probe without a port: %v", err)
	}
}
