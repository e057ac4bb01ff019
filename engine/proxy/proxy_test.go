package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// httpBackend serves its name over HTTP on 127.0.0.1; hold makes requests
// to /hold wait until the channel closes.
func httpBackend(t testing.TB, name string, hold chan struct{}) Backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" && hold != nil {
			<-hold
		}
		fmt.Fprint(w, name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return Backend{ID: name, Name: name, Addr: ln.Addr().String(), Healthy: true}
}

// tcpEcho echoes each connection, prefixed with its name, until EOF, then
// writes "bye" and closes (so half-close is observable).
func tcpEcho(t testing.TB, name string) (Backend, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fmt.Fprintf(c, "%s:", name)
				io.Copy(c, c)
				fmt.Fprint(c, "bye")
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return Backend{ID: name, Name: name, Addr: ln.Addr().String(), Healthy: true}, ln
}

func publish(t testing.TB, p *Proxy, cfg ServiceConfig) Key {
	t.Helper()
	if cfg.HostIP == "" {
		cfg.HostIP = "127.0.0.1"
	}
	k, err := p.Publish(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Unpublish(k) })
	return k
}

// oneShot opens a new connection per request, so that a tcp port (balanced
// per connection) sees each request as a new connection.
var oneShot = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func fetch(t testing.TB, k Key, path string) string {
	t.Helper()
	resp, err := oneShot.Get(fmt.Sprintf("http://127.0.0.1:%d%s", k.HostPort, path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	return string(b)
}

func TestRoundRobinExactSequence(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	bs := []Backend{httpBackend(t, "a", nil), httpBackend(t, "b", nil), httpBackend(t, "c", nil)}
	for _, proto := range []string{"http", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			k := publish(t, p, ServiceConfig{Name: "web", Protocol: proto, Backends: bs})
			var got []string
			for range 7 {
				got = append(got, fetch(t, k, "/"))
			}
			if s := strings.Join(got, ""); s != "abcabca" {
				t.Errorf("sequence %q, want abcabca", s)
			}
		})
	}
}

func TestLeastConnectionsPrefersIdle(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	hold := make(chan struct{})
	a, b := httpBackend(t, "a", hold), httpBackend(t, "b", hold)
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Strategy: LeastConnections, Backends: []Backend{a, b}})
	done := make(chan string)
	go func() { done <- fetch(t, k, "/hold") }()
	// Wait until the held request is active on one backend.
	var busy string
	for deadline := time.Now().Add(5 * time.Second); busy == "" && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		for _, s := range p.Services()[0].Backends {
			if s.Active == 1 {
				busy = s.Name
			}
		}
	}
	if busy == "" {
		t.Fatal("the held request never became active")
	}
	for range 5 {
		if got := fetch(t, k, "/"); got == busy {
			t.Errorf("request went to the busy backend %s", busy)
		}
	}
	close(hold)
	if got := <-done; got != busy {
		t.Errorf("held request answered by %s, counted on %s", got, busy)
	}
}

func TestUnhealthyOutAndBackIn(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	a, b := httpBackend(t, "a", nil), httpBackend(t, "b", nil)
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{a, b}})
	b.Healthy = false
	p.SetBackends(k, []Backend{a, b})
	for range 4 {
		if got := fetch(t, k, "/"); got != "a" {
			t.Fatalf("unhealthy b served a request")
		}
	}
	b.Healthy = true
	p.SetBackends(k, []Backend{a, b})
	seen := map[string]bool{}
	for range 4 {
		seen[fetch(t, k, "/")] = true
	}
	if !seen["b"] {
		t.Errorf("b never came back: %v", seen)
	}
	// No healthy backend: 503, not a hang.
	a.Healthy, b.Healthy = false, false
	p.SetBackends(k, []Backend{a, b})
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", k.HostPort))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("no healthy backend: %v %v", err, resp)
	}
}

func TestDeadBackendIsRetried(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	a := httpBackend(t, "a", nil)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close() // a port nothing listens on: connection refused
	for _, proto := range []string{"http", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			k := publish(t, p, ServiceConfig{Name: "web", Protocol: proto,
				Backends: []Backend{{ID: "d", Name: "d", Addr: deadAddr, Healthy: true}, a}})
			for range 6 {
				if got := fetch(t, k, "/"); got != "a" {
					t.Fatalf("got %q", got)
				}
			}
			st := p.Services()
			var d int64 = -1
			for _, s := range st {
				if s.HostPort == k.HostPort {
					for _, b := range s.Backends {
						if b.Name == "d" {
							d = b.Failures
						}
					}
				}
			}
			if d < 1 {
				t.Errorf("refusals not counted as failures: %d", d)
			}
		})
	}
}

