package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawBackend serves each connection with fn, on 127.0.0.1.
func rawBackend(t testing.TB, fn func(c net.Conn)) Backend {
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
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return Backend{ID: "raw", Name: "raw", Addr: ln.Addr().String(), Healthy: true}
}

// closedWithin reports whether the connection ends (EOF or reset) within
// d, discarding what comes before.
func closedWithin(c net.Conn, d time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if err == nil || errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	return err
}

func TestOversizedHeads(t *testing.T) {
	p := New(Options{MaxHeaderBytes: 4 << 10})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{httpBackend(t, "a", nil)}})
	big := rawBackend(t, func(c net.Conn) {
		http.ReadRequest(bufioReader(c))
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\nok", strings.Repeat("b", 64<<10))
	})
	kb := publish(t, p, ServiceConfig{Name: "big", Protocol: "http", Backends: []Backend{big}})
	for _, tc := range []struct {
		name string
		key  Key
		head string
		want int
	}{
		{"fits", k, "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 3<<10) + "\r\n\r\n", 200},
		{"one long line", k, "GET / HTTP/1.1\r\nHost: x\r\nX-A: " + strings.Repeat("a", 20<<10) + "\r\n\r\n", 431},
		{"long target", k, "GET /" + strings.Repeat("a", 40<<10) + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
		{"many lines", k, "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: "+strings.Repeat("a", 1000)+"\r\n", 40) + "\r\n", 431},
		{"many fields", k, "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-A: a\r\n", 200) + "\r\n", 431},
		{"backend head", kb, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialProxy(t, tc.key)
			go io.WriteString(c, tc.head) // the proxy may answer before it reads it all
			resp, _, _, err := readFinal(br, "GET")
			if err != nil || resp.StatusCode != tc.want {
				t.Fatalf("got %v %v, want %d", resp, err, tc.want)
			}
		})
	}
}

func TestSlowlorisHead(t *testing.T) {
	p := New(Options{HeaderTimeout: 500 * time.Millisecond, IdleTimeout: 500 * time.Millisecond})
	defer p.Close()
	k := publish(t, p, ServiceConfig{Name: "web", Protocol: "http", Backends: []Backend{httpBackend(t, "a", nil)}})
	t.Run("trickle", func(t *testing.T) {
		c, br := dialProxy(t, k)
		start := time.Now()
		go func() {
			for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("s", 100)) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		resp, _, _, err := readFinal(br, "GET")
		if err != nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("got %v %v, want 408", resp, err)
		}
		if err := closedWithin(c, time.Second); err != nil || time.Since(start) > 2*time.Second {
			t.Errorf("not closed in time: %v after %v", err, time.Since(start))
		}
	})
	t.Run("silent", func(t *testing.T) {
		c, _ := dialProxy(t, k)
		start := time.Now()
		if err := closedWithin(c, 2*time.Second); err != nil {
			t.Errorf("silent connection kept: %v after %v", err, time.Since(start))
		}
	})
	t.Run("idle keep-alive", func(t *testing.T) {
		c, br := dialProxy(t, k)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, body, _, err := readFinal(br, "GET"); err != nil || body != "a" {
			t.Fatalf("first request: %v %q", err, body)
		}
		if err := closedWithin(c, 2*time.Second); err != nil {
			t.Errorf("idle connection kept: %v", err)
		}
	})
}

