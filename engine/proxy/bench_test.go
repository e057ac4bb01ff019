package proxy

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime(tb testing.TB) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// reportCPU runs fn (the timed part of a benchmark) and reports the
// process's CPU time per op beside the wall time (with every goroutine
// busy, wall time hides the wakeups and syscalls that cost CPU), and its
// user part alone (the kernel's part is mostly the syscalls' fixed cost).
func reportCPU(b *testing.B, fn func()) {
	b.ResetTimer()
	user, sys := cpuTime(b)
	fn()
	b.StopTimer()
	user2, sys2 := cpuTime(b)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(per(user2-user+sys2-sys), "cpu-µs/op")
	b.ReportMetric(per(user2-user), "usr-µs/op")
}

// wrkClient is a keep-alive HTTP/1.1 client as lean as wrk's: one request
// written as is, the answer read up to its Content-Length, nothing kept.
type wrkClient struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func dialWrk(addr string) (*wrkClient, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &wrkClient{c: c, br: bufio.NewReaderSize(c, 16<<10), req: []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")}, nil
}

// get sends the request and reads a 200 answer with a Content-Length body.
func (w *wrkClient) get() error {
	if _, err := w.c.Write(w.req); err != nil {
		return err
	}
	line, err := w.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status line %q", line)
	}
	n := -1
	for {
		line, err = w.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(line) <= 2 {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimRight(v, "\r\n")))
		}
	}
	if n < 0 {
		return fmt.Errorf("answer without content-length")
	}
	_, err = w.br.Discard(n)
	return err
}

// benchWrk is wrk -c 64 against addr: 64 keep-alive connections, each
// sending its next request when the last answer is read.
func benchWrk(b *testing.B, addr string) {
	const conns = 64
	b.SetParallelism((conns + 1) / 2) // × GOMAXPROCS goroutines; 64 on 2 cores
	reportCPU(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			w, err := dialWrk(addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer w.c.Close()
			for pb.Next() {
				if err := w.get(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkHTTPProxyParallel is the case the proxy's CPU per request is
// measured on (make bench): wrk-like keep-alive clients, 64 at once,
// through the proxy to 3 Go HTTP backends.
func BenchmarkHTTPProxyParallel(b *testing.B) {
	p := New(Options{})
	defer p.Close()
	bs := []Backend{httpBackend(b, "a", nil), httpBackend(b, "b", nil), httpBackend(b, "c", nil)}
	k := publish(b, p, ServiceConfig{Name: "web", Protocol: "http", Backends: bs})
	benchWrk(b, fmt.Sprintf("127.0.0.1:%d", k.HostPort))
}

// BenchmarkHTTPDirectParallel is BenchmarkHTTPProxyParallel's baseline:
// the same clients against one backend without the proxy.
func BenchmarkHTTPDirectParallel(b *testing.B) {
	benchWrk(b, httpBackend(b, "a", nil).Addr)
}

// loadgenEnv makes the test binary the load generator of
// BenchmarkHTTPProxyProcess (see TestMain).
const loadgenEnv = "BUDGIE_PROXY_TEST_LOADGEN"

func TestMain(m *testing.M) {
	if os.Getenv(loadgenEnv) != "" {
		if err := runLoadgen(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runLoadgen serves 3 Go HTTP backends and prints their addresses on one
// line; then, for each line "ADDR N" it reads, it sends N requests to ADDR
// over 64 keep-alive connections (as wrk -c 64) and prints "ok".
func runLoadgen(in io.Reader, out io.Writer) error {
	var addrs []string
	for _, name := range []string{"a", "b", "c"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, name) }))
		addrs = append(addrs, ln.Addr().String())
	}
	fmt.Fprintln(out, strings.Join(addrs, " "))
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var addr string
		var n int64
		if _, err := fmt.Sscan(sc.Text(), &addr, &n); err != nil {
			return err
		}
		if err := wrk(addr, n, 64); err != nil {
			return err
		}
		fmt.Fprintln(out, "ok")
	}
	return sc.Err()
}

// wrk sends n requests to addr over conns keep-alive connections.
func wrk(addr string, n int64, conns int) error {
	var left atomic.Int64
	left.Store(n)
	errs := make(chan error, conns)
	for range conns {
		go func() {
			w, err := dialWrk(addr)
			if err != nil {
				errs <- err
				return
			}
			defer w.c.Close()
			for left.Add(-1) >= 0 {
				if err := w.get(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range conns {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// BenchmarkHTTPProxyProcess is BenchmarkHTTPProxyParallel with the clients
// and the backends in another process, as in make bench: its cpu-µs/op is
// the proxy's own CPU per request, wakeups included (a busy process of
// clients, backends and proxy always has a goroutine to run).
func BenchmarkHTTPProxyProcess(b *testing.B) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), loadgenEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		b.Fatal("loadgen printed no backends")
	}
	var bs []Backend
	for i, addr := range strings.Fields(lines.Text()) {
		name := string(rune('a' + i))
		bs = append(bs, Backend{ID: name, Name: name, Addr: addr, Healthy: true})
	}
	p := New(Options{})
	defer p.Close()
	k := publish(b, p, ServiceConfig{Name: "web", Protocol: "http", Backends: bs})
	reportCPU(b, func() {
		fmt.Fprintf(stdin, "127.0.0.1:%d %d\n", k.HostPort, b.N)
		if !lines.Scan() || lines.Text() != "ok" {
			b.Fatalf("loadgen: %q", lines.Text())
		}
	})
}
