package identity

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/fsutil"
)

// Where the identity lives under the data directory.
const (
	// DirName is the identity directory under the data directory (0700).
	DirName = "identity"
	// KeyFile is the PEM (PKCS #8) private key in DirName (0600).
	KeyFile = "key.pem"
	// CertFile is the PEM self-signed certificate in DirName (0600).
	CertFile = "cert.pem"
	// Validity is how long a new certificate is valid, as Syncthing's.
	Validity = 20 * 365 * 24 * time.Hour
)

// Identity is this node's key pair and self-signed certificate.
type Identity struct {
	// ID is the SHA-256 of the certificate's DER bytes.
	ID ID
	// Name is the certificate's common name: the node name when the
	// identity was made. Renaming the node later does not change it.
	Name string
	// Certificate is the key pair for tls.Config; its Leaf is set.
	Certificate tls.Certificate
	// Dir is the directory holding KeyFile and CertFile.
	Dir string
}

// LoadOptions configures Load.
type LoadOptions struct {
	// Name goes into a new certificate's common name; empty means the host
	// name. An existing identity keeps the name it was made with.
	Name string
}

// Load returns the node identity kept in dataDir/identity, making it the
// first time. Processes racing to make it agree on one: each builds a
// complete identity in a private directory and renames it into place,
// and the losers read the winner's.
func Load(dataDir string, opts LoadOptions) (*Identity, error) {
	dir := filepath.Join(dataDir, DirName)
	id, err := read(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		return id, err
	}
	if err := create(dataDir, dir, opts.Name); err != nil {
		return nil, err
	}
	return read(dir)
}

// read loads the identity in dir; an error wrapping fs.ErrNotExist means
// there is none yet (no directory, or an empty one).
func read(dir string) (*Identity, error) {
	keyPath, certPath := filepath.Join(dir, KeyFile), filepath.Join(dir, CertFile)
	keyInfo, kerr := os.Stat(keyPath)
	_, cerr := os.Stat(certPath)
	switch {
	case errors.Is(kerr, fs.ErrNotExist) && errors.Is(cerr, fs.ErrNotExist):
		return nil, fmt.Errorf("no node identity in %s: %w", dir, fs.ErrNotExist)
	case kerr != nil || cerr != nil:
		return nil, fmt.Errorf("node identity in %s is incomplete (restore %s and %s from a backup, or remove the directory to make a new identity that peers must trust again): %w",
			dir, KeyFile, CertFile, errors.Join(kerr, cerr, errdefs.ErrInvalid))
	case keyInfo.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("node key %s is readable by others (mode %v; fix it with: chmod 600 %s): %w",
			keyPath, keyInfo.Mode().Perm(), keyPath, errdefs.ErrInvalid)
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load node identity from %s (restore it from a backup, or remove the directory to make a new one): %w: %w",
			dir, err, errdefs.ErrInvalid)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse node certificate %s: %w: %w", certPath, err, errdefs.ErrInvalid)
		}
	}
	return &Identity{
		ID:          IDFromCertificate(pair.Certificate[0]),
		Name:        pair.Leaf.Subject.CommonName,
		Certificate: pair,
		Dir:         dir,
	}, nil
}

// create makes a new identity and renames it to dir unless another process
// got there first.
func create(dataDir, dir, name string) error {
	if name == "" {
		name, _ = os.Hostname()
		if name == "" {
			name = "budgie"
		}
	}
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return fmt.Errorf("create data directory %s for the node identity: %w", dataDir, err)
	}
	tmp, err := os.MkdirTemp(dataDir, "."+DirName+"-*")
	if err != nil {
		return fmt.Errorf("create node identity in %s (is the data directory writable by this user?): %w", dataDir, err)
	}
	defer os.RemoveAll(tmp)
	keyPEM, certPEM, err := generate(name, time.Now())
	if err != nil {
		return err
	}
	for file, data := range map[string][]byte{KeyFile: keyPEM, CertFile: certPEM} {
		if err := writeSynced(filepath.Join(tmp, file), data); err != nil {
			return fmt.Errorf("write node identity: %w", err)
		}
	}
	if err := fsutil.SyncDir(tmp); err != nil {
		return fmt.Errorf("write node identity: %w", err)
	}
	// rename(2) replaces a missing or empty directory atomically and fails
	// when dir holds files: then another process made the identity first.
	// (os.Rename refuses any existing directory, so call rename(2) itself.)
	if err := syscall.Rename(tmp, dir); err != nil {
		if errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return nil
		}
		return fmt.Errorf("install node identity in %s: %w", dir, err)
	}
	return fsutil.SyncDir(dataDir)
}

// generate makes an ECDSA P-256 key and a self-signed certificate for name,
// both PEM-encoded.
func generate(name string, now time.Time) (keyPEM, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate node key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Budgie"}},
		NotBefore:             now.Add(-time.Hour).UTC().Truncate(time.Second),
		NotAfter:              now.Add(Validity).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make node certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode node key: %w", err)
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return keyPEM, certPEM, nil
}

// writeSynced creates path (0600, failing if it exists) with data, synced.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
