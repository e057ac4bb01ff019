package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/volsync"
)

// Budgie's primary runs in a process of its own, as rsync's daemon does:
// with both sides in the benchmark's process they would share one Go
// scheduler (GOMAXPROCS threads) against rsync's three processes, which
// on a loaded machine gets rsync more of the CPU than Budgie. The
// benchmark starts itself again with syncServerEnv naming a config file;
// init then serves and never returns to main.

// syncServerEnv names the config file of the sync server process.
const syncServerEnv = "BUDGIE_BENCH_SYNC_SERVER"

// syncServerConfig is what the sync server process needs.
type syncServerConfig struct {
	CertPEM, KeyPEM   []byte            // the server's certificate and key
	ClientCAPEM       []byte            // the client's self-signed certificate
	ClientFingerprint string            // the only peer authorized
	Volumes           map[string]string // name → directory
}

func init() {
	if path := os.Getenv(syncServerEnv); path != "" {
		if err := serveSyncProcess(path); err != nil {
			fmt.Fprintln(os.Stderr, "benchrun sync server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// serveSyncProcess serves the config's volumes on 127.0.0.1, prints
// "listening ADDR" and serves until its stdin closes.
func serveSyncProcess(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg syncServerConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	cert, err := tls.X509KeyPair(cfg.CertPEM, cfg.KeyPEM)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(cfg.ClientCAPEM) {
		return errors.New("no client certificate in the config")
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert,
		ClientCAs: pool, MinVersion: tls.VersionTLS13,
	})
	if err != nil {
		return err
	}
	srv := volsync.NewServer(volsync.ServerOptions{
		Volumes:   func(n string) (string, bool) { d, ok := cfg.Volumes[n]; return d, ok },
		Authorize: func(p volsync.PeerInfo, _ string) bool { return p.Fingerprint == cfg.ClientFingerprint },
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { io.Copy(io.Discard, os.Stdin); cancel() }() // the benchmark ended or died
	fmt.Printf("listening %s\n", ln.Addr())
	return srv.Serve(ctx, ln)
}

// syncProcess is a running sync server process.
type syncProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser // held open while it runs: closing it stops it
}

// stop ends the process and reaps it.
func (p *syncProcess) stop() {
	p.stdin.Close()
	stopProcess(p.cmd)
}

// startSyncProcess starts the sync server process with cfg (written into
// work) and returns it with its address.
func startSyncProcess(work string, cfg syncServerConfig) (*syncProcess, string, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, "", err
	}
	path := filepath.Join(work, "sync-server.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, "", err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), syncServerEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("sync: start the budgie server process: %w", err)
	}
	proc := &syncProcess{cmd: cmd, stdin: stdin}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if addr, ok := strings.CutPrefix(strings.TrimSpace(l), "listening "); ok {
			if _, _, err := net.SplitHostPort(addr); err == nil {
				return proc, addr, nil
			}
		}
		proc.stop()
		return nil, "", fmt.Errorf("sync: the budgie server process said %q", l)
	case <-time.After(10 * time.Second):
		proc.stop()
		return nil, "", errors.New("sync: the budgie server process did not start listening within 10 s")
	}
}

// stopProcess kills a helper process and reaps it.
func stopProcess(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// pemOf encodes a certificate (DER) and its key for the server process.
func pemOf(cert tls.Certificate) (certPEM, keyPEM []byte, err error) {
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})
	return certPEM, keyPEM, nil
}
