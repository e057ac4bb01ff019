//go:build integration

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Networking end to end, through the real binary: CNI bridges, iptables,
// the keeper's proxy, busybox servers in the containers.

// uniq is a short unique suffix for names (bridge names are short).
func uniq() string { return strconv.FormatUint(rand.Uint64()%1_000_000, 36) }

// runBundle writes body as a bundle file and runs it; cleanup removes names.
func runBundle(t *testing.T, body string, names ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "b.bun")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { budgie(t, append([]string{"rm", "-f"}, names...)...) })
	return must(t, "run", path)
}

// server is a bundle body for a container that serves its own name over
// HTTP on port 80 (busybox httpd) on the given networks.
func server(name, networks string) string {
	s := "name: " + name + "\nimage: " + cliImage + "\n" +
		`args: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]` + "\n"
	if networks != "" {
		s += "networks: [" + networks + "]\n"
	}
	return s
}

// execOut runs a command in a container and returns its output and exit code.
func execOut(t *testing.T, ctr string, cmd ...string) (string, int) {
	t.Helper()
	r := budgie(t, append([]string{"exec", ctr}, cmd...)...)
	return r.stdout + r.stderr, r.code
}

// fetchFrom asks container from to GET http://host/ (3 s timeout).
func fetchFrom(t *testing.T, from, host string) (string, int) {
	t.Helper()
	return execOut(t, from, "timeout", "3", "wget", "-q", "-O-", "http://"+host+"/")
}

// eventually retries f until it returns nil or 15 s pass.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = f(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

