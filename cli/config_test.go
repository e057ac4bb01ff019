package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/budgie-sh/budgie/engine/config"
)

// cliEnv gives a test its own HOME and working directory, with no
// BUDGIE_ variables from the outside.
func cliEnv(t *testing.T) (home, work string) {
	t.Helper()
	root := t.TempDir()
	home, work = filepath.Join(root, "home"), filepath.Join(root, "work")
	for _, d := range []string{home, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "BUDGIE_") {
			t.Setenv(name, "")
		}
	}
	t.Setenv("HOME", home)
	t.Chdir(work)
	return home, work
}

// runConfig parses args with budgie's CLI and runs the command in-process.
func runConfig(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var cli CLI
	cli.ctx = context.Background()
	parser, err := kong.New(&cli, kong.Name("budgie"), kong.Exit(func(code int) { t.Fatalf("kong exited with %d", code) }))
	if err != nil {
		t.Fatal(err)
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return "", "", err
	}
	var out, errOut bytes.Buffer
	std := configStreams{out: &out, err: &errOut}
	cli.Config.Show.std, cli.Config.Init.std, cli.Config.Path.std, cli.Config.Get.std = std, std, std, std
	err = kctx.Run(&cli.Globals)
	return out.String(), errOut.String(), err
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// row matches a table row of `budgie config`.
func row(key, value, source string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + ` +` + regexp.QuoteMeta(value) + ` +` + regexp.QuoteMeta(source) + `$`)
}