func TestPortConflictNamesHolder(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := uint16(held.Addr().(*net.TCPAddr).Port)
	_, err = p.Publish(context.Background(), ServiceConfig{Name: "web", HostIP: "127.0.0.1", HostPort: port})
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("publish on a held port: %v", err)
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	want := fmt.Sprintf("%s (pid %d)", strings.TrimSpace(string(comm)), os.Getpid())
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Errorf("error %q does not name %s and port %d", err, want, port)
	}
	// Between two services, the error names the service.
	k := publish(t, p, ServiceConfig{Name: "first"})
	_, err = p.Publish(context.Background(), ServiceConfig{Name: "second", HostPort: k.HostPort})
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "budgie service first") {
		t.Errorf("second service on first's port: %v", err)
	}
}

func TestRandomPortsDistinct(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	seen := map[uint16]bool{}
	for range 50 {
		k := publish(t, p, ServiceConfig{Name: "r"})
		if k.HostPort == 0 || seen[k.HostPort] {
			t.Fatalf("random port %d repeated or zero", k.HostPort)
		}
		seen[k.HostPort] = true
	}
}

func TestTCPHalfClose(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	b, _ := tcpEcho(t, "e")
	k := publish(t, p, ServiceConfig{Name: "echo", Protocol: "tcp", Backends: []Backend{b}})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", k.HostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "hello")
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "e:hellobye" {
		t.Errorf("after half-close read %q, %v; want the echo and the backend's last words", got, err)
	}
	st := p.Services()[0].Backends[0]
	if st.BytesIn != 5 || st.BytesOut != int64(len("e:hellobye")) || st.Requests != 1 {
		t.Errorf("stats %+v", st)
	}
	for deadline := time.Now().Add(2 * time.Second); p.Services()[0].Backends[0].Active != 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if a := p.Services()[0].Backends[0].Active; a != 0 {
		t.Errorf("active %d after the connection closed", a)
	}
}

func TestUDPRoundTrip(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte("u:"), buf[:n]...), from)
		}
	}()
	k := publish(t, p, ServiceConfig{Name: "dns", Protocol: "udp",
		Backends: []Backend{{ID: "u", Name: "u", Addr: pc.LocalAddr().String(), Healthy: true}}})
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", k.HostPort))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"ping", "pong"} {
		c.Write([]byte(msg))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "u:"+msg {
			t.Fatalf("udp answer %q, %v", buf[:n], err)
		}
	}
}

func TestCountersAndConcurrency(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	bs := []Backend{httpBackend(t, "a", nil), httpBackend(t, "b", nil)}
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: bs})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				fetch(t, k, "/")
			}
		}()
	}
	wg.Wait()
	var total int64
	for _, b := range p.Services()[0].Backends {
		total += b.Requests
		if b.Requests != 100 || b.Active != 0 || b.Failures != 0 || b.BytesOut != 100 {
			t.Errorf("backend %s: %+v, want 100 requests of 1 byte, none active", b.Name, b)
		}
	}
	if total != 200 {
		t.Errorf("total %d requests", total)
	}
}

func TestPortHolderNotFound(t *testing.T) {
	if _, ok := PortHolder("tcp", 1); ok {
		t.Errorf("found a holder of port 1")
	}
}

func BenchmarkHTTPProxy(b *testing.B) {
	p := New(Options{})
	defer p.Close()
	k := publish(b, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{httpBackend(b, "a", nil)}})
	url := fmt.Sprintf("http://127.0.0.1:%d/", k.HostPort)
	parallelGets(b, url)
}

func BenchmarkTCPProxy(b *testing.B) {
	p := New(Options{})
	defer p.Close()
	be, _ := tcpEcho(b, "e")
	k := publish(b, p, ServiceConfig{Name: "echo", Protocol: "tcp", Backends: []Backend{be}})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", k.HostPort))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	r.ReadString(':')
	msg := []byte(strings.Repeat("x", 1024))
	buf := make([]byte, len(msg))
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for range b.N {
		c.Write(msg)
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHTTPDirect is BenchmarkHTTPProxy's baseline: the same backend
// and client without the proxy.
func BenchmarkHTTPDirect(b *testing.B) {
	be := httpBackend(b, "a", nil)
	url := "http://" + be.Addr + "/"
	parallelGets(b, url)
}

// parallelGets GETs url from GOMAXPROCS keep-alive clients for b.N
// requests in all, reporting CPU per request.
func parallelGets(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	reportCPU(b, func() {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Get(url)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
}
