package volsync

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCerts are throwaway self-signed certificates for one test binary.
type testCerts struct {
	server, client tls.Certificate
	serverPool     *x509.CertPool
	clientPool     *x509.CertPool
}

var (
	certsOnce sync.Once
	certs     testCerts
)

func selfSigned(t testing.TB, name string) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func getCerts(t testing.TB) testCerts {
	certsOnce.Do(func() {
		certs.server, certs.serverPool = selfSigned(t, "primary")
		certs.client, certs.clientPool = selfSigned(t, "replica")
	})
	return certs
}

func fingerprint(c tls.Certificate) string {
	sum := sha256.Sum256(c.Certificate[0])
	return hex.EncodeToString(sum[:])
}

// listenTLS listens on 127.0.0.1 with mutual TLS.
func listenTLS(t testing.TB) net.Listener {
	cs := getCerts(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cs.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    cs.clientPool,
		MinVersion:   tls.VersionTLS13,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func clientTLS(t testing.TB) *tls.Config {
	cs := getCerts(t)
	return &tls.Config{Certificates: []tls.Certificate{cs.client}, RootCAs: cs.serverPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
}

// startServer serves the given volumes to the test client's certificate.
func startServer(t testing.TB, vols map[string]string, mod func(*ServerOptions)) string {
	want := fingerprint(getCerts(t).client)
	opts := ServerOptions{
		Volumes:   func(n string) (string, bool) { d, ok := vols[n]; return d, ok },
		Authorize: func(p PeerInfo, v string) bool { return p.Fingerprint == want && v != "secret" },
	}
	if mod != nil {
		mod(&opts)
	}
	ln := listenTLS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { NewServer(opts).Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// dial opens a client, optionally through a conn wrapper.
func dial(t testing.TB, addr string, wrap func(net.Conn) net.Conn) *Client {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		raw = wrap(raw)
	}
	c, err := Dial(context.Background(), tls.Client(raw, clientTLS(t)), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// cutConn fails reads once limit bytes have been read.
type cutConn struct {
	net.Conn
	left atomic.Int64
}

func (c *cutConn) Read(p []byte) (int, error) {
	left := c.left.Load()
	if left <= 0 {
		c.Conn.Close()
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := c.Conn.Read(p)
	c.left.Add(-int64(n))
	return n, err
}

// treeHash describes a tree: one line per entry with kind, mode, mtime,
// size and content hash or symlink target. The root itself is left out.
func treeHash(t testing.TB, dir string) []string {
	var out []string
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return []string{"(missing)"}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		line := fmt.Sprintf("%s %v %d", rel, info.Mode(), info.ModTime().UnixNano())
		switch {
		case info.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %x", len(b), sha256.Sum256(b))
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func assertSameTree(t testing.TB, a, b string) {
	t.Helper()
	ha, hb := treeHash(t, a), treeHash(t, b)
	if !slices.Equal(ha, hb) {
		t.Fatalf("trees differ:\nprimary:\n%s\nreplica:\n%s", strings.Join(ha, "\n"), strings.Join(hb, "\n"))
	}
}

// randBytes returns n pseudo-random bytes quickly.
func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, p string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// bigSize is the size of the large test file: 100 MiB, 8 MiB with -short.
func bigSize() int {
	if testing.Short() {
		return 8 << 20
	}
	return 100 << 20
}