func TestStalledBodies(t *testing.T) {
	p := New(Options{BodyTimeout: 300 * time.Millisecond})
	defer p.Close()
	got := make(chan error, 1)
	upload := rawBackend(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufioReader(c))
		if err == nil {
			_, err = io.ReadAll(req.Body)
		}
		got <- err
	})
	ku := publish(t, p, ServiceConfig{Name: "up", Protocol: "http", Backends: []Backend{upload}})
	stall := make(chan struct{})
	defer close(stall)
	download := rawBackend(t, func(c net.Conn) {
		http.ReadRequest(bufioReader(c))
		fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst ten.")
		<-stall
	})
	kd := publish(t, p, ServiceConfig{Name: "down", Protocol: "http", Backends: []Backend{download}})

	t.Run("client stalls its body", func(t *testing.T) {
		c, br := dialProxy(t, ku)
		fmt.Fprint(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nfirst ten.")
		resp, _, _, err := readFinal(br, "POST")
		if err != nil || resp.StatusCode != http.StatusRequestTimeout {
			t.Errorf("got %v %v, want 408", resp, err)
		}
		select {
		case err := <-got:
			if err == nil {
				t.Errorf("backend read a whole body that never came")
			}
		case <-time.After(2 * time.Second):
			t.Errorf("backend connection kept after the client stalled")
		}
	})
	t.Run("backend stalls its answer", func(t *testing.T) {
		c, br := dialProxy(t, kd)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		start := time.Now()
		// The head and the first bytes may still sit in the proxy's buffer.
		if _, body, _, err := readFinal(br, "GET"); err == nil {
			t.Errorf("got %q and no error from a truncated answer", body)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("stalled answer kept for %v", time.Since(start))
		}
	})
	t.Run("client stops reading", func(t *testing.T) {
		wrote := make(chan error, 1)
		flood := rawBackend(t, func(c net.Conn) {
			http.ReadRequest(bufioReader(c))
			fmt.Fprint(c, "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n")
			_, err := io.Copy(c, io.LimitReader(zeros{}, 1<<30))
			wrote <- err
		})
		kf := publish(t, p, ServiceConfig{Name: "flood", Protocol: "http", Backends: []Backend{flood}})
		c, _ := dialProxy(t, kf)
		fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		select {
		case err := <-wrote:
			if err == nil {
				t.Errorf("a gigabyte went to a client that reads nothing")
			}
		case <-time.After(3 * time.Second):
			t.Errorf("backend still writing to a client that stopped reading")
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestConnectionCap(t *testing.T) {
	p := New(Options{MaxConns: 2})
	defer p.Close()
	for _, proto := range []string{"http", "tcp"} {
		t.Run(proto, func(t *testing.T) {
			k := publish(t, p, ServiceConfig{Name: "web", Protocol: proto, Backends: []Backend{httpBackend(t, "a", nil)}})
			a, abr := dialProxy(t, k)
			b, _ := dialProxy(t, k)
			fmt.Fprint(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // a and b are surely accepted once a answers
			if _, body, _, err := readFinal(abr, "GET"); err != nil || body != "a" {
				t.Fatalf("first connection: %v %q", err, body)
			}
			c, _ := dialProxy(t, k)
			if err := closedWithin(c, 2*time.Second); err != nil {
				t.Errorf("third connection not refused: %v", err)
			}
			b.Close()
			deadline := time.Now().Add(3 * time.Second)
			for ; time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				d, dbr := dialProxy(t, k)
				fmt.Fprint(d, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				if _, body, _, err := readFinal(dbr, "GET"); err == nil && body == "a" {
					return
				}
			}
			t.Errorf("no connection accepted after one closed")
		})
	}
}

func TestUDPSessionCap(t *testing.T) {
	p := New(Options{MaxUDPSessions: 2})
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
			pc.WriteTo(buf[:n], from)
		}
	}()
	k := publish(t, p, ServiceConfig{Name: "dns", Protocol: "udp",
		Backends: []Backend{{ID: "u", Name: "u", Addr: pc.LocalAddr().String(), Healthy: true}}})
	ping := func(c net.Conn, msg string) error {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte(msg))
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		if err == nil && string(buf[:n]) != msg {
			err = fmt.Errorf("answer %q to %q", buf[:n], msg)
		}
		return err
	}
	var clients []net.Conn
	for i := range 5 {
		c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", k.HostPort))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		if err := ping(c, fmt.Sprint("client ", i)); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		time.Sleep(5 * time.Millisecond) // distinct last-seen times
	}
	// Each new client evicted the idlest; the first comes back as new.
	if err := ping(clients[0], "again"); err != nil {
		t.Errorf("evicted client not served again: %v", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for p.Services()[0].Backends[0].Active > 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a := p.Services()[0].Backends[0].Active; a > 2 {
		t.Errorf("%d sessions open, cap 2", a)
	}
}
