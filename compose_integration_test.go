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
	"time"
)

// Compose files end to end (docs/interop.md): testdata/compose/stack runs
// for real through `budgie run compose.yaml`, and its conversion runs the
// very same containers.

// composeStack copies testdata/compose/stack (with its .env, secret file
// and bind-mount directory) to a temporary directory and returns the
// compose file's path, the environment to run budgie with (the test image,
// a free host port) and that port.
func composeStack(t *testing.T) (file string, env []string, port int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stack")
	if err := os.CopyFS(dir, os.DirFS("testdata/compose/stack")); err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	env = append(testEnv(), "STACK_IMAGE="+cliImage, "API_PORT="+strconv.Itoa(port))
	return filepath.Join(dir, "compose.yaml"), env, port
}

// stackContainers are the containers of testdata/compose/stack.
var stackContainers = []string{"db", "api", "worker-1", "worker-2"}

// composeCleanup takes the stack down (and away) at the end of the test.
func composeCleanup(t *testing.T, file string, env []string) {
	t.Cleanup(func() {
		budgieEnv(t, env, "down", "-v", file)
		budgie(t, append([]string{"rm", "-f", "-v"}, stackContainers...)...)
		stopKeeperClearLog(t) // health checks, ports and replicas started it
	})
}

// inspectStarted returns a container's StartedAt.
func inspectStarted(t *testing.T, name string) time.Time {
	t.Helper()
	var in []struct{ State struct{ StartedAt time.Time } }
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return in[0].State.StartedAt
}

