package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// base is what the header "name: t\nimage: busybox\n" decodes to.
func base() models.ContainerSpec {
	return models.ContainerSpec{Name: "t", Image: "docker.io/library/busybox:latest"}
}

const header = "name: t\nimage: busybox\n"

func TestParseFields(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		yaml string
		want func(s *models.ContainerSpec)
	}{
		{"image with registry port", "name: t\nimage: localhost:5000/app\n", func(s *models.ContainerSpec) { s.Image = "localhost:5000/app:latest" }},
		{"image with tag", "name: t\nimage: ghcr.io/acme/api:1.2\n", func(s *models.ContainerSpec) { s.Image = "ghcr.io/acme/api:1.2" }},
		{"command string split", `command: sh -c 'echo "a b"; exit 0' x\ y` + "\n", func(s *models.ContainerSpec) {
			s.Command = []string{"sh", "-c", `echo "a b"; exit 0`, "x y"}
		}},
		{"command list with number", "command: [sleep, 10]\n", func(s *models.ContainerSpec) { s.Command = []string{"sleep", "10"} }},
		{"args string", `args: "-f \"my file\""` + "\n", func(s *models.ContainerSpec) { s.Args = []string{"-f", "my file"} }},
		{"args list", "args:\n  - -v\n  - --port=8080\n", func(s *models.ContainerSpec) { s.Args = []string{"-v", "--port=8080"} }},
		{"workdir user hostname", "workdir: /srv/app/\nuser: \"1000:1000\"\nhostname: app-1.local\n", func(s *models.ContainerSpec) {
			s.Workdir, s.User, s.Hostname = "/srv/app", "1000:1000", "app-1.local"
		}},
		{"env list", "env:\n  - A=1\n  - B=x=y\n  - C=\n", func(s *models.ContainerSpec) { s.Env = []string{"A=1", "B=x=y", "C="} }},
		{"env map keeps order", "env:\n  Z: last\n  A: 1\n  N: ~\n  T: true\n", func(s *models.ContainerSpec) {
			s.Env = []string{"Z=last", "A=1", "N=", "T=true"}
		}},
		{"ports", "ports:\n  - \"8080:80\"\n  - 127.0.0.1:5353:53/udp\n  - \"80\"\n  - 443\n  - \"[::1]:9000:9000\"\n  - \"127.0.0.1::81\"\n",
			func(s *models.ContainerSpec) {
				s.Ports = []models.PortMapping{
					{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"},
					{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Protocol: "udp"},
					{ContainerPort: 80, Protocol: "tcp"},
					{ContainerPort: 443, Protocol: "tcp"},
					{HostIP: "::1", HostPort: 9000, ContainerPort: 9000, Protocol: "tcp"},
					{HostIP: "127.0.0.1", ContainerPort: 81, Protocol: "tcp"},
				}
			}},
		{"same host port on other protocol", "ports: [\"53:53/udp\", \"53:53\"]\n", func(s *models.ContainerSpec) {
			s.Ports = []models.PortMapping{{HostPort: 53, ContainerPort: 53, Protocol: "udp"}, {HostPort: 53, ContainerPort: 53, Protocol: "tcp"}}
		}},
		{"same host port on two addresses", "ports: [\"127.0.0.1:80:80\", \"127.0.0.2:80:80\"]\n", func(s *models.ContainerSpec) {
			s.Ports = []models.PortMapping{{HostIP: "127.0.0.1", HostPort: 80, ContainerPort: 80, Protocol: "tcp"},
				{HostIP: "127.0.0.2", HostPort: 80, ContainerPort: 80, Protocol: "tcp"}}
		}},
		{"volumes short", "volumes:\n  - data:/data\n  - cfg.v1:/etc/app/:ro\n  - /srv/www:/var/www:rw\n  - ./site:/site\n  - ../up:/up\n",
			func(s *models.ContainerSpec) {
				s.Volumes = []models.VolumeMount{
					{Kind: models.VolumeNamed, Source: "data", Target: "/data"},
					{Kind: models.VolumeNamed, Source: "cfg.v1", Target: "/etc/app", ReadOnly: true},
					{Kind: models.VolumeBind, Source: "/srv/www", Target: "/var/www"},
					{Kind: models.VolumeBind, Source: filepath.Join(dir, "site"), Target: "/site"},
					{Kind: models.VolumeBind, Source: filepath.Join(filepath.Dir(dir), "up"), Target: "/up"},
				}
			}},
		{"volumes long", "volumes:\n  - {type: volume, source: data, target: /data, read_only: true}\n  - {source: ./d, target: /d}\n  - {type: bind, source: /tmp, target: /t}\n",
			func(s *models.ContainerSpec) {
				s.Volumes = []models.VolumeMount{
					{Kind: models.VolumeNamed, Source: "data", Target: "/data", ReadOnly: true},
					{Kind: models.VolumeBind, Source: filepath.Join(dir, "d"), Target: "/d"},
					{Kind: models.VolumeBind, Source: "/tmp", Target: "/t"},
				}
			}},
		{"resources cpus", "resources:\n  cpus: 0.5\n  memory: 256MiB\n  memory_swap: -1\n  pids_limit: 64\n", func(s *models.ContainerSpec) {
			s.Resources = models.Resources{CPUQuota: 50000, CPUPeriod: 100000, Memory: 256 << 20, MemorySwap: -1, PidsLimit: 64}
		}},
		{"resources quota", "resources:\n  cpu_shares: 512\n  cpu_quota: 25000\n  cpu_period: 50000\n  memory: 268435456\n  memory_swap: 1g\n  blkio_weight: 300\n  pids_limit: -1\n",
			func(s *models.ContainerSpec) {
				s.Resources = models.Resources{CPUShares: 512, CPUQuota: 25000, CPUPeriod: 50000, Memory: 256 << 20, MemorySwap: 1 << 30, BlkioWeight: 300}
			}},
		{"restart string", "restart_policy: always\n", func(s *models.ContainerSpec) { s.RestartPolicy.Name = "always" }},
		{"restart on-failure count", "restart_policy: on-failure:3\n", func(s *models.ContainerSpec) {
			s.RestartPolicy = models.RestartPolicy{Name: "on-failure", MaxRetries: 3}
		}},
		{"restart map", "restart_policy: {name: on-failure, max_retries: 5}\n", func(s *models.ContainerSpec) {
			s.RestartPolicy = models.RestartPolicy{Name: "on-failure", MaxRetries: 5}
		}},
		{"restart no", "restart_policy: no\n", func(s *models.ContainerSpec) { s.RestartPolicy.Name = "no" }},
		{"stop timeout duration", "stop_timeout: 1m30s\n", func(s *models.ContainerSpec) { s.StopTimeout = 90 * time.Second }},
		{"stop timeout seconds", "stop_timeout: 15\n", func(s *models.ContainerSpec) { s.StopTimeout = 15 * time.Second }},
		{"stop signal short", "stop_signal: term\n", func(s *models.ContainerSpec) { s.StopSignal = "SIGTERM" }},
		{"stop signal number", "stop_signal: 9\n", func(s *models.ContainerSpec) { s.StopSignal = "SIGKILL" }},
		{"stop signal realtime", "stop_signal: RTMIN+3\n", func(s *models.ContainerSpec) { s.StopSignal = "SIGRTMIN+3" }},
		{"tty and stdin_open", "tty: true\nstdin_open: yes\n", func(s *models.ContainerSpec) { s.Tty, s.StdinOpen = true, true }},
		{"tty false", "tty: false\nstdin_open: off\n", func(s *models.ContainerSpec) {}},
		{"health cmd list", "health:\n  cmd: [wget, -q, -O-, http://127.0.0.1:8080/]\n  interval: 5s\n  timeout: 1s\n  retries: 2\n  start_period: 10\n  on_unhealthy: restart\n",
			func(s *models.ContainerSpec) {
				s.Health = &models.HealthCheck{Cmd: []string{"wget", "-q", "-O-", "http://127.0.0.1:8080/"}, Interval: 5 * time.Second,
					Timeout: time.Second, Retries: 2, StartPeriod: 10 * time.Second, OnUnhealthy: "restart"}
			}},
		{"health cmd string runs sh", "health: {cmd: \"test -f /tmp/ok || exit 1\"}\n", func(s *models.ContainerSpec) {
			s.Health = &models.HealthCheck{Cmd: []string{"sh", "-c", "test -f /tmp/ok || exit 1"}}
		}},
		{"health http", "health: {http: \"http://127.0.0.1:8080/healthz\"}\n", func(s *models.ContainerSpec) {
			s.Health = &models.HealthCheck{HTTP: "http://127.0.0.1:8080/healthz"}
		}},
		{"health tcp", "health: {tcp: \"5432\"}\n", func(s *models.ContainerSpec) { s.Health = &models.HealthCheck{TCP: "5432"} }},
		{"depends_on list", "depends_on: [db, cache]\n", func(s *models.ContainerSpec) {
			s.DependsOn = []models.Dependency{{Name: "db"}, {Name: "cache"}}
		}},
		{"depends_on map", "depends_on:\n  db: {condition: healthy, timeout: 30s}\n  init: {condition: completed_successfully}\n  cache:\n",
			func(s *models.ContainerSpec) {
				s.DependsOn = []models.Dependency{{Name: "db", Condition: "healthy", Timeout: 30 * time.Second},
					{Name: "init", Condition: "completed_successfully"}, {Name: "cache"}}
			}},
		{"replicas int", "replicas: 3\n", func(s *models.ContainerSpec) { s.Replicas = &models.Replicas{Count: 3} }},
		{"replicas map", "replicas: {count: 2, strategy: round-robin}\n", func(s *models.ContainerSpec) {
			s.Replicas = &models.Replicas{Count: 2, Strategy: "round-robin"}
		}},
		{"networks secrets", "networks: [front, back]\nsecrets: [db-password]\n", func(s *models.ContainerSpec) {
			s.Networks, s.Secrets = []string{"front", "back"}, []string{"db-password"}
		}},
		{"labels map", "labels:\n  app: web\n  com.example.v: 2\n", func(s *models.ContainerSpec) {
			s.Labels = map[string]string{"app": "web", "com.example.v": "2"}
		}},
		{"labels list", "labels: [app=web, empty=]\n", func(s *models.ContainerSpec) {
			s.Labels = map[string]string{"app": "web", "empty": ""}
		}},
		{"x- keys and merge", "x-base: &base {workdir: /w, user: nobody}\n<<: *base\nuser: root\n", func(s *models.ContainerSpec) {
			s.Workdir, s.User = "/w", "root"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := header + tt.yaml
			if strings.HasPrefix(tt.yaml, "name:") {
				src = tt.yaml
			}
			b, err := Parse("t.bun", []byte(src), ParseOptions{Dir: dir})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			want := base()
			tt.want(&want)
			if len(b.Containers) != 1 || b.Stack {
				t.Fatalf("got %d containers, stack %v; want one, not a stack", len(b.Containers), b.Stack)
			}
			if got := b.Containers[0]; !reflect.DeepEqual(got, want) {
				t.Errorf("spec mismatch\n got: %+v\nwant: %+v", got, want)
			}
		})
	}
}

