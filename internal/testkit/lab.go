package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"

	"github.com/budgie-sh/budgie/engine/daemon"
)

// LabPrefix starts the name of every lab's network namespaces, bridge,
// veth interfaces and directory: "bgl" + the owning process's pid in base
// 36 + "-" + a sequence number. CleanStaleLabs removes those whose process
// is gone.
const LabPrefix = "bgl"

// LabIface is the name of each node's interface inside its namespace.
const LabIface = "lab0"

// labSubnet is the private test range node addresses come from. The
// addresses exist only inside the lab's namespaces, on a bridge without
// an address of its own, so no traffic leaves them.
const labSubnet = "10.231.0."

// LabOptions configure StartLab.
type LabOptions struct {
	// Nodes is the number of nodes; zero means 3 (at most 200).
	Nodes int
	// Binary is the budgie executable the nodes run; required.
	Binary string
	// Dir is where the lab's directory is made; empty means os.TempDir().
	Dir string
	// Config is extra YAML appended to every node's budgie.yaml (say, a
	// discovery section with other timings); empty means none.
	Config string
}

// Lab is N Budgie hosts on this machine: each node is a network namespace
// joined to the lab's bridge by a veth pair, with its own address and
// multicast route, its own data directory, managed containerd and keeper.
// Close tears it all down; Close also runs on SIGINT and SIGTERM, and
// CleanStaleLabs removes what a killed run left.
type Lab struct {
	// Name is the lab's name (also its bridge's).
	Name string
	// Dir holds every node's directory.
	Dir string
	// Nodes are the nodes, node1 first.
	Nodes []*LabNode

	opts      LabOptions
	closeOnce sync.Once
	closeErr  error
}

// LabNode is one host of a lab.
type LabNode struct {
	// Name is the node's name (node1, node2, …), also its node_name.
	Name string
	// NetNS is its network namespace (under /run/netns).
	NetNS string
	// Addr is its IPv4 address on the lab's bridge.
	Addr string
	// Dir is the node's directory; DataDir its Budgie data directory under it.
	Dir, DataDir string
	// Config is its budgie.yaml.
	Config string

	binary string // the budgie executable
	mu     sync.Mutex
	keeper *exec.Cmd
	exited chan struct{}
}

var labSeq atomic.Int64

