//go:build integration

package discovery_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
)

// TestLabPullFromLocalName: a registry that only multicast DNS knows by
// name. On node1 an avahi-daemon answers for NAME.local and
// docker-registry listens on :5000; node1 pushes an image to it by
// localhost. node2, whose resolver has never heard of NAME.local (Budgie's
// binary is static, its resolver Go's: no nss-mdns), pulls the image by
// that name and lists it. A .local name nobody answers fails with the
// lookup's own error, not a DNS one.
func TestLabPullFromLocalName(t *testing.T) {
	lab := sharedLab(t)
	n1, n2 := lab.Nodes[0], lab.Nodes[1]
	var b [4]byte
	_, _ = rand.Read(b[:])
	host := "bgreg-" + hex.EncodeToString(b[:])
	startAvahiNamed(t, n1, host)
	startNodeRegistry(t, n1)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	local := "localhost:5000/lookup/busybox:1"
	if err := n1.LoadBusybox(ctx, testkit.ImageOptions{Ref: local, Cmd: []string{"sleep", "3600"}}); err != nil {
		t.Fatal(err)
	}
	if out, err := n1.Budgie(ctx, "push", local); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := n2.Exec(ctx, "getent", "hosts", host+".local").CombinedOutput(); err == nil {
		t.Fatalf("node2's libc resolver knows %s.local (%s): the pull below would not show multicast DNS at work", host, out)
	}

	addr := host + ".local:5000"
	allowPlainHTTP(t, n2, addr)
	remote := addr + "/lookup/busybox:1"
	if out, err := n2.Budgie(ctx, "pull", remote); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err := n2.Budgie(ctx, "images")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, addr+"/lookup/busybox") {
		t.Fatalf("node2 does not list %s after pulling it:\n%s", remote, out)
	}

	nobody := "bgnobody-" + hex.EncodeToString(b[:]) + ".local:5000"
	allowPlainHTTP(t, n2, nobody)
	start := time.Now()
	_, err = n2.Budgie(ctx, "pull", nobody+"/lookup/busybox:1")
	if err == nil || !strings.Contains(err.Error(), "no multicast DNS responder on the LAN answered for bgnobody-") {
		t.Fatalf("pull from a .local name nobody answers: got %v, want the multicast DNS lookup's error", err)
	}
	t.Logf("pull from a name nobody answers: %v", err)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the failed pull took %s", took)
	}
}

// startNodeRegistry runs docker-registry on :5000 in node's namespace
// until the test ends.
func startNodeRegistry(t *testing.T, node *testkit.LabNode) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	text := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: :5000\n", filepath.Join(dir, "data"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := node.Exec(context.Background(), testkit.RegistryPath, "serve", conf)
	var log syncBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := node.Exec(ctx, "bash", "-c", "echo > /dev/tcp/127.0.0.1/5000").Run()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry in %s did not listen on :5000:\n%s", node.NetNS, log.String())
		}
	}
}

// allowPlainHTTP adds addr to node's registries.insecure until the test
// ends.
func allowPlainHTTP(t *testing.T, node *testkit.LabNode, addr string) {
	t.Helper()
	old, err := os.ReadFile(node.Config)
	if err != nil {
		t.Fatal(err)
	}
	text := string(old)
	if strings.Contains(text, "\nregistries:") {
		text = strings.Replace(text, "\nregistries:\n  insecure: [", "\nregistries:\n  insecure: ["+addr+", ", 1)
	} else {
		text += "registries:\n  insecure: [" + addr + "]\n"
	}
	if err := os.WriteFile(node.Config, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(node.Config, old, 0o644) })
}
