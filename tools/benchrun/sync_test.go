package main

import (
	"io"
	"net"
	"testing"
)

func TestParseRsyncStats(t *testing.T) {
	tests := []struct {
		name, out string
		want      float64
		ok        bool
	}{
		{"plain", "Total bytes sent: 100137\nTotal bytes received: 38\n", 100175, true},
		{"grouped", "Total bytes sent: 1,000,137\nTotal bytes received: 1,038\n", 1001175, true},
		{"missing", "rsync error: some files could not be transferred\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRsyncStats(tt.out)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseRsyncStats = %v, %v; want %v (ok %v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestSizeText(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{1 << 30, "1 GiB"}, {224 << 20, "224 MiB"}, {10737418, "10.24 MiB"}, {256 << 10, "256 KiB"}, {100, "100 B"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := sizeText(tt.n); got != tt.want {
				t.Fatalf("sizeText(%d) = %q", tt.n, got)
			}
		})
	}
}

func TestParseRsyncVersion(t *testing.T) {
	tests := []struct {
		name, out, want string
		ok              bool
	}{
		{"bookworm", "rsync  version 3.2.7  protocol version 31\nCopyright (C) 1996-2022\n", "3.2.7", true},
		{"v-prefix", "rsync  version v3.5.0  protocol version 32\n", "3.5.0", true},
		{"garbage", "openrsync: protocol version 29\n", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got, err := parseRsyncVersion(tt.out)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseRsyncVersion = %q, %v; want %q (ok %v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

// TestCountingConn counts what crosses a real loopback TCP connection in
// both directions.
func TestCountingConn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 100)
		io.ReadFull(c, buf)
		c.Write(buf[:40])
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: raw}
	defer cc.Close()
	if _, err := cc.Write(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cc, make([]byte, 40)); err != nil {
		t.Fatal(err)
	}
	if cc.read.Load() != 40 || cc.written.Load() != 100 || cc.total() != 140 {
		t.Fatalf("counted read %d, written %d, total %d; want 40, 100, 140", cc.read.Load(), cc.written.Load(), cc.total())
	}
}
