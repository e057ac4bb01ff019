package app

import (
	"context"

	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/views/common"
)

// Secrets lists the node's secrets.
func (b *Backend) Secrets(ctx context.Context) ([]common.SecretInfo, error) {
	list, err := b.eng.Secrets.List(b.ns(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]common.SecretInfo, len(list))
	for i, s := range list {
		out[i] = secretInfo(s)
	}
	return out, nil
}

// CreateSecret seals a new secret.
func (b *Backend) CreateSecret(ctx context.Context, name string, value []byte) error {
	_, err := b.eng.Secrets.Create(b.ns(ctx), name, value, secrets.CreateOptions{})
	return err
}

// InspectSecret authenticates a secret and returns its metadata.
func (b *Backend) InspectSecret(ctx context.Context, name string) (common.SecretInfo, error) {
	s, err := b.eng.Secrets.Inspect(b.ns(ctx), name)
	return secretInfo(s), err
}

// RemoveSecret removes a secret.
func (b *Backend) RemoveSecret(ctx context.Context, name string, force bool) error {
	return b.eng.Secrets.Remove(b.ns(ctx), name, secrets.RemoveOptions{Force: force})
}

func secretInfo(s secrets.Secret) common.SecretInfo {
	return common.SecretInfo{Name: s.Name, Size: s.Size, Created: s.Created, Labels: s.Labels, UsedBy: s.UsedBy, Error: s.Error}
}

var _ common.SecretBackend = (*Backend)(nil)
