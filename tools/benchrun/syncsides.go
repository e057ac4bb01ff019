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
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
// in a process of its own (see syncserver.go); every sync dials a new
// Client from this process, as a replica would.
type budgieSync struct {
	addr   string
	client *tls.Config
	server *syncProcess
}

// startBudgieSync serves vols (name → directory) to one client
// certificate; its config goes into work.
func startBudgieSync(vols map[string]string, work string) (*budgieSync, error) {
	srvCert, srvPool, err := benchCert("bench-primary")
	if err != nil {
		return nil, err
	}
	cliCert, _, err := benchCert("bench-replica")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cliCert.Certificate[0])
	certPEM, keyPEM, err := pemOf(srvCert)
	if err != nil {
		return nil, err
	}
	cliPEM, _, err := pemOf(cliCert)
	if err != nil {
		return nil, err
	}
	proc, addr, err := startSyncProcess(work, syncServerConfig{CertPEM: certPEM, KeyPEM: keyPEM, ClientCAPEM: cliPEM,
		ClientFingerprint: hex.EncodeToString(sum[:]), Volumes: vols})
	if err != nil {
		return nil, err
	}
	return &budgieSync{addr: addr, server: proc,
		client: &tls.Config{Certificates: []tls.Certificate{cliCert}, RootCAs: srvPool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}}, nil
}

// sync copies volume into dst over a fresh connection and times it. The
// bytes are counted at the client's TCP socket, both directions: TLS
// records and the handshake included, TCP/IP headers not.
func (b *budgieSync) sync(volume, dst string) (syncResult, error) {
	ctx := context.Background()
	start := time.Now()
	raw, err := net.Dial("tcp", b.addr)
	if err != nil {
		return syncResult{}, fmt.Errorf("budgie sync: connect to %s: %w", b.addr, err)
	}
	cc := &countingConn{Conn: raw}
	c, err := volsync.Dial(ctx, tls.Client(cc, b.client), volsync.ClientOptions{})
	if err != nil {
		raw.Close()
		return syncResult{}, err
	}
	_, err = c.Sync(ctx, volume, dst, volsync.SyncOptions{})
	c.Close()
	secs := time.Since(start).Seconds()
	if err != nil {
		return syncResult{}, fmt.Errorf("budgie sync of %s: %w", volume, err)
	}
	return syncResult{secs: secs, bytes: float64(cc.total())}, nil
}

// countingConn counts the bytes read from and written to a connection.
type countingConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// total is every byte that crossed the connection so far.
func (c *countingConn) total() int64 { return c.read.Load() + c.written.Load() }

func (b *budgieSync) close() { b.server.stop() }

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
	cmd     *exec.Cmd
	port    int
	version string // "3.2.7", from rsync --version
}

// rsyncFsyncSince is the first rsync release with --fsync.
var rsyncFsyncSince = [3]int{3, 2, 4}

var rsyncVersionRE = regexp.MustCompile(`^rsync\s+version\s+v?([0-9]+)\.([0-9]+)\.([0-9]+)`)

// parseRsyncVersion reads the version from the first line of rsync --version.
func parseRsyncVersion(out string) ([3]int, string, error) {
	m := rsyncVersionRE.FindStringSubmatch(out)
	if m == nil {
		first, _, _ := strings.Cut(out, "\n")
		return [3]int{}, "", fmt.Errorf("sync: cannot read the version in rsync --version: %q", first)
	}
	var v [3]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v, fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]), nil
}

// checkRsync returns the installed rsync's version, refusing one without
// --fsync: the durable peer is the comparison at equal durability.
func checkRsync() (string, error) {
	out, err := exec.Command("rsync", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("sync: rsync is not installed (make bench-deps): %w", err)
	}
	v, text, err := parseRsyncVersion(string(out))
	if err != nil {
		return "", err
	}
	if slices.Compare(v[:], rsyncFsyncSince[:]) < 0 {
		return "", fmt.Errorf("sync: rsync %s has no --fsync, the durable peer (needs %d.%d.%d or later; try: make bench-deps)",
			text, rsyncFsyncSince[0], rsyncFsyncSince[1], rsyncFsyncSince[2])
	}
	return text, nil
}

// startRsync writes a config for the modules (name → directory) into work
// and starts `rsync --daemon --no-detach` on a free port.
func startRsync(mods map[string]string, work string) (*rsyncDaemon, error) {
	version, err := checkRsync()
	if err != nil {
		return nil, err
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
	d := &rsyncDaemon{cmd: cmd, port: port, version: version}
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

// sync runs `rsync -a --stats --no-human-readable [flags] rsync://127.0.0.1:PORT/mod/ dst/`
// (--stats and --no-human-readable only print the totals as plain
// numbers) and reads the client's bytes sent and received.
func (d *rsyncDaemon) sync(mod, dst string, flags ...string) (syncResult, error) {
	args := append([]string{"-a", "--stats", "--no-human-readable"}, flags...)
	args = append(args, fmt.Sprintf("rsync://127.0.0.1:%d/%s/", d.port, mod), dst+"/")
	secs, out, err := timed(exec.Command("rsync", args...))
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