func TestNetworkNamesAndIsolation(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	u := uniq()
	netA, netB := "na"+u, "nb"+u
	must(t, "network", "create", netA, "--subnet", "10.201."+strconv.Itoa(rand.IntN(200))+".0/24")
	must(t, "network", "create", netB)
	t.Cleanup(func() { budgie(t, "network", "rm", netA, netB) })
	a1, a2, b1 := "a1"+u, "a2"+u, "b1"+u
	runBundle(t, "containers:\n"+indent(server(a1, netA))+indent(server(a2, netA))+indent(server(b1, netB)), a1, a2, b1)

	// Same network: by name, both ways.
	eventually(t, "a1 reaches a2 by name", func() error {
		if out, code := fetchFrom(t, a1, a2); code != 0 || strings.TrimSpace(out) != a2 {
			return fmt.Errorf("exit %d: %q", code, out)
		}
		return nil
	})
	if out, code := fetchFrom(t, a2, a1); code != 0 || strings.TrimSpace(out) != a1 {
		t.Errorf("a2 → a1: exit %d: %q", code, out)
	}
	// Other network: no name, and no route by address either.
	if out, code := fetchFrom(t, a1, b1); code == 0 {
		t.Errorf("a1 resolved and reached b1 on another network: %q", out)
	}
	ipB1 := ipOn(t, b1, netB)
	if out, code := fetchFrom(t, a1, ipB1); code == 0 {
		t.Errorf("a1 reached b1 at %s across networks: %q", ipB1, out)
	}

	// inspect lists both containers of netA with their addresses.
	var nets []struct {
		Name      string
		Endpoints []struct{ ContainerName, IP, IfName string } `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(must(t, "network", "inspect", netA)), &nets); err != nil || len(nets) != 1 {
		t.Fatalf("network inspect: %v %+v", err, nets)
	}
	if got := len(nets[0].Endpoints); got != 2 {
		t.Errorf("netA endpoints: %+v", nets[0].Endpoints)
	}

	// connect b1 to netA live: a1 now reaches it by name; disconnect: gone again.
	out := must(t, "network", "connect", netA, b1)
	if !strings.Contains(out, "eth1") {
		t.Errorf("connect printed %q, want the new interface eth1", out)
	}
	eventually(t, "a1 reaches b1 after connect", func() error {
		if out, code := fetchFrom(t, a1, b1); code != 0 || strings.TrimSpace(out) != b1 {
			return fmt.Errorf("exit %d: %q", code, out)
		}
		return nil
	})
	must(t, "network", "disconnect", netA, b1)
	eventually(t, "a1 loses b1 after disconnect", func() error {
		if out, code := fetchFrom(t, a1, b1); code == 0 {
			return fmt.Errorf("still reached: %q", out)
		}
		return nil
	})

	// rm is refused while containers use the network, naming them.
	r := budgie(t, "network", "rm", netA)
	if r.code == 0 || !strings.Contains(r.stderr, a1) {
		t.Errorf("network rm in use: exit %d, stderr %q", r.code, r.stderr)
	}
	// A stopped container keeps a stable view: stop a2, a1 no longer resolves it.
	must(t, "stop", "-t", "1", a2)
	eventually(t, "a2 leaves a1's hosts file", func() error {
		if out, _ := execOut(t, a1, "cat", "/etc/hosts"); strings.Contains(out, a2) {
			return fmt.Errorf("hosts still lists a2:\n%s", out)
		}
		return nil
	})
}

// indent makes a single-container bundle body an item of containers:.
func indent(body string) string {
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	for i, l := range lines {
		if i == 0 {
			lines[i] = "  - " + l
		} else {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// ipOn is the container's address on network.
func ipOn(t *testing.T, ctr, network string) string {
	t.Helper()
	out := must(t, "inspect", "-f", "{{(index .NetworkSettings.Networks \""+network+"\").IPAddress}}", ctr)
	ip := strings.TrimSpace(out)
	if net.ParseIP(ip) == nil {
		t.Fatalf("address of %s on %s: %q", ctr, network, out)
	}
	return ip
}

// freePort returns a TCP port free on the host right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func get(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("status %s", resp.Status)
	}
	return strings.TrimSpace(string(b)), err
}

func TestPublishedPortFromHostAndNamespace(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	u := uniq()
	name := "pub" + u
	port := freePort(t)
	runBundle(t, server(name, "")+fmt.Sprintf("ports: [\"%d:80\"]\n", port), name)
	eventually(t, "published port answers on 127.0.0.1", func() error {
		got, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil && got != name {
			err = fmt.Errorf("got %q", got)
		}
		return err
	})
	// From another "host": a namespace joined to this one by a veth pair.
	ns, hostIP := otherHost(t)
	out, err := exec.Command("ip", "netns", "exec", ns, "timeout", "3", "busybox", "wget", "-q", "-O-",
		fmt.Sprintf("http://%s:%d/", hostIP, port)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != name {
		t.Errorf("from namespace %s to %s:%d: %v %q", ns, hostIP, port, err, out)
	}
	// ps shows the binding.
	if got := must(t, "ps", "--filter", "name="+name); !strings.Contains(got, strconv.Itoa(port)+"->80/tcp") {
		t.Errorf("ps lacks the port:\n%s", got)
	}

	// A random host port: resolved, shown, reachable, distinct from others.
	rnd := "rnd" + u
	runBundle(t, server(rnd, "")+"ports: [\"80\"]\n", rnd)
	var cs []struct {
		Ports []struct {
			HostPort int `json:"host_port"`
		} `json:"ports"`
	}
	json.Unmarshal([]byte(must(t, "ps", "--filter", "name="+rnd, "--format", "json")), &cs)
	if len(cs) != 1 || len(cs[0].Ports) != 1 || cs[0].Ports[0].HostPort == 0 || cs[0].Ports[0].HostPort == port {
		t.Fatalf("random port in ps: %+v", cs)
	}
	eventually(t, "random port answers", func() error {
		_, err := get(fmt.Sprintf("http://127.0.0.1:%d/", cs[0].Ports[0].HostPort))
		return err
	})
}

// otherHost makes a network namespace linked to the host by a veth pair
// and returns its name and the host's address as seen from it.
func otherHost(t *testing.T) (string, string) {
	t.Helper()
	u := uniq()
	ns, vh, vn := "bgt"+u, "bgh"+u, "bgn"+u
	sub := strconv.Itoa(rand.IntN(250))
	hostIP, nsIP := "10.232."+sub+".1", "10.232."+sub+".2"
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", vh, "type", "veth", "peer", "name", vn},
		{"link", "set", vn, "netns", ns},
		{"addr", "add", hostIP + "/30", "dev", vh},
		{"link", "set", vh, "up"},
		{"-n", ns, "addr", "add", nsIP + "/30", "dev", vn},
		{"-n", ns, "link", "set", vn, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", vh).Run()
		exec.Command("ip", "netns", "del", ns).Run()
	})
	return ns, hostIP
}

func TestPublishedPortConflictNamesHolder(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	port := freePort(t)
	holder := exec.Command("busybox", "nc", "-l", "-p", strconv.Itoa(port))
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	eventually(t, "holder listens", func() error {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err == nil {
			ln.Close()
			return fmt.Errorf("port %d still free", port)
		}
		return nil
	})
	name := "conf" + uniq()
	path := filepath.Join(t.TempDir(), "c.bun")
	os.WriteFile(path, []byte(server(name, "")+fmt.Sprintf("ports: [\"%d:80\"]\n", port)), 0o644)
	r := budgie(t, "run", path)
	if r.code == 0 {
		budgie(t, "rm", "-f", name)
		t.Fatalf("run on a taken port succeeded")
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", holder.Process.Pid))
	want := fmt.Sprintf("%s (pid %d)", strings.TrimSpace(string(comm)), holder.Process.Pid)
	if !strings.Contains(r.stderr, strconv.Itoa(port)) || !strings.Contains(r.stderr, want) {
		t.Errorf("conflict error does not name port %d and holder %s: %s", port, want, r.stderr)
	}
	if got := must(t, "ps", "-a", "-q", "--filter", "name="+name); got != "" {
		t.Errorf("a container was left behind: %q", got)
	}
	// Another budgie service on the same port: the error names the service.
	holder.Process.Kill()
	holder.Wait()
	first := "own" + uniq()
	runBundle(t, server(first, "")+fmt.Sprintf("ports: [\"%d:80\"]\n", port), first)
	r = budgie(t, "run", path)
	if r.code == 0 || !strings.Contains(r.stderr, first) {
		budgie(t, "rm", "-f", name)
		t.Errorf("second service on port %d: exit %d, stderr %q (want it to name %s)", port, r.code, r.stderr, first)
	}
}

// replicated runs a service of n replicas that serve their names over
// http (or tcp) on a published port, with a fast health check.
func replicated(t *testing.T, n int, strategy, proto string) (string, int) {
	t.Helper()
	name := "rep" + uniq()
	port := freePort(t)
	body := server(name, "") + fmt.Sprintf("ports: [\"%d:80/%s\"]\nreplicas: {count: %d, strategy: %s}\n", port, proto, n, strategy) +
		"health: {tcp: \"80\", interval: 300ms, timeout: 1s, retries: 1}\n"
	names := []string{}
	for i := 1; i <= 5; i++ {
		names = append(names, fmt.Sprintf("%s-%d", name, i))
	}
	runBundle(t, body, names...)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(ctrEnv.DataDir, "keeper.log"))
			t.Logf("keeper log:\n%s", lastLines(string(log), 40))
			t.Logf("ps:\n%s", must(t, "ps", "-a"))
		}
	})
	eventually(t, "every replica is a healthy backend and the port answers", func() error {
		bs, err := backendsOf(t, name)
		if err != nil {
			return err
		}
		healthy := 0
		for _, b := range bs {
			if b.Healthy {
				healthy++
			}
		}
		if healthy != n {
			return fmt.Errorf("%d of %d backends healthy", healthy, n)
		}
		_, err = get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		return err
	})
	return name, port
}

func TestReplicasRoundRobinExactSequence(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	name, port := replicated(t, 3, "round-robin", "http")
	var got []string
	for range 9 {
		s, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimPrefix(s, name+"-"))
	}
	seq := strings.Join(got, "")
	if seq != "123123123" && seq != "231231231" && seq != "312312312" {
		t.Errorf("round-robin sequence %q, want the replicas in rotation", seq)
	}
	// Per-backend stats in inspect.
	var in []struct {
		Budgie struct {
			LoadBalancer []struct {
				Backends []struct {
					Name     string `json:"name"`
					Requests int64  `json:"requests"`
				} `json:"backends"`
			}
		}
	}
	json.Unmarshal([]byte(must(t, "inspect", name+"-1")), &in)
	if len(in) != 1 || len(in[0].Budgie.LoadBalancer) != 1 || len(in[0].Budgie.LoadBalancer[0].Backends) != 3 {
		t.Fatalf("inspect LoadBalancer: %+v", in)
	}
	for _, b := range in[0].Budgie.LoadBalancer[0].Backends {
		if b.Requests < 3 {
			t.Errorf("backend %s counted %d requests, want ≥ 3", b.Name, b.Requests)
		}
	}
	// scale up (two new replicas: the first defers the hosts refresh to
	// the second, which writes every file) and down.
	must(t, "scale", name, "5")
	for _, pair := range [][2]string{{"1", "4"}, {"1", "5"}, {"4", "1"}, {"4", "5"}, {"5", "4"}} {
		hosts := must(t, "exec", name+"-"+pair[0], "cat", "/etc/hosts")
		if !strings.Contains(hosts, "\t"+name+"-"+pair[1]+" ") && !strings.Contains(hosts, "\t"+name+"-"+pair[1]+"\n") {
			t.Errorf("after scale 5, %s-%s's /etc/hosts lacks %s-%s:\n%s", name, pair[0], name, pair[1], hosts)
		}
	}
	eventually(t, "replica 4 joins the rotation", func() error {
		for range 8 {
			if s, _ := get(fmt.Sprintf("http://127.0.0.1:%d/", port)); s == name+"-4" {
				return nil
			}
		}
		return fmt.Errorf("%s-4 never answered", name)
	})
	must(t, "scale", name, "2")
	if got := must(t, "ps", "-a", "-q", "--filter", "name="+name+"-3"); got != "" {
		t.Errorf("scale 2 left replica 3: %q", got)
	}
}

func TestReplicasLeastConnectionsPrefersIdle(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	name, port := replicated(t, 3, "least-connections", "tcp")
	// Hold one connection open (an unfinished request) on one backend.
	held, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	fmt.Fprintf(held, "GET / HTTP/1.0\r\n")
	time.Sleep(300 * time.Millisecond)
	busy := ""
	for _, b := range backends(t, name) {
		if b.Active == 1 {
			busy = b.Name
		}
	}
	if busy == "" {
		t.Fatalf("no backend holds the open connection: %+v", backends(t, name))
	}
	for range 6 {
		got, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			t.Fatal(err)
		}
		if got == busy {
			t.Errorf("least-connections sent a request to the busy backend %s", busy)
		}
	}
	fmt.Fprintf(held, "\r\n")
	if line, _ := bufio.NewReader(held).ReadString('\n'); !strings.Contains(line, "200") {
		t.Errorf("held request answered %q", line)
	}
}

type backendStats struct {
	Name    string `json:"name"`
	Active  int64  `json:"active"`
	Healthy bool   `json:"healthy"`
}

func backends(t *testing.T, service string) []backendStats {
	t.Helper()
	bs, err := backendsOf(t, service)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}

// backendsOf reads the load balancer's backends of service from inspect.
func backendsOf(t *testing.T, service string) ([]backendStats, error) {
	t.Helper()
	var in []struct {
		Budgie struct {
			LoadBalancer []struct {
				Backends []backendStats `json:"backends"`
			}
		}
	}
	json.Unmarshal([]byte(must(t, "inspect", service+"-1")), &in)
	if len(in) != 1 || len(in[0].Budgie.LoadBalancer) == 0 {
		return nil, fmt.Errorf("no load balancer stats for %s", service)
	}
	return in[0].Budgie.LoadBalancer[0].Backends, nil
}

func TestReplicaKilledBoundedFailures(t *testing.T) {
	t.Cleanup(func() { stopKeeper(t) })
	name, port := replicated(t, 3, "round-robin", "http")
	var mu sync.Mutex
	var during, after, total int
	phase := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_, err := get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			mu.Lock()
			total++
			if err != nil && phase == 1 {
				during++
			} else if err != nil && phase == 2 {
				after++
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	phase = 1
	mu.Unlock()
	must(t, "kill", name+"-2")
	// The health window: interval 300ms × retries 1, plus the exit event.
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	phase = 2
	mu.Unlock()
	time.Sleep(2 * time.Second)
	close(stop)
	<-done
	t.Logf("requests %d, failed during the health window %d, after %d", total, during, after)
	if after != 0 {
		t.Errorf("%d requests failed after the health window", after)
	}
	if during > 3 {
		t.Errorf("%d requests failed during the health window, want at most 3", during)
	}
}

func TestParallelStartsDistinctAddresses(t *testing.T) {
	u := uniq()
	var body strings.Builder
	body.WriteString("containers:\n")
	var names []string
	for i := range 20 {
		n := fmt.Sprintf("par%s-%d", u, i)
		names = append(names, n)
		body.WriteString(indent("name: " + n + "\nimage: " + cliImage + "\nargs: [sleep, \"3600\"]\n"))
	}
	runBundle(t, body.String(), names...)
	seen := map[string]string{}
	for _, n := range names {
		ip := ipOn(t, n, "budgie0")
		if other, dup := seen[ip]; dup {
			t.Errorf("%s and %s share %s", n, other, ip)
		}
		seen[ip] = n
	}
}

// lastLines is the end of a log.
func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
