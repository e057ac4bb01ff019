package cli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/alecthomas/kong"
)

func TestIsBundleArg(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "stack")
	if err := os.WriteFile(file, []byte("name: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg  string
		want bool
	}{
		{"web.bun", true}, {"missing/web.bun", true}, {"stack.YAML", true}, {"x.yml", true},
		{file, true}, {dir, false}, {"busybox", false}, {"localhost:5000/app:1", false},
		{"docker.io/library/busybox@sha256:ab", false},
	}
	for _, tt := range tests {
		if got := isBundleArg(tt.arg); got != tt.want {
			t.Errorf("isBundleArg(%q) = %v, want %v", tt.arg, got, tt.want)
		}
	}
}

func TestHostEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"SET": "v", "EMPTY": ""}[k]
		return v, ok
	}
	got := hostEnv([]string{"A=1", "SET", "EMPTY", "UNSET", "B=x=y"}, lookup)
	want := []string{"A=1", "SET=v", "EMPTY=", "B=x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hostEnv = %q, want %q", got, want)
	}
}

// TestRunArgs: flags before the image are run's; everything after it is
// the command, flags included (docker run's rule); slice flags keep commas.
func TestRunArgs(t *testing.T) {
	tests := []struct {
		args []string
		want RunCmd
	}{
		{[]string{"run", "-d", "-e", "A=1,2", "-p", "80:80", "busybox", "ls", "-l", "-e", "x"},
			RunCmd{Detach: true, Env: []string{"A=1,2"}, Publish: []string{"80:80"}, Args: []string{"busybox", "ls", "-l", "-e", "x"}}},
		{[]string{"run", "--name", "w", "--memory", "64m", "--cpus=0.5", "img"},
			RunCmd{Name: "w", Memory: "64m", Cpus: "0.5", Args: []string{"img"}}},
		{[]string{"run", "--attach", "--rm", "a.bun", "b.bun"},
			RunCmd{Attach: true, Rm: true, Args: []string{"a.bun", "b.bun"}}},
		{[]string{"run", "-it", "--rm", "busybox", "sh", "-i"},
			RunCmd{Interactive: true, Tty: true, Rm: true, Args: []string{"busybox", "sh", "-i"}}},
		{[]string{"run", "-dit", "busybox"}, RunCmd{Detach: true, Interactive: true, Tty: true, Args: []string{"busybox"}}},
	}
	for _, tt := range tests {
		var c CLI
		parser, err := kong.New(&c, kong.Name("budgie"), kong.Exit(func(code int) { t.Fatalf("kong exited with %d", code) }))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(tt.args); err != nil {
			t.Fatalf("parse %q: %v", tt.args, err)
		}
		if !reflect.DeepEqual(c.Run, tt.want) {
			t.Errorf("parse %q = %+v, want %+v", tt.args, c.Run, tt.want)
		}
	}
}

// TestCheckTerminalFlags: -d with -i alone is refused (no attach: its
// stdin would end at once); -dt, -dit and -t are run. (-it without a
// terminal on stdin is refused too: TestCLIRunAdhocErrors, where stdin is
// known not to be one.)
func TestCheckTerminalFlags(t *testing.T) {
	tests := []struct {
		name string
		cmd  RunCmd
		bad  bool
	}{
		{"-d -i", RunCmd{Detach: true, Interactive: true}, true},
		{"-dit", RunCmd{Detach: true, Interactive: true, Tty: true}, false},
		{"-dt", RunCmd{Detach: true, Tty: true}, false},
		{"-t", RunCmd{Tty: true}, false},
		{"none", RunCmd{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cmd.checkTerminalFlags()
			if (err != nil) != tt.bad || (err != nil && !errors.Is(err, errInvalid)) {
				t.Errorf("checkTerminalFlags() = %v, want refused: %v", err, tt.bad)
			}
		})
	}
}