func TestParseStack(t *testing.T) {
	src := `x-common: &common
  image: busybox
  env: [SHARED=1]
containers:
  - <<: *common
    name: a
  - <<: *common
    name: b
    image: alpine:3
`
	b, err := Parse("s.bun", []byte(src), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Stack || len(b.Containers) != 2 {
		t.Fatalf("stack %v with %d containers, want a stack of 2", b.Stack, len(b.Containers))
	}
	a, c := b.Containers[0], b.Containers[1]
	if a.Name != "a" || a.Image != "docker.io/library/busybox:latest" || !reflect.DeepEqual(a.Env, []string{"SHARED=1"}) {
		t.Errorf("first container %+v", a)
	}
	if c.Name != "b" || c.Image != "docker.io/library/alpine:3" {
		t.Errorf("second container %+v: explicit image must win over the merged one", c)
	}
	if line, col := b.Position(1, "image"); line != 9 || col != 5 {
		t.Errorf("Position(1, image) = %d:%d, want 9:5", line, col)
	}
}

func TestNameOverride(t *testing.T) {
	tests := []struct {
		name, src, override string
		want                []string
		wantErr             string
	}{
		{"replaces the name", header, "other", []string{"other"}, ""},
		{"makes name optional", "image: busybox\n", "other", []string{"other"}, ""},
		{"stack of one", "containers:\n  - {image: busybox}\n", "solo", []string{"solo"}, ""},
		{"self dependency uses the new name", header + "depends_on: [t]\n", "other", []string{"other"}, ""},
		{"stack of two", "containers:\n  - {name: a, image: busybox}\n  - {name: b, image: busybox}\n", "x", nil,
			"s.bun:1:1: containers: a name override needs exactly one container, this stack has 2 " +
				"(hint: leave out the name override, or run the containers one by one)"},
		{"invalid override", header, "-bad", nil,
			`invalid container name "-bad" (use letters, digits, _, . and -, starting with a letter or digit): invalid`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse("s.bun", []byte(tt.src), ParseOptions{NameOverride: tt.override})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range b.Containers {
				names = append(names, c.Name)
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("names %v, want %v", names, tt.want)
			}
		})
	}
}