// TestComposeRunStack: `budgie run compose.yaml` of the three-service
// stack makes its networks, imports its secret, starts db, then api once
// db is healthy, then worker's two replicas; the values of the file, its
// .env and env_file are in the containers; the published port answers; a
// second run changes nothing; `down -v` leaves nothing behind.
func TestComposeRunStack(t *testing.T) {
	file, env, port := composeStack(t)
	composeCleanup(t, file, env)

	r := budgieEnv(t, env, "run", file)
	if r.code != 0 {
		t.Fatalf("run compose.yaml: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if ids := strings.Fields(r.stdout); len(ids) != 4 {
		t.Fatalf("run printed %q, want the 4 container IDs", r.stdout)
	}
	for _, n := range stackContainers {
		if got := must(t, "ps", "--filter", "name="+n, "--format", "{{.Name}} {{.State}}"); got != n+" running\n" {
			t.Errorf("ps of %s: %q", n, got)
		}
	}
	if got := must(t, "ps", "--filter", "name=db", "--format", "{{.Health}}"); got != "healthy\n" {
		t.Errorf("db health: %q", got)
	}

	// api started only once db was healthy: db is ready 2 s after its
	// start, and api wrote down at its own start whether db was ready.
	if db, api := inspectStarted(t, "db"), inspectStarted(t, "api"); api.Sub(db) < 2*time.Second {
		t.Errorf("api started %s after db, before db could be healthy (2 s)", api.Sub(db))
	}
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, "the published port answers", func() error {
		got, err := get(base + "db-ready.txt")
		if err == nil && got != "yes" {
			return fmt.Errorf("api saw db ready: %q, want yes", got)
		}
		return err
	})
	if got, err := get(base); err != nil || got != "hello from .env from api" {
		t.Errorf("GET / = %q, %v; want the .env greeting and the host name", got, err)
	}

	// The environment as compose gives it: .env, env_file, environment.
	out, code := execOut(t, "api", "sh", "-c", `echo "$API_TOKEN|$FROM_ENV_FILE|$DB_HOST|$GREETING"`)
	if code != 0 || out != "token-from-dotenv|yes|db|hello from .env\n" {
		t.Errorf("api env: exit %d %q", code, out)
	}
	if out, code := execOut(t, "db", "sh", "-c", `echo "$DB_USER"; cat /run/secrets/db_password`); code != 0 || out != "admin\ns3cr3t-pw" {
		t.Errorf("db env and secret: exit %d %q", code, out)
	}
	if out, code := execOut(t, "worker-2", "cat", "/site/hello.txt"); code != 0 || out != "hello from the host\n" {
		t.Errorf("worker's bind mount: exit %d %q", code, out)
	}
	// worker reaches api by its service name on their shared network.
	eventually(t, "worker-1 reaches api by name", func() error {
		out, code := execOut(t, "worker-1", "timeout", "3", "wget", "-q", "-O-", "http://api:8080/db-ready.txt")
		if code != 0 || out != "yes\n" {
			return fmt.Errorf("exit %d: %q", code, out)
		}
		return nil
	})
	nets := must(t, "network", "ls")
	for _, n := range []string{"budgie-stack_backend", "budgie-stack_frontend"} {
		if !strings.Contains(nets, n) {
			t.Errorf("network ls lacks %s:\n%s", n, nets)
		}
	}

	// Again: reconciled, nothing changes.
	again := budgieEnv(t, env, "run", file)
	for _, n := range []string{"db", "api", "worker"} {
		if !strings.Contains(again.stdout, n+": unchanged\n") {
			t.Errorf("second run: exit %d, want %s unchanged:\n%s%s", again.code, n, again.stdout, again.stderr)
		}
	}

	// down -v: containers, volumes, networks and the imported secret go.
	r = budgieEnv(t, env, "down", "-v", file)
	if r.code != 0 {
		t.Fatalf("down -v: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range stackContainers {
		if containerdHas(t, n) {
			t.Errorf("%s is still in containerd after down", n)
		}
	}
	for _, v := range []string{"budgie-stack_db-data", "budgie-stack_shared"} {
		if volumeExists(v) {
			t.Errorf("volume %s is left after down -v", v)
		}
	}
	if nets := must(t, "network", "ls"); strings.Contains(nets, "budgie-stack_") {
		t.Errorf("networks left after down:\n%s", nets)
	}
	if secrets := must(t, "secret", "ls"); strings.Contains(secrets, "db_password") {
		t.Errorf("the imported secret is left after down:\n%s", secrets)
	}
	if out := must(t, "ps", "-a", "--format", "{{.Name}}"); slices.ContainsFunc(strings.Fields(out), func(n string) bool {
		return slices.Contains(stackContainers, n)
	}) {
		t.Errorf("ps -a after down: %q", out)
	}
}

// TestComposeConvertRunsTheSame: `convert -o app.bun` writes a bundle
// whose run finds the containers `run compose.yaml` made unchanged (the
// same specs, the same IDs), and a bad compose file is refused with its
// file:line, with nothing created.
func TestComposeConvertRunsTheSame(t *testing.T) {
	file, env, _ := composeStack(t)
	composeCleanup(t, file, env)
	bun := filepath.Join(filepath.Dir(file), "app.bun")
	if r := budgieEnv(t, env, "convert", "-o", bun, file); r.code != 0 || r.stdout != "" {
		t.Fatalf("convert -o: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, err := os.ReadFile(bun)
	if err != nil || !strings.HasPrefix(string(data), "# Budgie bundle converted from ") || !strings.Contains(string(data), "image: "+cliImage) {
		t.Fatalf("app.bun: %v\n%s", err, data)
	}
	if r := budgieEnv(t, env, "convert", file); r.stdout != string(data) {
		t.Errorf("convert to stdout differs from -o:\n%s", r.stdout)
	}

	ids := strings.Fields(must2(t, env, "run", file))
	out := must2(t, env, "run", bun)
	want := "db: unchanged\napi: unchanged\nworker: unchanged\n"
	if out != want {
		t.Errorf("run app.bun after run compose.yaml:\n%s\nwant:\n%s", out, want)
	}
	after := strings.Fields(must(t, "ps", "-q", "--no-trunc"))
	for _, id := range ids {
		if !slices.Contains(after, id) {
			t.Errorf("container %s was replaced by the run of app.bun", id)
		}
	}

	// A refused file: exit 2, file:line:field, and nothing made.
	bad := filepath.Join(t.TempDir(), "compose.yaml")
	os.WriteFile(bad, []byte("services:\n  oops:\n    image: "+cliImage+"\n    privileged: true\n"), 0o644)
	r := budgieEnv(t, env, "run", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "compose.yaml:4:5: services.oops.privileged: not supported by Budgie") {
		t.Errorf("run of a refused file: exit %d stderr %q", r.code, r.stderr)
	}
	if containerdHas(t, "oops") {
		t.Error("a refused compose file made a container")
	}
	r = budgieEnv(t, env, "convert", "--ignore-unsupported", bad)
	if r.code != 0 || !strings.Contains(r.stderr, "warning: "+bad+":4:5: services.oops.privileged: left out") || !strings.Contains(r.stdout, "name: oops") {
		t.Errorf("convert --ignore-unsupported: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// must2 runs budgie with env and fails the test unless it exits 0.
func must2(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := budgieEnv(t, env, args...)
	if r.code != 0 {
		t.Fatalf("budgie %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// writeCompose writes body as compose.yaml in a new directory dir/sub and
// returns its path.
func writeCompose(t *testing.T, dir, sub, body string) string {
	t.Helper()
	d := filepath.Join(dir, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(d, "compose.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// containerID returns a container's full ID.
func containerID(t *testing.T, name string) string {
	t.Helper()
	var in []struct{ ID string }
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return in[0].ID
}

// TestComposeProjectsOwnTheirContainers: two compose projects with a
// service of the same name and a volume of the same explicit name. The
// second's run is refused naming the first project (nothing of it made);
// its down -v is refused too and leaves the first's container (same ID)
// and volume; a plain bundle of that name is refused; the first's down
// -v removes its volume. A network that existed before the project's run
// is used and left by down.
func TestComposeProjectsOwnTheirContainers(t *testing.T) {
	u := uniq()
	svc, vol, net := "own"+u, "ownv"+u, "ownn"+u
	projA, projB := "owna"+u, "ownb"+u
	body := func(project string) string {
		return "name: " + project + "\nservices:\n  " + svc + ":\n    image: " + cliImage +
			"\n    command: [sleep, '600']\n    volumes: [data:/data]\n    networks: [n]\n" +
			"volumes:\n  data: {name: " + vol + "}\nnetworks:\n  n: {name: " + net + "}\n"
	}
	dir := t.TempDir()
	a, b := writeCompose(t, dir, "a", body(projA)), writeCompose(t, dir, "b", body(projB))
	t.Cleanup(func() {
		budgie(t, "rm", "-f", svc)
		budgie(t, "volume", "rm", vol)
		budgie(t, "network", "rm", net)
	})
	must(t, "network", "create", net) // adopted by A, so never removed by its down

	must(t, "run", a)
	id := containerID(t, svc)
	must(t, "exec", svc, "sh", "-c", "echo kept > /data/f")

	r := budgie(t, "run", b)
	if r.code == 0 || !strings.Contains(r.stderr, svc+" belongs to compose project "+projA) || !strings.Contains(r.stderr, "take "+projA+" down first") {
		t.Errorf("run of project B over A's %s: exit %d, stderr %q", svc, r.code, r.stderr)
	}
	r = budgie(t, "down", "-t", "0", "-v", b)
	if r.code == 0 || !strings.Contains(r.stderr, svc+" belongs to compose project "+projA) {
		t.Errorf("down -v of project B: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := containerID(t, svc); got != id {
		t.Errorf("A's %s was replaced (%s, want %s)", svc, got, id)
	}
	if out, code := execOut(t, svc, "cat", "/data/f"); code != 0 || out != "kept\n" {
		t.Errorf("A's volume after B's down -v: exit %d %q", code, out)
	}
	bun := filepath.Join(dir, "plain.bun")
	os.WriteFile(bun, []byte("name: "+svc+"\nimage: "+cliImage+"\nargs: [sleep, '600']\n"), 0o644)
	if r := budgie(t, "run", bun); r.code == 0 || !strings.Contains(r.stderr, "belongs to compose project "+projA) {
		t.Errorf("run of a plain bundle over A's %s: exit %d, stderr %q", svc, r.code, r.stderr)
	}
	if r := budgie(t, "down", bun); r.code == 0 || containerID(t, svc) != id {
		t.Errorf("down of a plain bundle took A's %s: exit %d, stderr %q", svc, r.code, r.stderr)
	}

	must(t, "down", "-t", "0", "-v", a)
	if containerdHas(t, svc) || volumeExists(vol) {
		t.Errorf("A's down -v left its container (%v) or its volume (%v)", containerdHas(t, svc), volumeExists(vol))
	}
	if nets := must(t, "network", "ls"); !strings.Contains(nets, net) {
		t.Errorf("A's down removed network %s, which existed before its run:\n%s", net, nets)
	}
}

// TestComposeFailedRunLeavesNothing: a compose run that fails (its image
// does not exist) leaves none of what it made first: its network, its
// imported secret, its bind-mount directory, its volume.
func TestComposeFailedRunLeavesNothing(t *testing.T) {
	u := uniq()
	svc, net, sec, vol := "fail"+u, "failn"+u, "fails"+u, "failv"+u
	dir := t.TempDir()
	file := writeCompose(t, dir, "p", "name: fail"+u+"\nservices:\n  "+svc+":\n    image: 127.0.0.1:5000/budgie-no-such-image-"+u+":1\n"+
		"    volumes: [data:/data, ./made/here:/here]\n    networks: [n]\n    secrets: ["+sec+"]\n"+
		"volumes:\n  data: {name: "+vol+"}\nnetworks:\n  n: {name: "+net+"}\nsecrets:\n  "+sec+": {environment: FAIL_SECRET}\n")
	t.Cleanup(func() {
		budgie(t, "rm", "-f", svc)
		budgie(t, "volume", "rm", vol)
		budgie(t, "network", "rm", net)
		budgie(t, "secret", "rm", sec)
	})
	r := budgieEnv(t, append(testEnv(), "FAIL_SECRET=v"), "run", file)
	if r.code == 0 || !strings.Contains(r.stderr, "budgie-no-such-image-"+u) {
		t.Fatalf("run of a missing image: exit %d, stderr %q, want it to fail on the image (after the network, secret and directory were made)", r.code, r.stderr)
	}
	if containerdHas(t, svc) {
		t.Errorf("container %s left", svc)
	}
	if nets := must(t, "network", "ls"); strings.Contains(nets, net) {
		t.Errorf("network %s left:\n%s", net, nets)
	}
	if secrets := must(t, "secret", "ls"); strings.Contains(secrets, sec) {
		t.Errorf("secret %s left:\n%s", sec, secrets)
	}
	if _, err := os.Lstat(filepath.Join(dir, "p", "made")); !os.IsNotExist(err) {
		t.Errorf("bind-mount directory left: %v", err)
	}
	if volumeExists(vol) {
		t.Errorf("volume %s left", vol)
	}

	// A failure partway through what is made first: the network is made,
	// then the external secret is missing.
	file = writeCompose(t, dir, "q", "name: fail"+u+"\nservices:\n  "+svc+":\n    image: "+cliImage+"\n"+
		"    networks: [n]\n    secrets: ["+sec+"]\n"+
		"networks:\n  n: {name: "+net+"}\nsecrets:\n  "+sec+": {external: true}\n")
	if r := budgie(t, "run", file); r.code == 0 || !strings.Contains(r.stderr, "external secret "+sec) {
		t.Fatalf("run with a missing external secret: exit %d, stderr %q", r.code, r.stderr)
	}
	if nets := must(t, "network", "ls"); strings.Contains(nets, net) {
		t.Errorf("network %s left by a failure in what is made first:\n%s", net, nets)
	}
}

// TestComposeDownWithoutEnv: a project whose secret comes from a variable
// runs with it set and goes down without it: down does not convert the
// file again, it takes down what the project's runs made (container,
// network, secret).
func TestComposeDownWithoutEnv(t *testing.T) {
	u := uniq()
	svc, net, sec := "noenv"+u, "noenvn"+u, "noenvs"+u
	file := writeCompose(t, t.TempDir(), "p", "name: noenv"+u+"\nservices:\n  "+svc+":\n    image: "+cliImage+"\n"+
		"    command: [sleep, '600']\n    networks: [n]\n    secrets: ["+sec+"]\n"+
		"networks:\n  n: {name: "+net+"}\nsecrets:\n  "+sec+": {environment: NOENV_SECRET}\n")
	t.Cleanup(func() {
		budgie(t, "rm", "-f", svc)
		budgie(t, "network", "rm", net)
		budgie(t, "secret", "rm", sec)
	})
	must2(t, append(testEnv(), "NOENV_SECRET=v"), "run", file)
	if r := budgie(t, "run", file); r.code == 0 || !strings.Contains(r.stderr, "NOENV_SECRET is not set") {
		t.Errorf("run without the variable: exit %d, stderr %q", r.code, r.stderr)
	}
	r := budgie(t, "down", "-t", "0", "-v", file)
	if r.code != 0 {
		t.Fatalf("down without the variable: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if containerdHas(t, svc) {
		t.Errorf("container %s left after down", svc)
	}
	if nets := must(t, "network", "ls"); strings.Contains(nets, net) {
		t.Errorf("network %s left after down:\n%s", net, nets)
	}
	if secrets := must(t, "secret", "ls"); strings.Contains(secrets, sec) {
		t.Errorf("secret %s left after down:\n%s", sec, secrets)
	}
}
