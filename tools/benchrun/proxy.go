package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// webImage is the bench image with echosrv, a small Go HTTP server.
const webImage = "docker.io/library/budgie-bench-web:1"

// wrkResult is one wrk run: requests per second and the 99th percentile latency.
type wrkResult struct {
	rps, p99   float64
	cpuPerReq  float64 // the proxy's CPU seconds per request (all its threads and processes); 0: not measured
	sysPerReq  float64 // the part of cpuPerReq spent in the kernel (stime)
	hostPerReq float64 // the whole machine's busy CPU seconds per request (every process and the kernel)
}

// proxyRows measure wrk through Budgie's load balancer over three replicas
// against nginx and HAProxy balancing the same three, and against one
// backend hit directly (the proxy's overhead, no goal): requests/s and
// p99, reps runs of each, alternated.
func (b *bench) proxyRows(ctx context.Context, repo string, reps int, dur time.Duration) ([]Row, error) {
	for _, tool := range []string{"wrk", "nginx", "haproxy"} {
		if _, err := exec.LookPath(tool); err != nil {
			return nil, fmt.Errorf("proxy: %s is not installed (make bench-deps): %w", tool, err)
		}
	}
	if err := b.loadWebImage(repo); err != nil {
		return nil, err
	}
	// The nest row left 500 containers: measure the proxy on a node that
	// runs only the service, as each side of the comparison would.
	if err := b.clear(ctx); err != nil {
		return nil, err
	}
	lbPort, nginxPort, haproxyPort := freePort(), freePort(), freePort()
	bundle := filepath.Join(b.work, "lb.bun")
	body := fmt.Sprintf("name: lb\nimage: %s\nargs: [/bin/echosrv]\nports: [\"%d:80/http\"]\nreplicas: {count: 3}\n", webImage, lbPort)
	if err := os.WriteFile(bundle, []byte(body), 0o644); err != nil {
		return nil, err
	}
	if err := run(b.budgieCmd("run", bundle)); err != nil {
		return nil, fmt.Errorf("proxy: run the replicas: %w", err)
	}
	defer b.stopKeeper()
	defer func() { _ = run(b.budgieCmd("scale", "lb", "0")) }()
	backends, err := b.replicaAddrs(ctx, "lb")
	if err != nil {
		return nil, err
	}
	stopNginx, nginxPid, err := b.startNginx(nginxPort, backends)
	if err != nil {
		return nil, err
	}
	defer stopNginx()
	stopHAProxy, haproxyPid, err := b.startHAProxy(haproxyPort, backends)
	if err != nil {
		return nil, err
	}
	defer stopHAProxy()
	keeperPid, err := b.keeperPid()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	pids := map[string]int{"budgie": keeperPid, "nginx": nginxPid, "haproxy": haproxyPid}
	urls := map[string]string{
		"direct":  "http://" + backends[0] + "/",
		"budgie":  fmt.Sprintf("http://127.0.0.1:%d/", lbPort),
		"nginx":   fmt.Sprintf("http://127.0.0.1:%d/", nginxPort),
		"haproxy": fmt.Sprintf("http://127.0.0.1:%d/", haproxyPort),
	}
	got := map[string][]wrkResult{}
	for i := -1; i < reps; i++ { // one warm-up round
		for _, side := range []string{"direct", "budgie", "nginx", "haproxy"} {
			var before cpuSplit
			if pid := pids[side]; pid > 0 {
				if before, err = treeTicks(pid); err != nil {
					return nil, fmt.Errorf("proxy: CPU time of %s: %w", side, err)
				}
			}
			hostBefore, err := hostBusyTicks()
			if err != nil {
				return nil, fmt.Errorf("proxy: the machine's CPU time: %w", err)
			}
			r, err := wrk(urls[side], dur)
			if err != nil {
				return nil, fmt.Errorf("proxy: wrk %s: %w", side, err)
			}
			hostAfter, err := hostBusyTicks()
			if err != nil {
				return nil, fmt.Errorf("proxy: the machine's CPU time: %w", err)
			}
			reqs := r.rps * dur.Seconds()
			r.hostPerReq = float64(hostAfter-hostBefore) / clockTicks / reqs
			if pid := pids[side]; pid > 0 {
				after, err := treeTicks(pid)
				if err != nil {
					return nil, fmt.Errorf("proxy: CPU time of %s: %w", side, err)
				}
				used := after.minus(before)
				r.cpuPerReq = float64(used.total()) / clockTicks / reqs
				r.sysPerReq = float64(used.sys) / clockTicks / reqs
			}
			if i >= 0 {
				got[side] = append(got[side], r)
			}
		}
	}
	return []Row{
		proxyRow("proxy: load balancer vs nginx", "nginx (Debian's nginx-light) balancing the same 3 replicas, keep-alive upstream", got["budgie"], got["nginx"], 1.2),
		proxyRow("proxy: load balancer vs HAProxy", "HAProxy (Debian's haproxy) balancing the same 3 replicas, http mode, keep-alive and connection reuse upstream", got["budgie"], got["haproxy"], 1.0),
		proxyRow("proxy: overhead against a backend hit directly", "one replica's address, no proxy", got["budgie"], got["direct"], 0),
	}, nil
}

