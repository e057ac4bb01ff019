package volsync

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestOtherVersionRefused: a replica and a primary of different protocol
// versions (say, one still hashing blocks with SHA-256) refuse each other
// with an error that names both versions and says what to do, on both
// sides of the handshake.
func TestOtherVersionRefused(t *testing.T) {
	t.Run("old replica", func(t *testing.T) {
		prim := t.TempDir()
		writeFile(t, filepath.Join(prim, "f"), []byte("x"), 0o644)
		addr := startServer(t, map[string]string{"data": prim}, nil)
		conn, err := tls.Dial("tcp", addr, clientTLS(t))
		mustDo(t, err)
		defer conn.Close()
		fr, fw := newFrameReader(conn, 0), newFrameWriter(conn)
		var e enc
		e.raw([]byte(magic))
		e.u16(ProtocolVersion - 1)
		mustDo(t, fw.write(msgHello, e.b))
		mustDo(t, fw.flush())
		typ, p, err := fr.next()
		if err != nil || typ != msgError {
			t.Fatalf("answer to an old hello: 0x%02x, %v; want an error frame", typ, err)
		}
		err = decodeError(p)
		want := "protocol version 2 is not supported (this node speaks 3; run the same Budgie release on both nodes"
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v; want ErrProtocol containing %q", err, want)
		}
	})
	t.Run("old primary", func(t *testing.T) {
		ln := listenTLS(t)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
			if fr, _, ok := welcome(conn, ProtocolVersion-1); ok {
				fr.next()
			}
		}()
		raw, err := tls.Dial("tcp", ln.Addr().String(), clientTLS(t))
		mustDo(t, err)
		defer raw.Close()
		_, err = Dial(context.Background(), raw, ClientOptions{})
		want := "primary answered with protocol version 2, want 3 (run the same Budgie release on both nodes"
		if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
			t.Fatalf("Dial = %v; want ErrProtocol containing %q", err, want)
		}
	})
}
