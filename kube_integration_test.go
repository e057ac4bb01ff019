//go:build integration

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// kubeInspect is the part of budgie inspect the kube round trip compares.
type kubeInspect struct {
	ID         string
	State      struct{ Health *struct{ Status string } }
	Budgie     struct{ Spec json.RawMessage }
	Config     struct{ Env []string }
	HostConfig struct {
		Memory int64
	}
	NetworkSettings struct {
		Ports map[string][]struct{ HostIP, HostPort string }
	}
}

func inspectKube(t *testing.T, name string) kubeInspect {
	t.Helper()
	var in []kubeInspect
	if err := json.Unmarshal([]byte(must(t, "inspect", name)), &in); err != nil || len(in) != 1 {
		t.Fatalf("inspect %s: %v (%d)", name, err, len(in))
	}
	return in[0]
}

// TestKubeRoundTrip: a bundle with a published port, env, a named volume,
// a health check and a memory limit runs; kube generate writes its
// manifest (decoded strictly by the k8s.io/api types); the container is
// removed (its volume kept) and kube play of the manifest brings back the
// same container: the same spec in its labels (run of the original bundle
// finds it unchanged), its port answering, its env, its volume's data, its
// health and its limit. kube down -v then leaves nothing.
func TestKubeRoundTrip(t *testing.T) {
	t.Cleanup(func() { stopKeeperClearLog(t) }) // the port and the health check start the keeper
	u := uniq()
	name, vol := "kube"+u, "kubev"+u
	port := strconv.Itoa(freePort(t))
	t.Cleanup(func() { budgie(t, "rm", "-f", name); budgie(t, "volume", "rm", vol) })
	dir := t.TempDir()
	bun := filepath.Join(dir, "app.bun")
	os.WriteFile(bun, []byte(`name: `+name+`
image: `+cliImage+`
args: [sh, -c, 'mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 80 -h /www']
env: {GREETING: hello kube, LITERAL: "$(NOT_EXPANDED)"}
ports: ["`+port+`:80/http"]
volumes: ["`+vol+`:/data"]
health: {cmd: "test -f /www/index.html", interval: 1s, retries: 2}
resources: {memory: 48MiB}
stop_timeout: 2s
`), 0o644)
	must(t, "run", bun)
	waitKubeUp(t, name, port)
	must(t, "exec", name, "sh", "-c", "echo kept > /data/keep")
	before := inspectKube(t, name)

	manifest := filepath.Join(dir, "app.yaml")
	must(t, "kube", "generate", "-o", manifest, name)
	checkManifest(t, manifest, name, vol)

	must(t, "rm", "-f", name)
	if containerdHas(t, name) || !volumeExists(vol) {
		t.Fatalf("after rm -f: container left %v, volume kept %v", containerdHas(t, name), volumeExists(vol))
	}
	out := must(t, "kube", "play", manifest)
	if id := strings.TrimSpace(out); len(id) != 64 {
		t.Fatalf("kube play printed %q, want one container ID", out)
	}
	waitKubeUp(t, name, port)
	after := inspectKube(t, name)
	if after.ID == before.ID {
		t.Fatalf("kube play did not make a new container")
	}
	if string(after.Budgie.Spec) != string(before.Budgie.Spec) {
		t.Errorf("the played container's spec differs:\n got %s\nwant %s", after.Budgie.Spec, before.Budgie.Spec)
	}
	if after.HostConfig.Memory != 48<<20 {
		t.Errorf("memory limit %d, want 48 MiB", after.HostConfig.Memory)
	}
	if b := after.NetworkSettings.Ports["80/http"]; len(b) != 1 || b[0].HostPort != port {
		t.Errorf("ports %+v, want 80/http on %s", after.NetworkSettings.Ports, port)
	}
	if got := must(t, "exec", name, "sh", "-c", `echo "$GREETING|$LITERAL"; cat /data/keep`); got != "hello kube|$(NOT_EXPANDED)\nkept\n" {
		t.Errorf("inside the played container: %q", got)
	}
	var listed []struct {
		Name, State, Health string
		Ports               []struct {
			HostPort      int `json:"host_port"`
			ContainerPort int `json:"container_port"`
		}
	}
	if err := json.Unmarshal([]byte(must(t, "ps", "--format", "json", "--filter", "name="+name)), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].State != "running" || listed[0].Health != "healthy" || len(listed[0].Ports) != 1 ||
		strconv.Itoa(listed[0].Ports[0].HostPort) != port || listed[0].Ports[0].ContainerPort != 80 {
		t.Errorf("ps --format json: %+v", listed)
	}
	if out := must(t, "run", bun); out != name+": unchanged\n" {
		t.Errorf("run of the original bundle after the round trip = %q, want %q", out, name+": unchanged\n")
	}
	if out := must(t, "kube", "play", manifest); out != name+": unchanged\n" {
		t.Errorf("kube play again = %q, want %q", out, name+": unchanged\n")
	}

	// The volume existed before the play (the bundle's run made it): the
	// play used it, and kube down -v leaves it.
	r := budgie(t, "kube", "down", "-v", manifest)
	if r.code != 0 || r.stdout != name+"\n" || !strings.Contains(r.stderr, "kept volume "+vol+": kube play did not create it") {
		t.Fatalf("kube down -v: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if containerdHas(t, name) || !volumeExists(vol) {
		t.Errorf("after kube down -v: container left %v, volume kept %v", containerdHas(t, name), volumeExists(vol))
	}
	if r := budgie(t, "kube", "down", manifest); r.code != 0 || r.stdout != "" {
		t.Errorf("a second kube down: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

// waitKubeUp waits until the container is healthy and its published port
// serves the greeting.
func waitKubeUp(t *testing.T, name, port string) {
	t.Helper()
	eventually(t, name+" is healthy", func() error {
		if h := must(t, "ps", "--filter", "name="+name, "--format", "{{.Health}}"); h != "healthy\n" {
			return fmt.Errorf("health %q", h)
		}
		return nil
	})
	eventually(t, "the published port answers", func() error {
		got, err := get("http://127.0.0.1:" + port + "/")
		if err == nil && got != "hello kube" {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})
}

// checkManifest decodes the generated manifest strictly by the k8s.io/api
// types: a StatefulSet (the container mounts a named volume) with its
// claim template, probe, limit and env, and a LoadBalancer Service.
func checkManifest(t *testing.T, path, name, vol string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(data), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want a StatefulSet and a Service:\n%s", len(docs), data)
	}
	var ss appsv1.StatefulSet
	var svc corev1.Service
	if err := sigsyaml.UnmarshalStrict([]byte(docs[0]), &ss); err != nil {
		t.Fatalf("the StatefulSet does not decode strictly: %v\n%s", err, docs[0])
	}
	if err := sigsyaml.UnmarshalStrict([]byte(docs[1]), &svc); err != nil {
		t.Fatalf("the Service does not decode strictly: %v\n%s", err, docs[1])
	}
	c := ss.Spec.Template.Spec.Containers[0]
	if ss.Kind != "StatefulSet" || ss.Name != name || len(ss.Spec.VolumeClaimTemplates) != 1 || ss.Spec.VolumeClaimTemplates[0].Name != vol ||
		c.ReadinessProbe == nil || c.ReadinessProbe.Exec == nil || c.ReadinessProbe.PeriodSeconds != 1 ||
		c.Resources.Limits.Memory().String() != "48Mi" || len(c.Env) != 2 || c.Env[1].Value != "$$(NOT_EXPANDED)" {
		t.Errorf("StatefulSet:\n%s", docs[0])
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort.IntVal != 80 {
		t.Errorf("Service:\n%s", docs[1])
	}
}

// TestKubePlayRefuses: a manifest with what Budgie cannot honour, or a
// secret the node does not hold, runs nothing and exits 2 naming the
// file, the line and the document.
func TestKubePlayRefuses(t *testing.T) {
	u := uniq()
	name := "kubebad" + u
	dir := t.TempDir()
	write := func(file, body string) string {
		p := filepath.Join(dir, file)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	pod := func(extra string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + "}\nspec:\n  containers:\n  - name: c\n    image: " + cliImage + "\n" + extra
	}
	bad := write("bad.yaml", pod("    args: [sleep, '60']\n  nodeSelector: {disk: ssd}\n")+"---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n")
	r := budgie(t, "kube", "play", bad)
	for _, w := range []string{bad + ":9: document 1 (Pod " + name + "): spec.nodeSelector: not supported", bad + ":12: document 2 (Job j): kind: kind Job is not supported"} {
		if r.code != 2 || !strings.Contains(r.stderr, w) {
			t.Errorf("kube play of an unsupported manifest: exit %d, stderr lacks %q:\n%s", r.code, w, r.stderr)
		}
	}
	secret := write("secret.yaml", pod("    volumeMounts: [{name: s, mountPath: /run/secrets/nosuch"+u+", subPath: v}]\n  volumes: [{name: s, secret: {secretName: x}}]\n"))
	r = budgie(t, "kube", "play", secret)
	if r.code != 2 || !strings.Contains(r.stderr, secret+":8: document 1 (Pod "+name+")") || !strings.Contains(r.stderr, "budgie secret create nosuch"+u) {
		t.Errorf("kube play with a missing secret: exit %d stderr %q", r.code, r.stderr)
	}
	if containerdHas(t, name) {
		budgie(t, "rm", "-f", name)
		t.Errorf("a refused manifest made container %s", name)
	}
	printed := must(t, "kube", "play", "--print-bundle", write("ok.yaml", pod("    args: [sleep, '60']\n")))
	if !strings.Contains(printed, "- name: "+name+"\n") || !strings.Contains(printed, "image: "+cliImage) {
		t.Errorf("--print-bundle:\n%s", printed)
	}
	if containerdHas(t, name) {
		budgie(t, "rm", "-f", name)
		t.Errorf("--print-bundle ran %s", name)
	}
}

// TestKubeOwnsItsContainers: kube play of a manifest whose pod has the
// name of a container made by `budgie run --name` is refused naming it,
// and kube down of it leaves that container; a volume that existed before
// the play (a claimName with no claim) is used by it and left by kube
// down -v, which removes what the play made.
func TestKubeOwnsItsContainers(t *testing.T) {
	u := uniq()
	name, other, vol, made := "kown"+u, "kowno"+u, "kownv"+u, "kownm"+u
	t.Cleanup(func() { budgie(t, "rm", "-f", name, other); budgie(t, "volume", "rm", vol, made) })
	must(t, "run", "-d", "--name", name, cliImage, "sleep", "600")
	id := containerID(t, name)
	dir := t.TempDir()
	pod := func(n string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + n + "}\nspec:\n  containers:\n  - name: c\n    image: " + cliImage +
			"\n    args: [sleep, '600']\n    volumeMounts: [{name: d, mountPath: /data}, {name: m, mountPath: /made}]\n" +
			"  volumes: [{name: d, persistentVolumeClaim: {claimName: " + vol + "}}, {name: m, persistentVolumeClaim: {claimName: " + made + "}}]\n"
	}
	clash := filepath.Join(dir, "clash.yaml")
	os.WriteFile(clash, []byte(pod(name)), 0o644)
	r := budgie(t, "kube", "play", clash)
	if r.code == 0 || !strings.Contains(r.stderr, name+" belongs to no compose project or manifest") {
		t.Errorf("kube play over a run --name container: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := budgie(t, "kube", "down", "-t", "0", "-v", clash); r.code == 0 || !strings.Contains(r.stderr, "belongs to no compose project") {
		t.Errorf("kube down of another's container: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := containerID(t, name); got != id {
		t.Errorf("the run --name container was replaced (%s, want %s)", got, id)
	}

	must(t, "volume", "create", vol)
	ok := filepath.Join(dir, "ok.yaml")
	os.WriteFile(ok, []byte(pod(other)), 0o644)
	must(t, "kube", "play", ok)
	if !volumeExists(made) {
		t.Fatalf("kube play did not make volume %s", made)
	}
	must(t, "kube", "down", "-t", "0", "-v", ok)
	if containerdHas(t, other) {
		t.Errorf("kube down left %s", other)
	}
	if !volumeExists(vol) {
		t.Errorf("kube down -v removed volume %s, which existed before the play", vol)
	}
	if volumeExists(made) {
		t.Errorf("kube down -v left volume %s, which the play made", made)
	}
}
