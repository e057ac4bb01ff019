//go:build integration

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComposeKubeRoundTrip is issue 21's done-when: the three-service
// compose stack runs with `budgie run compose.yaml`; `budgie kube
// generate` of its services writes manifests that k8s.io/api decodes; the
// containers are removed (the stack's networks, volumes and imported
// secret stay, as a cluster's would) and `budgie kube play` of the
// manifests brings back the same containers: the same spec in their
// labels, db healthy before api starts, the published port serving, the
// environment, the secret, the bind mount, the volume's data and
// worker's two replicas. kube down then removes what play made.
func TestComposeKubeRoundTrip(t *testing.T) {
	file, env, port := composeStack(t)
	composeCleanup(t, file, env)
	must2(t, env, "run", file)
	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, "the stack's api answers", func() error {
		got, err := get(base + "db-ready.txt")
		if err == nil && got != "yes" {
			return fmt.Errorf("api saw db ready: %q", got)
		}
		return err
	})
	if out, code := execOut(t, "db", "sh", "-c", "echo kept > /var/lib/db/keep"); code != 0 {
		t.Fatalf("write into db's volume: exit %d %q", code, out)
	}
	before := map[string]kubeInspect{}
	for _, n := range stackContainers {
		before[n] = inspectKube(t, n)
	}

	manifest := filepath.Join(filepath.Dir(file), "stack.yaml")
	must(t, "kube", "generate", "-o", manifest, "db", "api", "worker")
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"kind: StatefulSet", "kind: Deployment", "kind: Service", "readinessProbe:", "replicas: 2"} {
		if !strings.Contains(string(data), kind) {
			t.Errorf("the manifest lacks %q:\n%s", kind, data)
		}
	}
	if strings.Contains(string(data), "s3cr3t-pw") {
		t.Fatal("the manifest holds the secret's value")
	}

	must(t, append([]string{"rm", "-f"}, stackContainers...)...)
	for _, n := range stackContainers {
		if containerdHas(t, n) {
			t.Fatalf("%s is still there after rm -f", n)
		}
	}
	if ids := strings.Fields(must(t, "kube", "play", manifest)); len(ids) != 4 {
		t.Fatalf("kube play printed %v, want the 4 container IDs", ids)
	}
	eventually(t, "the played api answers", func() error {
		got, err := get(base + "db-ready.txt")
		if err == nil && got != "yes" {
			return fmt.Errorf("the played api saw db ready: %q, want yes (it must start after db is healthy)", got)
		}
		return err
	})
	for _, n := range stackContainers {
		after := inspectKube(t, n)
		if after.ID == before[n].ID {
			t.Errorf("%s: kube play did not make a new container", n)
		}
		if string(after.Budgie.Spec) != string(before[n].Budgie.Spec) {
			t.Errorf("%s: the played spec differs:\n got %s\nwant %s", n, after.Budgie.Spec, before[n].Budgie.Spec)
		}
	}
	if got := must(t, "ps", "--filter", "name=db", "--format", "{{.Health}}"); got != "healthy\n" {
		t.Errorf("played db health: %q", got)
	}
	if got, err := get(base); err != nil || got != "hello from .env from api" {
		t.Errorf("GET / of the played api = %q, %v", got, err)
	}
	if out, code := execOut(t, "api", "sh", "-c", `echo "$API_TOKEN|$FROM_ENV_FILE|$DB_HOST|$GREETING"`); code != 0 || out != "token-from-dotenv|yes|db|hello from .env\n" {
		t.Errorf("played api env: exit %d %q", code, out)
	}
	if out, code := execOut(t, "db", "sh", "-c", `cat /var/lib/db/keep /run/secrets/db_password`); code != 0 || out != "kept\ns3cr3t-pw" {
		t.Errorf("played db's volume and secret: exit %d %q", code, out)
	}
	if out, code := execOut(t, "worker-2", "cat", "/site/hello.txt"); code != 0 || out != "hello from the host\n" {
		t.Errorf("played worker's bind mount: exit %d %q", code, out)
	}

	r := budgie(t, "kube", "down", manifest)
	if r.code != 0 {
		t.Fatalf("kube down: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, n := range stackContainers {
		if containerdHas(t, n) {
			t.Errorf("%s is still there after kube down", n)
		}
	}
}
