package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// helperEnv makes the test binary act as a second process (see TestMain).
const helperEnv = "BUDGIE_IDENTITY_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		if err := runHelper(mode, os.Args[len(os.Args)-1]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the child process's work: "load" prints the identity's ID;
// "trust" adds ten random IDs to the trust store.
func runHelper(mode, dir string) error {
	switch mode {
	case "load":
		id, err := Load(dir, LoadOptions{Name: "child"})
		if err != nil {
			return err
		}
		fmt.Println(id.ID)
		return nil
	case "trust":
		s, err := OpenTrustStore(dir, TrustStoreOptions{})
		if err != nil {
			return err
		}
		for i := range 10 {
			if err := s.Trust(context.Background(), randomID(), fmt.Sprintf("p%d-%d", os.Getpid(), i)); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown helper mode %q", mode)
}

// startHelpers starts n copies of the test binary in mode on dir at once.
func startHelpers(t *testing.T, n int, mode, dir string) []string {
	t.Helper()
	outs := make([]bytes.Buffer, n)
	cmds := make([]*exec.Cmd, n)
	for i := range n {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$", dir)
		cmds[i].Env = append(os.Environ(), helperEnv+"="+mode)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	res := make([]string, n)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper %d: %v: %s", i, err, outs[i].String())
		}
		res[i] = strings.TrimSpace(outs[i].String())
	}
	return res
}

func TestLoadCreatesIdentity(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	before := time.Now()
	id, err := Load(data, LoadOptions{Name: "attic"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(data, DirName)
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, KeyFile): 0o600, filepath.Join(dir, CertFile): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, info.Mode().Perm(), want)
		}
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("cert.pem holds no certificate: %q", certPEM)
	}
	if want := ID(sha256.Sum256(block.Bytes)); id.ID != want {
		t.Fatalf("ID = %v, want the sha256 of cert.pem's DER %v", id.ID, want)
	}
	leaf := id.Certificate.Leaf
	if id.Name != "attic" || leaf.Subject.CommonName != "attic" || id.Dir != dir {
		t.Errorf("Name = %q, CN = %q, Dir = %q", id.Name, leaf.Subject.CommonName, id.Dir)
	}
	if life := leaf.NotAfter.Sub(before); life < Validity-time.Hour || life > Validity+time.Hour {
		t.Errorf("certificate valid until %v, want about 20 years", leaf.NotAfter)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil || leaf.Issuer.String() != leaf.Subject.String() {
		t.Errorf("certificate is not self-signed: %v", err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key is %T, want ECDSA P-256", leaf.PublicKey)
	}
	again, err := Load(data, LoadOptions{Name: "renamed"})
	if err != nil || again.ID != id.ID || again.Name != "attic" {
		t.Fatalf("second Load = %v %q, %v; want the same identity, name kept", again.ID, again.Name, err)
	}
}

func TestLoadDefaultsToHostName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Fatalf("no host name: %v", err)
	}
	id, err := Load(t.TempDir(), LoadOptions{})
	if err != nil || id.Name != host {
		t.Fatalf("Load = %q, %v; want the host name %q", id.Name, err, host)
	}
}

func TestLoadConcurrentGoroutines(t *testing.T) {
	data := t.TempDir()
	const n = 16
	ids := make([]ID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := Load(data, LoadOptions{Name: fmt.Sprint("g", i)})
			if err == nil {
				ids[i] = id.ID
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || ids[i] != ids[0] {
			t.Fatalf("goroutine %d: %v, %v; goroutine 0 got %v", i, ids[i], errs[i], ids[0])
		}
	}
	assertNoLeftovers(t, data)
}

func TestLoadConcurrentProcesses(t *testing.T) {
	data := t.TempDir()
	got := startHelpers(t, 8, "load", data)
	final, err := Load(data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range got {
		if s != final.ID.String() {
			t.Fatalf("process %d made %q, the data dir holds %s", i, s, final.ID)
		}
	}
	assertNoLeftovers(t, data)
}

// assertNoLeftovers checks that losing racers removed their temp directories.
func assertNoLeftovers(t *testing.T, data string) {
	t.Helper()
	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != DirName {
			t.Errorf("left behind in the data dir: %s", e.Name())
		}
	}
}

func TestLoadRefusesDamagedIdentity(t *testing.T) {
	tests := []struct {
		name   string
		damage func(dir string) error
		want   string
	}{
		{"key readable by others", func(dir string) error { return os.Chmod(filepath.Join(dir, KeyFile), 0o644) }, "chmod 600"},
		{"certificate missing", func(dir string) error { return os.Remove(filepath.Join(dir, CertFile)) }, "incomplete"},
		{"key missing", func(dir string) error { return os.Remove(filepath.Join(dir, KeyFile)) }, "incomplete"},
		{"certificate garbage", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, CertFile), []byte("garbage"), 0o600)
		}, "load node identity"},
		{"key of another certificate", func(dir string) error {
			key, _, err := generate("other", time.Now())
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600)
		}, "load node identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			first, err := Load(data, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.damage(first.Dir); err != nil {
				t.Fatal(err)
			}
			_, err = Load(data, LoadOptions{})
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
}

func TestLoadFillsEmptyDirectory(t *testing.T) {
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, DirName), 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := Load(data, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(id.Dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("identity dir mode = %v, %v; want 0700", info.Mode().Perm(), err)
	}
}
