//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// adhocInspect is the part of budgie inspect an ad-hoc run is checked against.
type adhocInspect struct {
	ID     string
	Config struct {
		Env []string
		Cmd []string
	}
	HostConfig struct {
		Memory        int64
		NanoCpus      int64
		RestartPolicy struct{ Name string }
		Binds         []string
	}
	NetworkSettings struct {
		Ports map[string][]struct{ HostIP, HostPort string }
	}
}

func inspectAdhoc(t *testing.T, name string) adhocInspect {
	t.Helper()
	var in []adhocInspect
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect %s: %v (%d)", name, err, len(in))
	}
	return in[0]
}

// TestCLIRunAdhocDetached: `run -d IMAGE CMD` with docker's flags makes a
// container that has them (inspect shows the env, the published port, the
// limits and the command), serves on the published port, refuses a second
// container of the same name, and --print-bundle of the same flags is a
// bundle whose run finds that very container unchanged (same ID).
func TestCLIRunAdhocDetached(t *testing.T) {
	t.Cleanup(func() { stopKeeperClearLog(t) }) // a published port starts the keeper
	name := "adhoc" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", "-v", name) })
	port := strconv.Itoa(freePort(t))
	flags := []string{"--name", name, "-e", "A=1", "-e", "GREETING=hello, world", "-p", port + ":80",
		"--memory", "64m", "--cpus", "0.5", "--restart", "unless-stopped", "-v", "adv" + name + ":/data",
		cliImage, "sh", "-c", "mkdir -p /www && echo $GREETING > /www/index.html && exec httpd -f -p 80 -h /www"}
	id := strings.TrimSpace(must(t, append([]string{"run", "-d"}, flags...)...))
	if len(id) != 64 {
		t.Fatalf("run -d printed %q, want a 64-character ID", id)
	}
	in := inspectAdhoc(t, name)
	if in.ID != id || !slices.Contains(in.Config.Env, "A=1") || !slices.Contains(in.Config.Env, "GREETING=hello, world") {
		t.Errorf("inspect: ID %s Env %q", in.ID, in.Config.Env)
	}
	if b := in.NetworkSettings.Ports["80/tcp"]; len(b) != 1 || b[0].HostPort != port {
		t.Errorf("inspect Ports = %+v, want 80/tcp on host port %s", in.NetworkSettings.Ports, port)
	}
	if in.HostConfig.Memory != 64<<20 || in.HostConfig.NanoCpus != 5e8 || in.HostConfig.RestartPolicy.Name != "unless-stopped" {
		t.Errorf("inspect HostConfig = %+v", in.HostConfig)
	}
	if len(in.Config.Cmd) != 3 || in.Config.Cmd[0] != "sh" {
		t.Errorf("inspect Cmd = %q", in.Config.Cmd)
	}
	eventually(t, "the published port answers", func() error {
		got, err := get("http://127.0.0.1:" + port + "/")
		if err == nil && got != "hello, world" {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})

	r := budgie(t, append([]string{"run", "-d"}, flags...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "is in use") {
		t.Errorf("a second run -d of the name: exit %d stderr %q", r.code, r.stderr)
	}

	printed := must(t, append([]string{"run", "--print-bundle"}, flags...)...)
	if !strings.Contains(printed, "name: "+name+"\n") || !strings.Contains(printed, port+":80") {
		t.Errorf("--print-bundle:\n%s", printed)
	}
	path := filepath.Join(t.TempDir(), "printed.bun")
	if err := os.WriteFile(path, []byte(printed), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := must(t, "run", path); out != name+": unchanged\n" {
		t.Errorf("run of the printed bundle = %q, want %q", out, name+": unchanged\n")
	}
	if got := inspectAdhoc(t, name).ID; got != id {
		t.Errorf("the printed bundle's run replaced the container: ID %s, want %s", got, id)
	}
}

// TestCLIRunAdhocForeground: without -d, run streams the container's
// output and exits with its code; --rm removes it; -e KEY takes budgie's
// own value; -v mounts a host path.
func TestCLIRunAdhocForeground(t *testing.T) {
	name := "fg" + uniq()
	t.Cleanup(func() { budgie(t, "rm", "-f", name) })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := budgieEnv(t, append(testEnv(), "FROM_HOST=yes"), "run", "--rm", "--name", name, "-e", "FROM_HOST", "-e", "UNSET_HERE",
		"-v", dir+":/d:ro", cliImage, "sh", "-c", `echo "$FROM_HOST ${UNSET_HERE-unset}"; cat /d/f; echo err >&2; exit 3`)
	if r.code != 3 || r.stdout != "yes unset\nfrom the host\n" || r.stderr != "err\n" {
		t.Errorf("run in the foreground: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := budgie(t, "inspect", name); r.code != 3 {
		t.Errorf("--rm left the container: exit %d", r.code)
	}
}

// TestCLIRunAdhocErrors: bad flags fail with the bundle parser's message
// named after the flag (exit 2) and make nothing; -it without a terminal
// and -d -i say what to do instead; image flags on a bundle and flags
// after it are refused.
func TestCLIRunAdhocErrors(t *testing.T) {
	name := "bad" + uniq()
	bundlePath, _ := writeBundle(t, "args: [sleep, '60']\n")
	tests := []struct {
		name     string
		args     []string
		contains []string
	}{
		{"port", []string{"run", "-d", "--name", name, "-p", "70000:80", cliImage},
			[]string{"-p 70000:80: port 70000 is out of range (1 to 65535)"}},
		{"memory and cpus", []string{"run", "--name", name, "--memory", "64 potatoes", "--cpus", "0", cliImage},
			[]string{`--memory 64 potatoes: unknown unit "potatoes"`, "--cpus 0: must be at least 0.01"}},
		{"restart", []string{"run", "-d", "--name", name, "--restart", "sometimes", cliImage}, []string{`--restart sometimes: invalid restart policy "sometimes"`}},
		{"tty without a terminal", []string{"run", "-it", "--name", name, cliImage, "sh"}, []string{"the input device is not a TTY", "drop -t"}},
		{"detached stdin", []string{"run", "-d", "-i", "--name", name, cliImage, "sh"}, []string{"-d with -i: budgie has no attach", "-dit"}},
		{"image flag on a bundle", []string{"run", "-e", "A=1", bundlePath}, []string{"-e/--env: only for budgie run IMAGE"}},
		{"flag after a bundle", []string{"run", bundlePath, "--attach"}, []string{"put flags before the first bundle"}},
		{"missing bundle", []string{"run", "no-such.bun"}, []string{"bundle no-such.bun does not exist"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := budgie(t, tt.args...)
			want := 2
			if tt.name == "missing bundle" {
				want = 3
			}
			if r.code != want {
				t.Errorf("exit %d, want %d; stderr %q", r.code, want, r.stderr)
			}
			for _, c := range tt.contains {
				if !strings.Contains(r.stderr, c) {
					t.Errorf("stderr %q lacks %q", r.stderr, c)
				}
			}
			if containerdHas(t, name) {
				t.Errorf("a container %s was made", name)
			}
		})
	}
}