// StartLab cleans stale labs, builds the network and starts every node's
// keeper (which starts the node's managed containerd). It needs root, ip,
// nsenter, containerd and runc.
func StartLab(ctx context.Context, opts LabOptions) (*Lab, error) {
	if err := labCheck(opts); err != nil {
		return nil, err
	}
	if opts.Nodes == 0 {
		opts.Nodes = 3
	}
	if err := CleanStaleLabs(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s%s-%s", LabPrefix, strconv.FormatInt(int64(os.Getpid()), 36), strconv.FormatInt(labSeq.Add(1), 36))
	parent := opts.Dir
	if parent == "" {
		parent = os.TempDir()
	}
	l := &Lab{Name: name, Dir: filepath.Join(parent, name), opts: opts}
	track(l)
	if err := l.build(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func labCheck(opts LabOptions) error {
	if err := Check(); err != nil {
		return err
	}
	for _, bin := range []string{"ip", "nsenter"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("the lab needs %s (apt-get install iproute2 util-linux)", bin)
		}
	}
	if opts.Binary == "" {
		return errors.New("lab: no budgie binary given")
	}
	if opts.Nodes < 0 || opts.Nodes > 200 {
		return fmt.Errorf("lab: %d nodes (1 to 200)", opts.Nodes)
	}
	return nil
}

// build makes the bridge and every node, then starts the keepers.
func (l *Lab) build(ctx context.Context) error {
	if err := os.MkdirAll(l.Dir, 0o711); err != nil {
		return err
	}
	if err := ipCmd("link", "add", l.Name, "type", "bridge"); err != nil {
		return err
	}
	// Best effort: flood all multicast and keep bridged frames out of the
	// host's iptables.
	_ = ipCmd("link", "set", l.Name, "type", "bridge", "mcast_snooping", "0")
	_ = ipCmd("link", "set", l.Name, "type", "bridge", "nf_call_iptables", "0")
	noIPv6(l.Name)
	if err := ipCmd("link", "set", l.Name, "up"); err != nil {
		return err
	}
	for i := 1; i <= l.opts.Nodes; i++ {
		n, err := l.addNode(i)
		if err != nil {
			return err
		}
		l.Nodes = append(l.Nodes, n)
	}
	for _, n := range l.Nodes {
		if err := n.StartKeeper(ctx); err != nil {
			return err
		}
	}
	return nil
}

// noIPv6 turns IPv6 off on the host's side of the lab (its bridge and
// veth ends) before they come up. The lab speaks IPv4; IPv6 would give
// each a link-local address whose duplicate detection ends a second or two
// later, and an address change on the host makes a browser started then
// abort its page load (net::ERR_NETWORK_CHANGED). Best effort: without
// IPv6 in the kernel there is nothing to turn off.
func noIPv6(ifname string) {
	_ = os.WriteFile("/proc/sys/net/ipv6/conf/"+ifname+"/disable_ipv6", []byte("1"), 0o644)
}

// addNode makes node i's namespace, veth pair, address, routes and files.
func (l *Lab) addNode(i int) (*LabNode, error) {
	n := &LabNode{Name: fmt.Sprintf("node%d", i), NetNS: fmt.Sprintf("%s-%d", l.Name, i),
		Addr: labSubnet + strconv.Itoa(i), Dir: filepath.Join(l.Dir, fmt.Sprintf("n%d", i))}
	n.DataDir, n.Config = filepath.Join(n.Dir, "data"), filepath.Join(n.Dir, "budgie.yaml")
	host := fmt.Sprintf("%sv%d", l.Name, i)
	steps := [][]string{
		{"netns", "add", n.NetNS},
		{"link", "add", host, "type", "veth", "peer", "name", LabIface, "netns", n.NetNS},
		{"link", "set", host, "master", l.Name, "up"},
		{"-n", n.NetNS, "link", "set", "lo", "up"},
		{"-n", n.NetNS, "addr", "add", n.Addr + "/24", "dev", LabIface},
		{"-n", n.NetNS, "link", "set", LabIface, "up"},
		{"-n", n.NetNS, "route", "add", "224.0.0.0/4", "dev", LabIface},
	}
	for i, s := range steps {
		if i == 2 {
			noIPv6(host) // before it is up
		}
		if err := ipCmd(s...); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(n.DataDir, 0o711); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("# budgie.yaml of lab node %s (%s in namespace %s)\ncontainerd:\n  address: %s\n  namespace: %s\ndata_dir: %s\nnode_name: %s\n",
		n.Name, n.Addr, n.NetNS, daemon.ManagedPaths(n.DataDir).Socket, Namespace, n.DataDir, n.Name)
	if !strings.Contains(l.opts.Config, "discovery:") {
		cfg += "discovery:\n  interfaces: [" + LabIface + "]\n"
	}
	cfg += l.opts.Config
	if err := os.WriteFile(n.Config, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	n.binary = l.opts.Binary
	return n, nil
}

// Command returns `budgie --headless --config CONFIG ARGS…` run in the
// node's network namespace, with BUDGIE_ variables of this process removed.
func (n *LabNode) Command(ctx context.Context, args ...string) *exec.Cmd {
	argv := append([]string{"--net=/run/netns/" + n.NetNS, "--", n.binary, "--headless", "--config", n.Config}, args...)
	cmd := exec.CommandContext(ctx, "nsenter", argv...)
	cmd.Dir = n.Dir
	cmd.Env = append(cleanEnv(), "HOME="+n.Dir, "NO_COLOR=1")
	return cmd
}

// Exec returns argv run in the node's network namespace.
func (n *LabNode) Exec(ctx context.Context, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=/run/netns/" + n.NetNS, "--"}, argv...)...)
	cmd.Dir = n.Dir
	cmd.Env = cleanEnv()
	return cmd
}

// Budgie runs a budgie command on the node and returns its standard
// output; a failure's error carries its standard error.
func (n *LabNode) Budgie(ctx context.Context, args ...string) (string, error) {
	cmd := n.Command(ctx, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s: budgie %s: %w: %s", n.Name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUDGIE_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return env
}

// StartKeeper starts the node's keeper (`budgie --headless serve`) in its
// namespace, logging to Dir/keeper.log, and waits until its API answers.
// The keeper starts the node's managed containerd, which therefore also
// runs in the namespace, and so do the containers (they share the
// network namespace of their containerd).
func (n *LabNode) StartKeeper(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.keeper != nil {
		return fmt.Errorf("%s: keeper already runs", n.Name)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "keeper.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := n.Command(context.Background(), "serve")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: start keeper: %w", n.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.keeper, n.exited = cmd, exited
	return n.waitKeeper(ctx, exited)
}

// waitKeeper polls the keeper's ping until it answers.
func (n *LabNode) waitKeeper(ctx context.Context, exited <-chan struct{}) error {
	sock := filepath.Join(n.DataDir, "keeper.sock")
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get("http://keeper/v1/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s: keeper exited at start; see %s", n.Name, filepath.Join(n.Dir, "keeper.log"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: keeper does not answer on %s; see %s", n.Name, sock, filepath.Join(n.Dir, "keeper.log"))
}

// KillKeeper kills the node's keeper with SIGKILL, as a crash or a power
// cut would: it sends no goodbye. Its containers keep running.
func (n *LabNode) KillKeeper() error { return n.endKeeper(syscall.SIGKILL, 5*time.Second) }

// StopKeeper stops the node's keeper with SIGTERM.
func (n *LabNode) StopKeeper() error { return n.endKeeper(syscall.SIGTERM, 10*time.Second) }

func (n *LabNode) endKeeper(sig syscall.Signal, wait time.Duration) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.keeper == nil {
		return nil
	}
	_ = n.keeper.Process.Signal(sig)
	select {
	case <-n.exited:
	case <-time.After(wait):
		_ = n.keeper.Process.Kill()
		<-n.exited
	}
	n.keeper = nil
	return nil
}

// LoadBusybox imports a busybox-static image into the node's containerd
// (in the namespace the node's budgie uses).
func (n *LabNode) LoadBusybox(ctx context.Context, opts ImageOptions) error {
	client, err := containerd.New(daemon.ManagedPaths(n.DataDir).Socket, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("%s: connect to containerd: %w", n.Name, err)
	}
	defer client.Close()
	return LoadBusybox(namespaces.WithNamespace(ctx, Namespace), client, opts)
}

// Close stops the keepers, removes every container and stops each node's
// containerd, kills whatever still runs in the namespaces, and removes the
// namespaces, the bridge and the lab's directory. Calls after the first
// wait for it and return its result.
func (l *Lab) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

func (l *Lab) close() error {
	defer untrack(l)
	var errs []error
	for _, n := range l.Nodes {
		_ = n.StopKeeper()
		if err := closeNodeContainerd(n.DataDir); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
		}
	}
	removeLab(l.Name, l.Dir)
	return errors.Join(errs...)
}

// closeNodeContainerd removes the node's containers and stops its containerd.
func closeNodeContainerd(dataDir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := daemon.Connect(ctx, daemon.Options{DataDir: dataDir, Namespace: Namespace, NoStart: true})
	if err != nil {
		return daemon.Stop(dataDir, 5*time.Second)
	}
	return (&Env{DataDir: dataDir, Conn: conn}).Close()
}

// BuildBudgie builds the budgie binary of this module into dir and
// returns its path.
func BuildBudgie(dir string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	root := strings.TrimSpace(string(out))
	bin := filepath.Join(dir, "budgie")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as make build
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build budgie: %w: %s", err, out)
	}
	return bin, nil
}

// DemoImage is the image the demo bundles of vhs/ run; tools/mkimage
// builds the same busybox-static image for make demo.
const DemoImage = "localhost/budgie-demo:latest"

// ShareDemo readies the lab for a replication demo: it loads DemoImage
// on node1, runs the bundles there, shares the containers they started,
// makes every node trust every other, and waits until each other node's
// keeper lists those containers as announced by node1.
func (l *Lab) ShareDemo(ctx context.Context, bundles ...string) error {
	n1 := l.Nodes[0]
	if err := n1.LoadBusybox(ctx, ImageOptions{Ref: DemoImage, Cmd: []string{"sh"}}); err != nil {
		return err
	}
	var ids []string
	for _, b := range bundles {
		out, err := n1.Budgie(ctx, "run", b)
		if err != nil {
			return err
		}
		ids = append(ids, strings.Fields(out)...)
	}
	if len(ids) == 0 {
		return errors.New("lab: the demo bundles started no container")
	}
	if _, err := n1.Budgie(ctx, append([]string{"share"}, ids...)...); err != nil {
		return err
	}
	if err := l.TrustAll(ctx); err != nil {
		return err
	}
	for _, n := range l.Nodes[1:] {
		if err := n.waitAnnounced(ctx, n1.Name, ids); err != nil {
			return err
		}
	}
	return nil
}

// TrustAll makes every node trust every other (budgie trust add with
// the ID budgie id prints on the other node).
func (l *Lab) TrustAll(ctx context.Context) error {
	ids := make([]string, len(l.Nodes))
	for i, n := range l.Nodes {
		out, err := n.Budgie(ctx, "id")
		if err != nil {
			return err
		}
		ids[i] = strings.TrimSpace(out)
	}
	for i, n := range l.Nodes {
		for j, id := range ids {
			if i == j {
				continue
			}
			if _, err := n.Budgie(ctx, "trust", "add", id); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitAnnounced polls the node's view of the LAN (budgie chirp) until
// every container of ids is listed as running on the node named from.
func (n *LabNode) waitAnnounced(ctx context.Context, from string, ids []string) error {
	var listed []struct {
		NodeName    string `json:"node_name"`
		ContainerID string `json:"container_id"`
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		out, err := n.Budgie(ctx, "chirp", "--format", "json")
		if err == nil && json.Unmarshal([]byte(out), &listed) == nil {
			seen := 0
			for _, c := range listed {
				if c.NodeName == from && slices.Contains(ids, c.ContainerID) {
					seen++
				}
			}
			if seen == len(ids) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %s never listed %d container(s) of %s as announced (budgie chirp); see %s", n.Name, n.Name, len(ids), from, filepath.Join(n.Dir, "keeper.log"))
}

// ShellCommand writes dir/budgie, a script that runs the lab's budgie
// with the node's configuration, and returns a command line running
// program in the node's network namespace with a clean environment: dir
// first on PATH (so budgie is the node's), HOME the node's directory.
// What program starts acts as the node: a vhs recording, say. The paths
// must hold no blanks (the lab's own never do).
func (n *LabNode) ShellCommand(dir, program string) (string, error) {
	script := fmt.Sprintf("#!/bin/sh\n# budgie as lab node %s\nexec %s --config %s \"$@\"\n", n.Name, n.binary, n.Config)
	if err := os.WriteFile(filepath.Join(dir, "budgie"), []byte(script), 0o755); err != nil {
		return "", fmt.Errorf("%s: write the budgie wrapper: %w", n.Name, err)
	}
	return fmt.Sprintf("nsenter --net=/run/netns/%s -- env -i PATH=%s:%s HOME=%s TERM=xterm-256color %s",
		n.NetNS, dir, os.Getenv("PATH"), n.Dir, program), nil
}