// proxyRow compares two wrk series; goal is the minimum req/s ratio, with
// a p99 no worse than the peer's (0: no goal, the overhead row).
func proxyRow(title, peer string, bs, ps []wrkResult, goal float64) Row {
	med := func(rs []wrkResult, f func(wrkResult) float64) float64 {
		out := make([]float64, len(rs))
		for i, r := range rs {
			out[i] = f(r)
		}
		return Median(out)
	}
	rpsOf := func(r wrkResult) float64 { return r.rps }
	cpuOf := func(r wrkResult) float64 { return r.cpuPerReq }
	sysOf := func(r wrkResult) float64 { return r.sysPerReq }
	hostOf := func(r wrkResult) float64 { return r.hostPerReq }
	brps, prps := med(bs, rpsOf), med(ps, rpsOf)
	bp99, pp99 := med(bs, func(r wrkResult) float64 { return r.p99 }), med(ps, func(r wrkResult) float64 { return r.p99 })
	reps := fmt.Sprintf("%d + %d wrk runs, alternated", len(bs), len(ps))
	rpsFig := Figure{Value: brps, Unit: PerSecond}
	rps := Line{Measure: "requests/s, median", Budgie: rpsFig, Peer: Figure{Value: prps, Unit: PerSecond}, Reps: reps}
	p99 := Line{Measure: "p99 latency, median", Budgie: Dur(bp99), Peer: Dur(pp99), Reps: reps}
	cpu := Line{Measure: "proxy CPU per request, median", Budgie: Dur(med(bs, cpuOf)), Reps: reps}
	sys := Line{Measure: "↳ of it in the kernel (stime), median", Budgie: Dur(med(bs, sysOf)), Reps: reps}
	host := Line{Measure: "machine CPU per request (every process and the kernel), median",
		Budgie: Dur(med(bs, hostOf)), Peer: Dur(med(ps, hostOf)), Reps: reps}
	pc := med(ps, cpuOf)
	if pc > 0 {
		cpu.Peer, sys.Peer = Dur(pc), Dur(med(ps, sysOf))
	} else {
		cpu.Peer, sys.Peer = Figure{Text: "— (no proxy)"}, Figure{Text: "—"}
	}
	notes := []string{"wrk -t2 -c32 with keep-alive, on the same 2 cores as the proxy and the backends; " +
		"the backends are echosrv (tools/echosrv) on budgie0. Proxy CPU per request: the proxy's utime+stime " +
		"(/proc/PID/stat of the keeper, of nginx's master and workers, of HAProxy) over each wrk run, divided by the " +
		"requests it served. Machine CPU per request: /proc/stat's busy time (all but idle and iowait) over the same run, " +
		"divided the same way: the proxy, wrk, the backends and the kernel's loopback and bridge."}
	if goal > 0 {
		rps.Goal, rps.Verdict = fmt.Sprintf("≥ %.1f× the peer", goal), Verdict(rpsFig, brps >= goal*prps)
		p99.Goal, p99.Verdict = "no worse than the peer", Verdict(Dur(bp99), bp99 <= pp99)
		notes = append(notes, proxyBudget(goal, prps, pc, med(ps, sysOf), med(ps, hostOf)))
	}
	return Row{
		Title: title, Budgie: "budgie proxy (keeper), http, round-robin over 3 replicas", Peer: peer,
		Lines: []Line{rps, p99, cpu, sys, host},
		Notes: notes,
	}
}

