//go:build integration

package discovery_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// simArg makes the test binary act as a simulated node (in a namespace):
// a keeper's discovery service over a synthetic container source.
const simArg = "_sim-node"

// netLab is namespaces on a bridge, without keepers or containerd: what
// the scale benchmarks need. Names follow testkit's lab names, so that
// testkit.CleanStaleLabs removes what a killed run leaves.
type netLab struct {
	name     string // the bridge, and the prefix of every name
	ns       []string
	borrowed bool // the bridge is a testkit lab's: close leaves it
}

// startNetLab makes n namespaces joined to a new bridge, each with lab0 at
// 10.231.0.<i>/24 and a multicast route.
func startNetLab(tb testing.TB, n int) *netLab {
	tb.Helper()
	if err := testkit.CleanStaleLabs(); err != nil {
		tb.Fatal(err)
	}
	l := &netLab{name: fmt.Sprintf("%s%s-s%s", testkit.LabPrefix, strconv.FormatInt(int64(os.Getpid()), 36), strconv.FormatInt(time.Now().UnixNano()%36, 36))}
	tb.Cleanup(l.close)
	ipRun(tb, "link", "add", l.name, "type", "bridge")
	_ = exec.Command("ip", "link", "set", l.name, "type", "bridge", "mcast_snooping", "0").Run()
	ipRun(tb, "link", "set", l.name, "up")
	for i := 1; i <= n; i++ {
		l.addNS(tb, i)
	}
	return l
}

// joinLab makes n namespaces on a testkit lab's bridge, numbered (and
// addressed 10.231.0.<i>) from first on, clear of the lab's own nodes.
func joinLab(tb testing.TB, lab *testkit.Lab, first, n int) *netLab {
	tb.Helper()
	l := &netLab{name: lab.Name, borrowed: true}
	tb.Cleanup(l.close)
	for i := first; i < first+n; i++ {
		l.addNS(tb, i)
	}
	return l
}

// addNS makes namespace i: a veth pair on the bridge, lab0 at
// 10.231.0.<i>/24, and a multicast route.
func (l *netLab) addNS(tb testing.TB, i int) {
	tb.Helper()
	ns, host := fmt.Sprintf("%s-%d", l.name, i), fmt.Sprintf("%sv%d", l.name, i)
	l.ns = append(l.ns, ns)
	ipRun(tb, "netns", "add", ns)
	ipRun(tb, "link", "add", host, "type", "veth", "peer", "name", testkit.LabIface, "netns", ns)
	ipRun(tb, "link", "set", host, "master", l.name, "up")
	ipRun(tb, "-n", ns, "link", "set", "lo", "up")
	ipRun(tb, "-n", ns, "addr", "add", fmt.Sprintf("10.231.0.%d/24", i), "dev", testkit.LabIface)
	ipRun(tb, "-n", ns, "link", "set", testkit.LabIface, "up")
	ipRun(tb, "-n", ns, "route", "add", "224.0.0.0/4", "dev", testkit.LabIface)
}

