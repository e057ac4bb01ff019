package discovery

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// NodeIDName is the file under the data directory holding the node's ID.
const NodeIDName = "node-id"

// LoadNodeID returns the node's stable ID from dataDir/node-id, creating a
// random one (32 hex characters) the first time.
func LoadNodeID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, NodeIDName)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if hex32RE.MatchString(id) {
			return id, nil
		}
		return "", fmt.Errorf("node ID file %s is corrupt (remove it to make a new ID)", path)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read node ID: %w", err)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make node ID: %w", err)
	}
	id := hex.EncodeToString(raw)
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return "", fmt.Errorf("create data directory %s: %w", dataDir, err)
	}
	// Write aside and link into place, so that two processes starting at
	// once agree on the first ID written.
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("write node ID: %w", err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadNodeID(dataDir)
		}
		return "", fmt.Errorf("write node ID: %w", err)
	}
	return id, nil
}