// proxyBudget says how much CPU per request a proxy may spend to serve
// goal times the peer's rate on this machine: all its CPUs busy, and the
// rest of the work per request (wrk, backends, kernel) as measured with
// the peer (host − proxy).
func proxyBudget(goal, peerRPS, peerCPU, peerSys, peerHost float64) string {
	capacity := float64(goruntime.NumCPU()) / (goal * peerRPS) // CPU seconds per request at the goal's rate
	budget := capacity - (peerHost - peerCPU)
	spend := fmt.Sprintf("at most %s per request (the peer's proxy spent %s)", Dur(budget).String(), Dur(peerCPU).String())
	if budget <= 0 {
		spend = "nothing: the rest of each request's work alone fills the CPUs at that rate"
	}
	return fmt.Sprintf("The goal's budget: at %.1f× the peer's rate, with all %d CPUs busy and the rest of each request's work "+
		"(wrk, backends, kernel) costing what it did with the peer (%s), a proxy may spend %s. "+
		"Of the peer's proxy time, %s per request was in the kernel (its socket reads and writes).",
		goal, goruntime.NumCPU(), Dur(peerHost-peerCPU).String(), spend, Dur(peerSys).String())
}

var (
	rpsRE = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99RE = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
)

// wrk runs wrk against url for dur and parses requests/s and p99.
func wrk(url string, dur time.Duration) (wrkResult, error) {
	out, err := exec.Command("wrk", "-t2", "-c32", "-d"+strconv.Itoa(int(dur.Seconds()))+"s", "--latency", url).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("%w\n%s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads wrk's --latency report.
func parseWrk(out string) (wrkResult, error) {
	m, l := rpsRE.FindStringSubmatch(out), p99RE.FindStringSubmatch(out)
	if m == nil || l == nil {
		return wrkResult{}, fmt.Errorf("cannot read wrk's report:\n%s", out)
	}
	if strings.Contains(out, "Non-2xx") || strings.Contains(out, "Socket errors") {
		return wrkResult{}, fmt.Errorf("wrk saw errors:\n%s", out)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(l[1], 64)
	scale := map[string]float64{"us": 1e-6, "ms": 1e-3, "s": 1}[l[2]]
	return wrkResult{rps: rps, p99: v * scale}, nil
}

// clear removes every container of the bench's namespace, four at a time.
func (b *bench) clear(ctx context.Context) error {
	cs, err := b.eng.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return err
	}
	ids := make(chan string)
	errs := make(chan error, len(cs))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				if _, err := b.eng.Runtime.Remove(ctx, id, runtime.RemoveOptions{Force: true}); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, c := range cs {
		ids <- c.ID
	}
	close(ids)
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("proxy: clear the node: %w", err)
	}
	return nil
}

// loadWebImage builds echosrv statically and loads the bench web image.
func (b *bench) loadWebImage(repo string) error {
	bin := filepath.Join(b.work, "echosrv")
	cmd := exec.Command("go", "build", "-o", bin, "./tools/echosrv")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("proxy: build echosrv: %w\n%s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	return b.env.LoadBusybox(testkit.ImageOptions{Ref: webImage, Cmd: []string{"/bin/echosrv"},
		Files: map[string]string{"bin/echosrv": string(data)}})
}

