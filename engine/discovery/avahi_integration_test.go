//go:build integration

package discovery_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// The Avahi side of the interop test: Debian's avahi-daemon (which pulls
// in dbus-daemon) and avahi-utils.
const avahiHint = "apt-get install avahi-daemon avahi-utils"

// avahi is an avahi-daemon running in a lab node's namespace, on a
// private D-Bus system bus of its own (avahi-browse and avahi-publish
// reach the daemon only over D-Bus), in a mount namespace of its own (its
// pid file lives in /run/avahi-daemon).
type avahi struct {
	node *testkit.LabNode
	dir  string
	bus  string // DBUS_SYSTEM_BUS_ADDRESS
}

const avahiBusConf = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`

const avahiConf = `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=%s
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`

// startAvahi starts a private D-Bus and an avahi-daemon in node's
// namespace until the test ends.
func startAvahi(t *testing.T, node *testkit.LabNode) *avahi {
	t.Helper()
	return startAvahiNamed(t, node, "")
}

// startAvahiNamed is startAvahi with the daemon's host name set (it
// answers for HOSTNAME.local with node's address); "" keeps the
// machine's.
func startAvahiNamed(t *testing.T, node *testkit.LabNode, hostName string) *avahi {
	t.Helper()
	for _, bin := range []string{"avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon", "unshare"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("the interop test needs %s (%s)", bin, avahiHint)
		}
	}
	dir, err := os.MkdirTemp("", "bgavahi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	av := &avahi{node: node, dir: dir, bus: "unix:path=" + filepath.Join(dir, "bus")}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	busConf := write("bus.conf", fmt.Sprintf(avahiBusConf, filepath.Join(dir, "bus")))
	confText := fmt.Sprintf(avahiConf, testkit.LabIface)
	if hostName != "" {
		confText = strings.Replace(confText, "[server]\n", "[server]\nhost-name="+hostName+"\n", 1)
	}
	conf := write("avahi-daemon.conf", confText)
	av.daemon(t, exec.Command("dbus-daemon", "--config-file="+busConf, "--nofork"), "dbus-daemon.log")
	waitFile(t, filepath.Join(dir, "bus"))
	if err := os.MkdirAll("/run/avahi-daemon", 0o755); err != nil {
		t.Fatal(err)
	}
	script := "mount -t tmpfs tmpfs /run/avahi-daemon && exec avahi-daemon -f " + conf + " --no-drop-root --no-chroot --no-rlimits"
	cmd := node.Exec(context.Background(), "unshare", "-m", "sh", "-c", script)
	cmd.Env = append(cmd.Env, "DBUS_SYSTEM_BUS_ADDRESS="+av.bus)
	log := av.daemon(t, cmd, "avahi-daemon.log")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(log.String(), "Server startup complete") {
		if time.Now().After(deadline) {
			t.Fatalf("avahi-daemon did not start in %s:\n%s", node.NetNS, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return av
}

// daemon starts cmd, logging to the buffer returned, and stops it when
// the test ends.
func (av *avahi) daemon(t *testing.T, cmd *exec.Cmd, name string) *syncBuffer {
	t.Helper()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = os.WriteFile(filepath.Join(av.dir, name), out.Bytes(), 0o644)
	})
	return out
}

// command returns an avahi client command in the node's namespace.
func (av *avahi) command(ctx context.Context, argv ...string) *exec.Cmd {
	cmd := av.node.Exec(ctx, argv...)
	cmd.Env = append(cmd.Env, "DBUS_SYSTEM_BUS_ADDRESS="+av.bus)
	return cmd
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
	}
	t.Fatalf("%s did not appear", path)
}

// TestLabAvahiInterop checks mDNS interop with Avahi both ways:
// avahi-browse on node3 lists a container of node1 (address, port and
// TXT), and node1's keeper lists a node that avahi-publish announces.
func TestLabAvahiInterop(t *testing.T) {
	lab := sharedLab(t)
	n1, n3 := lab.Nodes[0], lab.Nodes[2]
	ids, _ := runContainers(t, n1, "avahi-sees-me")
	t.Cleanup(func() { removeAll(t, lab) })
	av := startAvahi(t, n3)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := av.command(ctx, "avahi-browse", "-rpt", "_budgie._tcp").CombinedOutput()
	if err != nil {
		t.Fatalf("avahi-browse: %v\n%s", err, out)
	}
	line := resolvedLine(string(out), "container_name=avahi-sees-me")
	t.Logf("avahi-browse resolved: %s", line)
	for _, want := range []string{";" + n1.Addr + ";18733;", `"v=1"`, `"container_id=` + ids["avahi-sees-me"] + `"`, `"kind=container"`} {
		if !strings.Contains(line, want) {
			t.Errorf("avahi-browse's line for the container lacks %s:\n%s", want, out)
		}
	}

	node := "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
	pub := av.command(context.Background(), "avahi-publish", "-s", "node-"+node[:12], "_budgie._tcp", "18733",
		"v=1", "kind=node", "node_id="+node, "node_name=avahi-published", "sync_port=18733")
	var pubOut syncBuffer
	pub.Stdout, pub.Stderr = &pubOut, &pubOut
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Process.Kill(); _ = pub.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for !listsNode(peers(t, n1).Nodes, "avahi-published") {
		if time.Now().After(deadline) {
			t.Fatalf("node1 does not list the node avahi-publish announces; avahi-publish said:\n%s", pubOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// resolvedLine returns the resolved ("=") line of avahi-browse -p output
// that contains want.
func resolvedLine(out, want string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "=") && strings.Contains(l, want) {
			return l
		}
	}
	return ""
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Bytes() []byte { return []byte(b.String()) }

// listsNode reports whether nodes holds a node named name.
func listsNode(nodes []models.PeerNode, name string) bool {
	for _, n := range nodes {
		if n.Name == name {
			return true
		}
	}
	return false
}
