package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// TestAdhocBundleSpec: docker run's flags become the spec a hand-written
// bundle of the same fields gives, and the printed text parses back to
// it wherever it is saved (relative bind sources made absolute).
func TestAdhocBundleSpec(t *testing.T) {
	dir := t.TempDir()
	data, err := AdhocBundle(AdhocOptions{
		Image: "busybox", Name: "web", Args: []string{"sh", "-c", `echo "$A"; exit 0`, "", "two words", "80", "null"},
		Env: []string{"A=1", "B=x: y # z", "EMPTY="}, Publish: []string{"18080:80", "127.0.0.1::53/udp"},
		Volumes: []string{"./site:/var/www:ro", "data:/data"}, Networks: []string{"backend"},
		Restart: "on-failure:3", Memory: "64m", CPUs: "0.5", Tty: true, StdinOpen: true, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `name: web
image: busybox
args: [sh, -c, 'echo "$A"; exit 0', "", two words, "80", "null"]
env: ["A=1", "B=x: y # z", "EMPTY="]
ports: ["18080:80", "127.0.0.1::53/udp"]
volumes: ["` + filepath.Join(dir, "site") + `:/var/www:ro", "data:/data"]
networks: [backend]
restart_policy: on-failure:3
resources: {memory: 64MiB, cpus: 0.5}
tty: true
stdin_open: true
`
	wb, err := bundle.Parse("want.bun", []byte(want), bundle.ParseOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "printed.bun")
	if err := os.WriteFile(elsewhere, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := bundle.ParseFile(elsewhere, bundle.ParseOptions{})
	if err != nil {
		t.Fatalf("printed bundle does not parse: %v\n%s", err, data)
	}
	if !strings.Contains(string(data), "\ntty: true\nstdin_open: true\n") {
		t.Errorf("printed bundle lacks tty: true and stdin_open: true (-t, -i):\n%s", data)
	}
	if !reflect.DeepEqual(got.Containers, wb.Containers) {
		t.Errorf("printed bundle's spec:\n%+v\nwant:\n%+v\n%s", got.Containers[0], wb.Containers[0], data)
	}
}

// TestAdhocBundleErrors: a bad flag gets the bundle parser's message,
// named after the flag rather than a line of generated text.
func TestAdhocBundleErrors(t *testing.T) {
	tests := []struct {
		name string
		opts AdhocOptions
		want []string
	}{
		{"port out of range", AdhocOptions{Publish: []string{"8080:80", "70000:80"}},
			[]string{"-p 70000:80: port 70000 is out of range (1 to 65535)"}},
		{"memory unit", AdhocOptions{Memory: "64 potatoes"},
			[]string{`--memory 64 potatoes: unknown unit "potatoes" in "64 potatoes" (hint: the units are`}},
		{"cpus and memory", AdhocOptions{Memory: "1k", CPUs: "lots"},
			[]string{"--memory 1k: 1k is below the minimum of", `--cpus lots: invalid number "lots"`}},
		{"restart", AdhocOptions{Restart: "sometimes"}, []string{"--restart sometimes: "}},
		{"volume", AdhocOptions{Volumes: []string{"data:relative"}}, []string{"-v data:relative: target \"relative\" is not an absolute path"}},
		{"env", AdhocOptions{Env: []string{"A=1", "A=2"}}, []string{"-e A=2: A is set twice"}},
		{"port twice", AdhocOptions{Publish: []string{"80:80", "80:81"}}, []string{"-p 80:81: host port 80/tcp is already published by ports[0]"}},
		{"name", AdhocOptions{Name: "no spaces"}, []string{"--name no spaces: "}},
		{"image", AdhocOptions{Image: "Bad:Image:Ref"}, []string{"image Bad:Image:Ref: "}},
		{"network", AdhocOptions{Networks: []string{"a b"}}, []string{"--network a b: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Image == "" {
				tt.opts.Image = "busybox"
			}
			_, err := AdhocBundle(tt.opts)
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("problem %d = %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}

// TestAdhocName: without --name, the name is the image's and a random
// suffix, always a valid container name.
func TestAdhocName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*-[0-9a-f]{6}$`)
	for image, prefix := range map[string]string{
		"busybox": "busybox-", "docker.io/library/nginx:1.27": "nginx-", "localhost:5000/app@sha256:ab": "app-",
		"_x": "x-", "": "ctr-", strings.Repeat("a", 80): strings.Repeat("a", 48) + "-",
	} {
		n := adhocName(image)
		if !strings.HasPrefix(n, prefix) || !re.MatchString(n) || bundle.CheckContainerName(n) != nil {
			t.Errorf("adhocName(%q) = %q, want %s… and a valid name", image, n, prefix)
		}
	}
	if a, b := adhocName("busybox"), adhocName("busybox"); a == b {
		t.Errorf("two names are the same: %s", a)
	}
	data, err := AdhocBundle(AdhocOptions{Image: "busybox"})
	if err != nil || !regexp.MustCompile(`(?m)^name: busybox-[0-9a-f]{6}$`).Match(data) {
		t.Errorf("AdhocBundle without a name: %v\n%s", err, data)
	}
}

// TestAdhocBundleMinimal: an image alone is a bundle of name and image.
func TestAdhocBundleMinimal(t *testing.T) {
	data, err := AdhocBundle(AdhocOptions{Image: "busybox", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Parse("x", data, bundle.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := models.ContainerSpec{Name: "b", Image: "docker.io/library/busybox:latest"}
	if !reflect.DeepEqual(b.Containers[0], want) {
		t.Errorf("spec = %+v, want %+v", b.Containers[0], want)
	}
}

// TestRunAttachChecks: attaching streams is refused, before containerd is
// reached, to a run of more than one container and to replicas.
func TestRunAttachChecks(t *testing.T) {
	var e *Engine // the checks come first: no engine is needed
	attach := &runtime.AttachOptions{}
	tests := []struct {
		name string
		text string
		opts RunBundleOptions
		want string
	}{
		{"not single", "name: a\nimage: busybox\ntty: true\n", RunBundleOptions{Attach: attach},
			"attaching streams needs a run of one container"},
		{"replicas", "name: w\nimage: busybox\nstdin_open: true\nreplicas: 2\n", RunBundleOptions{Single: true, Attach: attach},
			"w has replicas: one terminal or stdin cannot be attached to several containers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.RunBundleText(context.Background(), "t.bun", []byte(tt.text), tt.opts)
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RunBundleText: %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}