// replicaAddrs returns the replicas' IP:80, in replica order.
func (b *bench) replicaAddrs(ctx context.Context, service string) ([]string, error) {
	cs, err := b.eng.Runtime.List(ctx, runtime.ListOptions{})
	if err != nil {
		return nil, err
	}
	addrs := make([]string, 3)
	for _, c := range cs {
		if c.Service == service && c.Replica >= 1 && c.Replica <= 3 && len(c.Endpoints) > 0 {
			addrs[c.Replica-1] = net.JoinHostPort(c.Endpoints[0].IP, "80")
		}
	}
	for i, a := range addrs {
		if a == "" {
			return nil, fmt.Errorf("proxy: replica %d of %s has no address", i+1, service)
		}
	}
	return addrs, nil
}

// startNginx runs nginx in the foreground as a load balancer on port over
// backends, with keep-alive to them, and returns how to stop it.
func (b *bench) startNginx(port int, backends []string) (func(), int, error) {
	dir := filepath.Join(b.work, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, 0, err
	}
	var up strings.Builder
	for _, a := range backends {
		fmt.Fprintf(&up, "    server %s;\n", a)
	}
	conf := fmt.Sprintf(`worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  upstream replicas {
%[2]s    keepalive 64;
  }
  server {
    listen 127.0.0.1:%[3]d;
    location / {
      proxy_pass http://replicas;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`, dir, up.String(), port)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, 0, err
	}
	cmd := exec.Command("nginx", "-p", dir, "-c", path, "-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("proxy: start nginx: %w", err)
	}
	// SIGTERM: nginx's master stops its workers too (SIGKILL would orphan them).
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	stop, err := listening(port, stop, fmt.Sprintf("nginx (see %s/logs/error.log)", dir))
	return stop, cmd.Process.Pid, err
}

// listening waits up to 5 s for a peer started on port to accept, and
// returns stop; if it never does, it stops the peer and says so.
func listening(port int, stop func(), what string) (func(), error) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return stop, nil
		}
	}
	stop()
	return nil, fmt.Errorf("proxy: %s did not listen on %d", what, port)
}

// startHAProxy runs HAProxy in the foreground as a load balancer on port
// over backends (http mode, round-robin, keep-alive and connection reuse
// upstream, one thread per core as nginx's workers), and returns how to
// stop it.
func (b *bench) startHAProxy(port int, backends []string) (func(), int, error) {
	dir := filepath.Join(b.work, "haproxy")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	var servers strings.Builder
	for i, a := range backends {
		fmt.Fprintf(&servers, "  server r%d %s\n", i+1, a)
	}
	conf := fmt.Sprintf(`global
  maxconn 4096
  nbthread %[1]d
defaults
  mode http
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend lb
  bind 127.0.0.1:%[2]d
  default_backend replicas
backend replicas
  balance roundrobin
%[3]s`, goruntime.NumCPU(), port, servers.String())
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, 0, err
	}
	if out, err := exec.Command("haproxy", "-c", "-f", path).CombinedOutput(); err != nil {
		return nil, 0, fmt.Errorf("proxy: haproxy refuses its configuration %s: %w\n%s", path, err, out)
	}
	cmd := exec.Command("haproxy", "-db", "-f", path)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("proxy: start haproxy: %w", err)
	}
	stop := func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }
	stop, err := listening(port, stop, "haproxy")
	return stop, cmd.Process.Pid, err
}

// stopKeeper ends the keeper that `budgie run` started for the bench.
func (b *bench) stopKeeper() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := keeper.Dial(ctx, b.env.DataDir); err == nil {
		if info, err := c.Ping(ctx); err == nil && info.Pid > 0 {
			if p, err := os.FindProcess(info.Pid); err == nil {
				_ = p.Signal(os.Interrupt)
			}
		}
	}
}

// freePort is a TCP port free on 127.0.0.1 now.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
