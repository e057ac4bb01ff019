package main

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
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/volsync"
)

// syncResult is one timed sync: wall seconds and bytes on the wire.
type syncResult struct {
	secs  float64
	bytes float64
}

// budgieSync is Budgie's side of the sync rows: a real sync.Server on
// 127.0.0.1 behind mutual TLS 1.3 with throwaway self-signed certificates,
// in this process; every sync dials a new Client, as a replica would.
type budgieSync struct {
	addr   string
	client *tls.Config
	cancel context.CancelFunc
	done   chan struct{}
}

// startBudgieSync serves vols (name → directory) to one client certificate.
func startBudgieSync(vols map[string]string) (*budgieSync, error) {
	srvCert, srvPool, err := benchCert("bench-primary")
	if err != nil {
		return nil, err
	}
	cliCert, cliPool, err := benchCert("bench-replica")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cliCert.Certificate[0])
	want := hex.EncodeToString(sum[:])
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{srvCert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: cliPool, MinVersion: tls.VersionTLS13,
	})
	if err != nil {
		return nil, fmt.Errorf("sync: listen for the budgie server: %w", err)
	}
	srv := volsync.NewServer(volsync.ServerOptions{
		Volumes:   func(n string) (string, bool) { d, ok := vols[n]; return d, ok },
		Authorize: func(p volsync.PeerInfo, _ string) bool { return p.Fingerprint == want },
	})
	ctx, cancel := context.WithCancel(context.Background())
	b := &budgieSync{addr: ln.Addr().String(), cancel: cancel, done: make(chan struct{}),
		client: &tls.Config{Certificates: []tls.Certificate{cliCert}, RootCAs: srvPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}}
	go func() { srv.Serve(ctx, ln); close(b.done) }()
	return b, nil
}

// sync copies volume into dst over a fresh connection and times it.
func (b *budgieSync) sync(volume, dst string) (syncResult, error) {
	ctx := context.Background()
	start := time.Now()
	c, err := volsync.DialTLS(ctx, b.addr, b.client, volsync.ClientOptions{})
	if err != nil {
		return syncResult{}, err
	}
	st, err := c.Sync(ctx, volume, dst, volsync.SyncOptions{})
	c.Close()
	secs := time.Since(start).Seconds()
	if err != nil {
		return syncResult{}, fmt.Errorf("budgie sync of %s: %w", volume, err)
	}
	return syncResult{secs: secs, bytes: float64(st.BytesSent + st.BytesReceived)}, nil
}

func (b *budgieSync) close() {
	b.cancel()
	<-b.done
}

// benchCert makes a throwaway self-signed ECDSA certificate for 127.0.0.1.
func benchCert(name string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("sync: make a bench certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// rsyncDaemon is the peer: Debian's rsync as a daemon on 127.0.0.1, read-only
// modules, run as root so owners are kept like Budgie's.
type rsyncDaemon struct {
	cmd  *exec.Cmd
	port int
}

// startRsync writes a config for the modules (name → directory) into work
// and starts `rsync --daemon --no-detach` on a free port.
func startRsync(mods map[string]string, work string) (*rsyncDaemon, error) {
	if _, err := exec.LookPath("rsync"); err != nil {
		return nil, fmt.Errorf("sync: rsync is not installed (make bench-deps): %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var conf strings.Builder
	conf.WriteString("use chroot = no\nuid = root\ngid = root\nmax connections = 4\n")
	for name, dir := range mods {
		fmt.Fprintf(&conf, "[%s]\n  path = %s\n  read only = yes\n", name, dir)
	}
	cfgPath := filepath.Join(work, "rsyncd.conf")
	if err := os.WriteFile(cfgPath, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command("rsync", "--daemon", "--no-detach", "--config="+cfgPath, "--port="+strconv.Itoa(port), "--address=127.0.0.1",
		"--log-file="+filepath.Join(work, "rsyncd.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sync: start the rsync daemon: %w", err)
	}
	d := &rsyncDaemon{cmd: cmd, port: port}
	for range 100 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return d, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.stop()
	return nil, errors.New("sync: the rsync daemon did not start listening within 5 s")
}

var (
	rsyncSentRE = regexp.MustCompile(`Total bytes sent: ([0-9,.]+)`)
	rsyncRecvRE = regexp.MustCompile(`Total bytes received: ([0-9,.]+)`)
)

// sync runs `rsync -a --stats --no-human-readable rsync://127.0.0.1:PORT/mod/ dst/`
// (the last two flags only print the totals as plain numbers) and reads
// the client's bytes sent and received.
func (d *rsyncDaemon) sync(mod, dst string) (syncResult, error) {
	secs, out, err := timed(exec.Command("rsync", "-a", "--stats", "--no-human-readable", fmt.Sprintf("rsync://127.0.0.1:%d/%s/", d.port, mod), dst+"/"))
	if err != nil {
		return syncResult{}, err
	}
	bytes, err := parseRsyncStats(out)
	return syncResult{secs: secs, bytes: bytes}, err
}

// parseRsyncStats adds the client's "Total bytes sent" and "received".
func parseRsyncStats(out string) (float64, error) {
	s, r := rsyncSentRE.FindStringSubmatch(out), rsyncRecvRE.FindStringSubmatch(out)
	if s == nil || r == nil {
		return 0, fmt.Errorf("sync: rsync --stats printed no byte totals:\n%s", out)
	}
	num := func(v string) float64 {
		f, _ := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
		return f
	}
	return num(s[1]) + num(r[1]), nil
}

func (d *rsyncDaemon) stop() {
	if d.cmd.Process != nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
	}
}