func TestConfigShow(t *testing.T) {
	home, _ := cliEnv(t)
	file := config.UserFile(home)
	writeConfig(t, file, "containerd:\n  namespace: lab\nkeys:\n  quit: [q, ctrl+c]\n")
	t.Setenv("BUDGIE_DATA_DIR", "/srv/budgie")

	tests := []struct {
		name string
		args []string
		rows []*regexp.Regexp
	}{
		{"bare config shows", []string{"config"}, []*regexp.Regexp{
			regexp.MustCompile(`^file: ` + regexp.QuoteMeta(file) + "\n"),
			row("KEY", "VALUE", "SOURCE"),
			row("containerd.address", "/run/containerd/containerd.sock", "default"),
			row("containerd.namespace", "lab", "file "+file+":2"),
			row("data_dir", "/srv/budgie", "env BUDGIE_DATA_DIR"),
			row("node_name", `""`, "default"),
			row("log_level", "info", "default"),
			row("registries.insecure", "[]", "default"),
			row("logs.max_size", "10MiB", "default"),
			row("keys.quit", "[q, ctrl+c]", "file "+file+":4"),
		}},
		{"show with flags", []string{"--log-level", "debug", "config", "show"}, []*regexp.Regexp{
			row("log_level", "debug", "flag --log-level"),
		}},
		{"flags after config", []string{"config", "--log-level", "warn"}, []*regexp.Regexp{
			row("log_level", "warn", "flag --log-level"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runConfig(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range tt.rows {
				if !re.MatchString(out) {
					t.Errorf("output lacks %s:\n%s", re, out)
				}
			}
		})
	}
}

func TestConfigShowNoFile(t *testing.T) {
	home, work := cliEnv(t)
	out, _, err := runConfig(t, "config")
	if err != nil {
		t.Fatal(err)
	}
	want := "file: none found, using the defaults (searched " + filepath.Join(work, "budgie.yaml") + ", " +
		filepath.Join(home, ".budgie", "budgie.yaml") + ", " + config.UserFile(home) + ", /etc/budgie/budgie.yaml)\n"
	if !strings.HasPrefix(out, want) {
		t.Fatalf("output starts %q\nwant %q", out, want)
	}
	if !row("keys", "{}", "default").MatchString(out) || !row("ui.mouse", "false", "default").MatchString(out) {
		t.Errorf("defaults missing:\n%s", out)
	}
}

func TestConfigShowJSON(t *testing.T) {
	home, _ := cliEnv(t)
	file := filepath.Join(home, ".budgie", "budgie.yaml")
	writeConfig(t, file, "logs:\n  max_size: 1MiB\n")
	t.Setenv("BUDGIE_UI_MOUSE", "yes")
	out, _, err := runConfig(t, "config", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		File   string
		Config struct {
			Containerd struct{ Namespace string }
			Logs       struct {
				MaxSize int64 `json:"max_size"`
			}
			UI         struct{ Mouse bool }
			Registries struct{ Insecure []string }
		}
		Sources map[string]config.Source
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if doc.File != file || doc.Config.Containerd.Namespace != "budgie" || doc.Config.Logs.MaxSize != 1<<20 ||
		!doc.Config.UI.Mouse || doc.Config.Registries.Insecure == nil {
		t.Errorf("unexpected JSON:\n%s", out)
	}
	if doc.Sources["logs.max_size"] != (config.Source{Kind: "file", Detail: file + ":2"}) ||
		doc.Sources["ui.mouse"] != (config.Source{Kind: "env", Detail: "BUDGIE_UI_MOUSE"}) {
		t.Errorf("unexpected sources: %v", doc.Sources)
	}
}

func TestConfigGet(t *testing.T) {
	home, work := cliEnv(t)
	writeConfig(t, filepath.Join(work, "budgie.yaml"), "registries:\n  insecure: [a:5000, b:5000]\nkeys:\n  quit: q\n")
	writeConfig(t, config.UserFile(home), "node_name: shadowed\n")
	t.Setenv("BUDGIE_CONTAINERD_NAMESPACE", "ci")
	tests := []struct {
		args     []string
		want     string
		exitCode int
		errText  string
	}{
		{[]string{"config", "get", "containerd.namespace"}, "ci\n", 0, ""},
		{[]string{"config", "get", "registries.insecure"}, "a:5000,b:5000\n", 0, ""},
		{[]string{"config", "get", "logs.max_size"}, "10MiB\n", 0, ""},
		{[]string{"config", "get", "node_name"}, "\n", 0, ""},
		{[]string{"config", "get", "keys"}, "quit: [q]\n", 0, ""},
		{[]string{"--log-level", "error", "config", "get", "log_level"}, "error\n", 0, ""},
		{[]string{"config", "get", "containerd.namespac"}, "", exitUsage, `did you mean "containerd.namespace"?`},
		{[]string{"--config", "nope.yaml", "config", "get", "data_dir"}, "", exitUsage, "nope.yaml does not exist"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, _, err := runConfig(t, tt.args...)
			if code := exitCode(err); code != tt.exitCode {
				t.Fatalf("exit code %d (err %v), want %d", code, err, tt.exitCode)
			}
			if err != nil && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %v, want it to contain %q", err, tt.errText)
			}
			if out != tt.want {
				t.Errorf("stdout = %q, want %q", out, tt.want)
			}
		})
	}
}

func TestConfigBadFile(t *testing.T) {
	_, work := cliEnv(t)
	file := filepath.Join(work, "budgie.yaml")
	writeConfig(t, file, "ui:\n  mose: true\n")
	for _, args := range [][]string{{"config"}, {"config", "get", "ui.mouse"}} {
		_, _, err := runConfig(t, args...)
		want := file + `:2: unknown key "ui.mose" (did you mean "ui.mouse"?)`
		if exitCode(err) != exitUsage || err.Error() != want {
			t.Errorf("%v: err = %v (exit %d), want %q (exit 2)", args, err, exitCode(err), want)
		}
	}
	// config path still says which file is in use.
	out, _, err := runConfig(t, "config", "path")
	if err != nil || out != file+"\n" {
		t.Errorf("config path = %q, %v; want %q", out, err, file)
	}
}

func TestConfigInit(t *testing.T) {
	home, work := cliEnv(t)
	userFile := config.UserFile(home)
	explicit := filepath.Join(work, "sub", "b.yaml")
	const mine = "node_name: mine\n"
	tests := []struct {
		name     string
		args     []string
		file     string
		existing string // written to file first; "" leaves it as it is
		exitCode int
	}{
		{"first init", []string{"config", "init"}, userFile, "", 0},
		{"second init refuses", []string{"config", "init"}, userFile, mine, exitError},
		{"force", []string{"config", "init", "--force"}, userFile, mine, 0},
		{"explicit path", []string{"config", "init", "sub/b.yaml"}, explicit, "", 0},
		{"--config names the file", []string{"--config", explicit, "config", "init", "-f"}, explicit, mine, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.existing != "" {
				writeConfig(t, tt.file, tt.existing)
			}
			out, _, err := runConfig(t, tt.args...)
			if code := exitCode(err); code != tt.exitCode {
				t.Fatalf("exit code %d (err %v), want %d", code, err, tt.exitCode)
			}
			got, _ := os.ReadFile(tt.file)
			if tt.exitCode != 0 {
				if string(got) != mine || !strings.Contains(err.Error(), "already exists (use --force") {
					t.Errorf("refused init left %q and said %v", got, err)
				}
				return
			}
			if out != "wrote "+tt.file+"\n" || string(got) != string(config.DefaultYAML()) {
				t.Errorf("stdout %q; file holds %q, want the default file", out, got)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	home, _ := cliEnv(t)
	out, errOut, err := runConfig(t, "config", "path")
	if err != nil || out != "" || !strings.Contains(errOut, "no configuration file found") ||
		!strings.Contains(errOut, "  "+config.UserFile(home)+"\n") {
		t.Fatalf("no file: out %q, stderr %q, err %v", out, errOut, err)
	}
	writeConfig(t, config.UserFile(home), "")
	if out, _, err = runConfig(t, "config", "path"); err != nil || out != config.UserFile(home)+"\n" {
		t.Fatalf("with a file: %q, %v", out, err)
	}
	other := filepath.Join(home, "other.yaml")
	writeConfig(t, other, "")
	if out, _, err = runConfig(t, "--config", other, "config", "path"); err != nil || out != other+"\n" {
		t.Fatalf("--config: %q, %v", out, err)
	}
}

// TestConfigBinary builds budgie and runs the config commands as a user would,
// checking stdout and exit codes.
func TestConfigBinary(t *testing.T) {
	// Go's caches live under HOME unless set: keep the real ones, or the
	// build below starts from empty caches (minutes) once HOME moves.
	var caches []string
	for _, v := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", v, err)
		}
		caches = append(caches, v+"="+strings.TrimSpace(string(out)))
	}
	home, work := cliEnv(t)
	bin := filepath.Join(t.TempDir(), "budgie")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = moduleDir
	build.Env = append(os.Environ(), append(caches, "CGO_ENABLED=0")...) // as make build
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tests := []struct {
		args     []string
		env      []string
		exitCode int
		stdout   string // exact, or a prefix when it ends in "…"
	}{
		{[]string{"config", "get", "containerd.namespace"}, []string{"BUDGIE_CONTAINERD_NAMESPACE=ci"}, 0, "ci\n"},
		{[]string{"config", "get", "logs.max_size"}, []string{"BUDGIE_LOGS_MAX_SIZE=2GiB"}, 0, "2GiB\n"},
		{[]string{"config", "get", "ui.mouse"}, []string{"BUDGIE_UI_MOUSE=maybe"}, exitUsage, ""},
		{[]string{"config", "get", "no.such"}, nil, exitUsage, ""},
		{[]string{"config", "init"}, nil, 0, "wrote " + config.UserFile(home) + "\n"},
		{[]string{"config", "init"}, nil, exitError, ""},
		{[]string{"config", "path"}, nil, 0, config.UserFile(home) + "\n"},
		{[]string{"config"}, nil, 0, "file: " + config.UserFile(home) + "\n…"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = work
			cmd.Env = append(os.Environ(), tt.env...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.exitCode {
				t.Fatalf("exit code %d, want %d; stderr %q", code, tt.exitCode, errOut.String())
			}
			if code != 0 && !strings.HasPrefix(errOut.String(), "budgie: ") {
				t.Errorf("stderr %q does not explain the failure", errOut.String())
			}
			prefix, isPrefix := strings.CutSuffix(tt.stdout, "…")
			if got := out.String(); (isPrefix && !strings.HasPrefix(got, prefix)) || (!isPrefix && got != tt.stdout) {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
		})
	}
}

// moduleDir is the module's root (the cli package's parent), where go
// build makes the budgie command. Tests change directory, so it is read
// once at start-up.
var moduleDir = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}()
