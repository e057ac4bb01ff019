package commontest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	engsecrets "github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common"
)

// SampleSecrets returns three secrets; db-password is used by the running "db".
func SampleSecrets() []engsecrets.Secret {
	return []engsecrets.Secret{
		{Name: "api-token", Size: 40, Created: Now.Add(-2 * time.Hour), UsedBy: []string{}},
		{Name: "db-password", Size: 24, Created: Now.Add(-72 * time.Hour), UsedBy: []string{"db", "worker"},
			Labels: map[string]string{"app": "shop", "env": "prod"}},
		{Name: "tls.key", Size: 3243, Created: Now.Add(-30 * 24 * time.Hour), UsedBy: []string{"web"}},
	}
}

// SetSecrets replaces the secrets.
func (b *Backend) SetSecrets(s []engsecrets.Secret) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.secrets = append([]engsecrets.Secret(nil), s...)
}

// SecretValue returns the value a create stored, or nil.
func (b *Backend) SecretValue(name string) []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.secretValues[name]
}

// Secrets lists the secrets by name.
func (b *Backend) Secrets(context.Context) ([]engsecrets.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]engsecrets.Secret(nil), b.secrets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CreateSecret records the call (never the value) and adds the secret.
func (b *Backend) CreateSecret(_ context.Context, name string, value []byte, _ engsecrets.CreateOptions) (engsecrets.Secret, error) {
	b.record("secret-create", name)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.secrets {
		if s.Name == name {
			return engsecrets.Secret{}, fmt.Errorf("secret %s exists already: %w", name, errdefs.ErrConflict)
		}
	}
	if b.secretValues == nil {
		b.secretValues = map[string][]byte{}
	}
	b.secretValues[name] = append([]byte(nil), value...)
	s := engsecrets.Secret{Name: name, Size: len(value), Created: Now, UsedBy: []string{}}
	b.secrets = append(b.secrets, s)
	return s, nil
}

// InspectSecret returns one secret.
func (b *Backend) InspectSecret(_ context.Context, name string) (engsecrets.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.secrets {
		if s.Name == name {
			return s, nil
		}
	}
	return engsecrets.Secret{}, fmt.Errorf("no such secret: %s: %w", name, errdefs.ErrNotFound)
}

// RemoveSecret records the call and removes the secret; one used by a
// running container is refused unless force.
func (b *Backend) RemoveSecret(_ context.Context, name string, opts engsecrets.RemoveOptions) error {
	force := opts.Force
	b.record("secret-rm", fmt.Sprintf("%s force=%v", name, force))
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, s := range b.secrets {
		if s.Name != name {
			continue
		}
		for _, c := range b.containers {
			if !force && c.State == models.StateRunning && contains(s.UsedBy, c.Name) {
				return fmt.Errorf("secret %s is in use by running container %s: %w", name, c.Name, errdefs.ErrConflict)
			}
		}
		b.secrets = append(b.secrets[:i], b.secrets[i+1:]...)
		return nil
	}
	return fmt.Errorf("no such secret: %s: %w", name, errdefs.ErrNotFound)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var _ common.SecretBackend = (*Backend)(nil)