func TestPosition(t *testing.T) {
	src := header + `resources:
  memory: 64MiB
health:
  tcp: "80"
ports:
  - "80"
  - "8080:80"
`
	b, err := Parse("p.bun", []byte(src), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		container int
		field     string
		line, col int
	}{
		{0, "", 1, 1},
		{0, "image", 2, 1},
		{0, "health", 5, 1},
		{0, "health.tcp", 6, 3},
		{0, "resources.memory", 4, 3},
		{0, "ports[1]", 9, 5},
		{0, "resources.cpus", 3, 1}, // not written: the enclosing field
		{0, "depends_on", 1, 1},     // not written: the container
		{1, "health", 0, 0},
		{-1, "health", 0, 0},
	}
	for _, tt := range tests {
		line, col := b.Position(tt.container, tt.field)
		if line != tt.line || col != tt.col {
			t.Errorf("Position(%d, %q) = %d:%d, want %d:%d", tt.container, tt.field, line, col, tt.line, tt.col)
		}
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.bun")
	if err := os.WriteFile(path, []byte(header+"volumes: [./data:/data]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // relative paths must not depend on the working directory
	b, err := ParseFile(path, ParseOptions{Dir: "/ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if b.Path != path || b.Dir != dir {
		t.Errorf("Path %q Dir %q, want %q and %q", b.Path, b.Dir, path, dir)
	}
	if got := b.Containers[0].Volumes[0].Source; got != filepath.Join(dir, "data") {
		t.Errorf("bind source %q, want it resolved against the bundle's directory", got)
	}
	_, err = ParseFile(filepath.Join(dir, "nope.bun"), ParseOptions{})
	if err == nil || !errorsIsNotFound(err) {
		t.Errorf("missing file: %v, want ErrNotFound", err)
	}
	_, err = ParseFile(dir, ParseOptions{})
	if err == nil || !errorsIsInvalid(err) {
		t.Errorf("directory: %v, want ErrInvalid", err)
	}
}
