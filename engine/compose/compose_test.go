package compose

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

var update = flag.Bool("update", false, "rewrite testdata/compose/*/bundle.golden and bad/*.err")

const corpus = "../../testdata/compose"

// convertIn loads and converts file as a user in dir would (messages name
// the file as given), with exactly env as the environment.
func convertIn(t *testing.T, dir, file string, env []string, opts ConvertOptions) (*Result, error) {
	t.Helper()
	t.Chdir(dir)
	src, err := Load(context.Background(), file, LoadOptions{Env: env})
	if err != nil {
		return nil, err
	}
	return Convert(src, opts)
}

// golden compares got with the file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestConvertGolden converts each valid example and checks the bundle text
// against its golden file, and that the bundle parser accepts it.
func TestConvertGolden(t *testing.T) {
	for _, name := range []string{"stack", "full"} {
		t.Run(name, func(t *testing.T) {
			dir, err := filepath.Abs(filepath.Join(corpus, name))
			if err != nil {
				t.Fatal(err)
			}
			// full's platform is this machine's: the one Budgie accepts.
			res, err := convertIn(t, dir, "compose.yaml", []string{"ARCH=" + goruntime.GOARCH}, ConvertOptions{})
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			if len(res.Warnings) > 0 {
				t.Errorf("warnings without IgnoreUnsupported: %v", res.Warnings)
			}
			if _, err := bundle.Parse("compose.yaml", res.Bundle, bundle.ParseOptions{Dir: dir}); err != nil {
				t.Fatalf("the bundle does not parse: %v\n%s", res.Explain(err), res.Bundle)
			}
			golden(t, filepath.Join(dir, "bundle.golden"), strings.ReplaceAll(string(res.Bundle), dir, "$DIR"))
		})
	}
}

// TestStackSpecs checks the three-service stack's parsed specs: the
// values compose would give each container.
func TestStackSpecs(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join(corpus, "stack"))
	res, err := convertIn(t, dir, "compose.yaml", []string{"GREETING=from the environment", "STACK_IMAGE=busybox:1.36"}, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Parse("compose.yaml", res.Bundle, bundle.ParseOptions{Dir: dir})
	if err != nil {
		t.Fatal(res.Explain(err))
	}
	byName := map[string]models.ContainerSpec{}
	for _, s := range b.Containers {
		byName[s.Name] = s
	}
	db, api, worker := byName["db"], byName["api"], byName["worker"]
	if db.Image != "docker.io/library/busybox:1.36" || api.Image != db.Image {
		t.Errorf("images %q %q: STACK_IMAGE from the environment", db.Image, api.Image)
	}
	env := strings.Join(api.Env, "\n")
	for _, want := range []string{"GREETING=from the environment", "API_TOKEN=token-from-dotenv", "DB_HOST=db", "FROM_ENV_FILE=yes"} {
		if !slices.Contains(api.Env, want) {
			t.Errorf("api env lacks %q (the environment beats .env, environment: beats env_file):\n%s", want, env)
		}
	}
	if !strings.Contains(strings.Join(api.Args, " "), `echo "$GREETING from $(hostname)"`) {
		t.Errorf("$$ is a literal $: args %q", api.Args)
	}
	if len(api.DependsOn) != 1 || api.DependsOn[0] != (models.Dependency{Name: "db", Condition: models.ConditionHealthy, Timeout: 160500 * time.Millisecond}) {
		t.Errorf("api depends_on = %+v", api.DependsOn)
	}
	if len(worker.DependsOn) != 1 || worker.DependsOn[0].Condition != models.ConditionStarted {
		t.Errorf("worker depends_on = %+v", worker.DependsOn)
	}
	if worker.Replicas == nil || worker.Replicas.Count != 2 {
		t.Errorf("worker replicas = %+v", worker.Replicas)
	}
	if db.Health == nil || db.Health.Retries != 60 || len(db.Health.Cmd) != 3 || db.Health.Cmd[0] != "sh" {
		t.Errorf("db health = %+v", db.Health)
	}
	if !slices.Equal(db.Secrets, []string{"db_password"}) || !slices.Equal(db.Networks, []string{"budgie-stack_backend"}) {
		t.Errorf("db secrets %q networks %q", db.Secrets, db.Networks)
	}
	if api.Resources.Memory != 64<<20 || api.Resources.NanoCPUs() != 5e8 || api.StopTimeout.Seconds() != 5 {
		t.Errorf("api resources %+v stop_timeout %v", api.Resources, api.StopTimeout)
	}
	if len(api.Ports) != 1 || api.Ports[0].HostPort != 18080 || api.Ports[0].ContainerPort != 8080 {
		t.Errorf("api ports %+v", api.Ports)
	}
	wantVols := []models.VolumeMount{{Kind: models.VolumeBind, Source: filepath.Join(dir, "site"), Target: "/site", ReadOnly: true}}
	if !slices.Equal(worker.Volumes, wantVols) {
		t.Errorf("worker volumes %+v, want %+v", worker.Volumes, wantVols)
	}
	if db.Volumes[0].Source != "budgie-stack_db-data" {
		t.Errorf("db volume %+v: named PROJECT_KEY as compose names it", db.Volumes[0])
	}
	if len(res.Secrets) != 1 || res.Secrets[0].File != filepath.Join(dir, "db_password.txt") {
		t.Errorf("secrets to import: %+v", res.Secrets)
	}
	if len(res.Networks) != 2 || res.Networks[0].Name != "budgie-stack_backend" {
		t.Errorf("networks to create: %+v", res.Networks)
	}
}