// ipRun runs ip with args or fails tb.
func ipRun(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		tb.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (l *netLab) close() {
	for _, ns := range l.ns {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
	if !l.borrowed {
		_ = exec.Command("ip", "link", "del", l.name).Run()
	}
}

// sim is a simulated node's process.
type sim struct {
	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{}
}

// startSim runs a simulated node with containers containers in ns; it
// reports "listed <ms>" once its browser lists expect containers.
func startSim(tb testing.TB, ns string, index, containers, expect int) *sim {
	tb.Helper()
	cmd := exec.Command("nsenter", "--net=/run/netns/"+ns, "--", os.Args[0], simArg, strconv.Itoa(index), strconv.Itoa(containers), strconv.Itoa(expect))
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &sim{cmd: cmd, lines: make(chan string, 16), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() { _ = cmd.Wait(); close(s.exited) }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	return s
}

// listed waits for the sim's "listed" line and returns its figure.
func (s *sim) listed(tb testing.TB, timeout time.Duration) time.Duration {
	tb.Helper()
	select {
	case l := <-s.lines:
		ms, err := strconv.ParseFloat(strings.TrimPrefix(l, "listed "), 64)
		if err != nil {
			tb.Fatalf("sim said %q", l)
		}
		return time.Duration(ms * float64(time.Millisecond))
	case <-s.exited:
		tb.Fatal("sim exited")
	case <-time.After(timeout):
		tb.Fatalf("sim did not list everything within %v", timeout)
	}
	return 0
}

// BenchmarkScale runs 20 simulated nodes of 100 containers each (a
// keeper's discovery service each, over real multicast between network
// namespaces on a bridge), then a 21st node joins. It reports the time
// until the newcomer lists all 2,000 containers (join-list-ms), the
// packets per second on the LAN at rest (idle-pkts/s, over 30 s after
// 20 s of settling) and the CPU of the nodes at rest (max-cpu-%, mean-cpu-%).
func BenchmarkScale(b *testing.B) {
	const nodes, per = 20, 100
	lab := startNetLab(b, nodes+1)
	sims := make([]*sim, nodes)
	for i := range sims {
		sims[i] = startSim(b, lab.ns[i], i+1, per, nodes*per)
	}
	for _, s := range sims {
		s.listed(b, 60*time.Second)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		joiner := startSim(b, lab.ns[nodes], nodes+1, 0, nodes*per)
		d := joiner.listed(b, 30*time.Second)
		b.ReportMetric(float64(d.Microseconds())/1000, "join-list-ms")
		b.Logf("a node joining %d nodes × %d containers listed all %d in %v", nodes, per, nodes*per, d)
	}
	b.StopTimer()
	time.Sleep(20 * time.Second)
	ct := countMDNS(b, lab.ns[0])
	before, t0 := ct.n.Load(), time.Now()
	ticks0 := make([]int64, len(sims))
	for i, s := range sims {
		ticks0[i], _ = cpuTicks(s.cmd.Process.Pid)
	}
	time.Sleep(30 * time.Second)
	secs := time.Since(t0).Seconds()
	var worst, sum float64
	for i, s := range sims {
		t1, _ := cpuTicks(s.cmd.Process.Pid)
		pct := float64(t1-ticks0[i]) / clockTicks / secs * 100
		worst, sum = max(worst, pct), sum+pct
	}
	b.ReportMetric(float64(ct.n.Load()-before)/secs, "idle-pkts/s")
	b.ReportMetric(worst, "max-cpu-%")
	b.ReportMetric(sum/float64(len(sims)), "mean-cpu-%")
}

// runSim is the simulated node: args are its index, its number of
// containers and how many containers its browser must list before it
// prints "listed <ms since start>". It runs until SIGTERM.
func runSim(args []string) int {
	start := time.Now()
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "sim: want index containers expect")
		return 2
	}
	index, _ := strconv.Atoi(args[0])
	n, _ := strconv.Atoi(args[1])
	expect, _ := strconv.Atoi(args[2])
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	svc, err := discovery.New(discovery.Options{Source: newSimSource(index, n), NodeID: fmt.Sprintf("%012x%020x", 0xb0000+index, 0),
		NodeName: fmt.Sprintf("sim%02d", index), Interfaces: []string{testkit.LabIface}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		return 1
	}
	go func() {
		for ctx.Err() == nil {
			total := 0
			for _, node := range svc.Nodes() {
				total += len(node.Containers)
			}
			if total >= expect {
				fmt.Printf("listed %.1f\n", float64(time.Since(start).Microseconds())/1000)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	_ = svc.Run(ctx)
	return 0
}

// simSource is a synthetic runtime: n running containers, no events.
type simSource struct{ cs []models.Container }

func newSimSource(index, n int) *simSource {
	s := &simSource{}
	for i := range n {
		s.cs = append(s.cs, models.Container{ID: fmt.Sprintf("%012x%052x", index<<16|i, 0), Name: fmt.Sprintf("c%03d", i),
			Image: "localhost/budgie-lab:latest", State: models.StateRunning,
			Ports: []models.PortMapping{{HostPort: uint16(20000 + i), ContainerPort: 80, Protocol: "tcp"}}})
	}
	return s
}

func (s *simSource) List(context.Context, runtime.ListOptions) ([]models.Container, error) {
	return s.cs, nil
}

func (s *simSource) Status(_ context.Context, id string) (runtime.Status, error) {
	for _, c := range s.cs {
		if c.ID == id {
			return runtime.Status{Container: c}, nil
		}
	}
	return runtime.Status{}, fmt.Errorf("no container %s", id)
}

func (s *simSource) Events(ctx context.Context) (<-chan models.Event, <-chan error) {
	return make(chan models.Event), make(chan error)
}
