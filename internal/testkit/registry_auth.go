package testkit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// StartAuthRegistry starts a registry as StartRegistry does that wants
// HTTP basic authentication (docker-registry's htpasswd, bcrypt) and
// accepts only user with password; GET /v2/ answers 401 without them.
func StartAuthRegistry(parent, user, password string) (*Registry, error) {
	if user == "" || strings.ContainsAny(user, ":\n") {
		return nil, fmt.Errorf("auth registry: bad user name %q", user)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return nil, fmt.Errorf("auth registry: hash the password: %w", err)
	}
	return startRegistryWith(parent, func(dir string) (string, error) {
		path := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("auth registry: %w", err)
		}
		return fmt.Sprintf("auth:\n  htpasswd:\n    realm: budgie-test\n    path: %s\n", path), nil
	})
}