// TestBadFiles checks each refused file's problems against its .err file:
// every one names the file, the line and the field.
func TestBadFiles(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join(corpus, "bad"))
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) < 5 {
		t.Fatalf("found %d bad files (%v)", len(files), err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			res, err := convertIn(t, dir, name, []string{}, ConvertOptions{})
			if err == nil {
				_, err = bundle.Parse(name, res.Bundle, bundle.ParseOptions{Dir: dir})
				if err != nil {
					err = res.Explain(err)
				}
			}
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("got %v, want an invalid-file error", err)
			}
			var be *bundle.Error
			if !errors.As(err, &be) {
				t.Fatalf("%T is not a *bundle.Error", err)
			}
			for _, p := range be.Problems {
				if p.File != name || p.Line == 0 {
					t.Errorf("problem without file:line: %s", p)
				}
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".err", err.Error()+"\n")
		})
	}
}

// TestIgnoreUnsupported: the same refusals become warnings, one per field
// left out, and the bundle runs without them; what cannot be left out
// still fails.
func TestIgnoreUnsupported(t *testing.T) {
	dir, _ := filepath.Abs(filepath.Join(corpus, "bad"))
	strict, err := convertIn(t, dir, "unsupported.yaml", []string{}, ConvertOptions{})
	var be *bundle.Error
	if strict != nil || !errors.As(err, &be) {
		t.Fatalf("strict: %v", err)
	}
	res, err := convertIn(t, dir, "unsupported.yaml", []string{}, ConvertOptions{IgnoreUnsupported: true})
	if err != nil {
		t.Fatalf("IgnoreUnsupported: %v", err)
	}
	if len(res.Warnings) != len(be.Problems) {
		t.Errorf("%d warnings for %d refusals:\n%v\n%v", len(res.Warnings), len(be.Problems), res.Warnings, be.Problems)
	}
	for i, w := range res.Warnings {
		if i < len(be.Problems) && (w.Field != be.Problems[i].Field || w.Line != be.Problems[i].Line || !strings.HasPrefix(w.Message, "left out: ")) {
			t.Errorf("warning %d = %s, want the refusal %s, left out", i, w, be.Problems[i])
		}
	}
	if _, err := bundle.Parse("unsupported.yaml", res.Bundle, bundle.ParseOptions{Dir: dir}); err != nil {
		t.Errorf("the bundle without the refused fields does not parse: %v\n%s", err, res.Bundle)
	}
	if _, err := convertIn(t, dir, "no-image.yaml", []string{}, ConvertOptions{IgnoreUnsupported: true}); err == nil ||
		!strings.Contains(err.Error(), "no-image.yaml:5:5: services.app.build:") {
		t.Errorf("a service without an image under IgnoreUnsupported: %v", err)
	}
}

// TestIsCompose tells compose files from bundles.
func TestIsCompose(t *testing.T) {
	for data, want := range map[string]bool{
		"services:\n  web:\n    image: busybox\n":          true,
		"name: app\nservices: {}\n":                        true,
		"x: &a {image: busybox}\nservices: {web: *a}\n":    true,
		"name: web\nimage: busybox\n":                      false,
		"containers:\n  - name: web\n    image: busybox\n": false,
		"services: {}\ncontainers: []\n":                   false,
		"- services\n":                                     false,
		"services: [":                                      false,
		"":                                                 false,
	} {
		if got := IsCompose([]byte(data)); got != want {
			t.Errorf("IsCompose(%q) = %v, want %v", data, got, want)
		}
	}
}

// TestLinesFind finds keys through lists, aliases and merge keys.
func TestLinesFind(t *testing.T) {
	l := newLines([]byte(`x-base: &base
  cap_add: [NET_ADMIN]
  deploy:
    resources: {}
services:
  web:
    <<: *base
    image: busybox
    ports:
      - "80"
      - "81"
    deploy:
      replicas: 2
`))
	for field, want := range map[string][2]int{
		"services.web.image":                     {8, 5},
		"services.web.cap_add":                   {2, 3},
		"services.web.ports[1]":                  {11, 9},
		"services.web.ports[5]":                  {9, 5},
		"services.web.deploy.resources":          {12, 5}, // the service's own deploy: wins
		"services.web.deploy.replicas":           {13, 7},
		"services.web.healthcheck.test":          {6, 3},
		"services.nope":                          {5, 1},
		"networks.front":                         {0, 0},
		"services.web.labels.com.example.tier.x": {6, 3},
	} {
		line, col := l.find(field)
		if [2]int{line, col} != want {
			t.Errorf("find(%s) = %d:%d, want %d:%d", field, line, col, want[0], want[1])
		}
	}
	if line, _ := newLines([]byte("a: [")).find("a"); line != 0 {
		t.Errorf("bad YAML found line %d", line)
	}
}

// TestEditorRefusesComposeFiles: nest's editor, which opens a container's
// bundle path, does not take a compose file for a bundle to rewrite.
func TestEditorRefusesComposeFiles(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpus, "stack", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.ParseDocument(data); !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "budgie convert") {
		t.Errorf("ParseDocument of a compose file: %v", err)
	}
	res, err := convertIn(t, filepath.Join(corpus, "stack"), "compose.yaml", []string{}, ConvertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.ParseDocument(res.Bundle); err != nil {
		t.Errorf("ParseDocument of the converted bundle: %v", err)
	}
}
