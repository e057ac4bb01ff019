package secrets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/budgie-sh/budgie/engine/internal/fsutil"
)

// sealingKey returns the data key new secrets are sealed under, with its
// derivation parameters (those of the node key).
func (s *Store) sealingKey() ([]byte, kdfParams, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	node, err := s.nodeKeyLocked()
	if err != nil {
		return nil, kdfParams{}, err
	}
	key, err := s.deriveLocked(node, node.params)
	return key, node.params, err
}

// dataKey returns the data key for a file sealed with params.
func (s *Store) dataKey(params kdfParams) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key, ok := s.keys[params.cacheKey()]; ok {
		return key, nil
	}
	node, err := s.nodeKeyLocked()
	if err != nil {
		return nil, err
	}
	return s.deriveLocked(node, params)
}

func (s *Store) deriveLocked(node *nodeKey, params kdfParams) ([]byte, error) {
	if key, ok := s.keys[params.cacheKey()]; ok {
		return key, nil
	}
	key, err := params.derive(node.key)
	if err != nil {
		return nil, fmt.Errorf("derive the secrets key: %w: %w", err, ErrIntegrity)
	}
	s.keys[params.cacheKey()] = key
	return key, nil
}

// nodeKeyLocked loads the node key, generating it on first use. Of two
// processes generating it at once, the first to link its file wins and
// the other reads that one.
func (s *Store) nodeKeyLocked() (*nodeKey, error) {
	if s.node != nil {
		return s.node, nil
	}
	path := filepath.Join(s.opts.Dir, nodeKeyFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		data, err = s.generate(path)
	}
	if err != nil {
		return nil, err
	}
	k, err := decodeNodeKey(data, s.opts.Passphrase)
	if err != nil {
		return nil, fmt.Errorf("node secret key %s: %w", path, err)
	}
	s.node = &k
	return s.node, nil
}

// generate writes a new node key file and returns the file that won.
func (s *Store) generate(path string) ([]byte, error) {
	k, err := newNodeKey()
	if err != nil {
		return nil, err
	}
	defer clear(k.key)
	pass := ""
	if s.opts.Passphrase != nil {
		if pass, err = s.opts.Passphrase(true); err != nil {
			return nil, fmt.Errorf("read the secrets passphrase: %w", err)
		}
	}
	data, err := encodeNodeKey(k, pass)
	if err != nil {
		return nil, fmt.Errorf("generate the node secret key: %w", err)
	}
	if err := writeNew(s.opts.Dir, path, data); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("write the node secret key %s: %w", path, err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the node secret key: %w", err)
	}
	return data, nil
}

// ensureDir creates dir with mode 0700, tightening an existing one.
func ensureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// writeNew writes data to path atomically, failing with fs.ErrExist when
// path exists: the data goes to a temporary file (mode 0600) in dir,
// synced, then hard-linked to path — link never replaces a file. The
// temporary file is removed whatever happens.
func writeNew(dir, path string, data []byte) error {
	if err := ensureDir(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
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
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	return fsutil.SyncDir(dir)
}
