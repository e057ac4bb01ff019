package common

import (
	"context"

	"github.com/budgie-sh/budgie/engine/secrets"
)

// SecretBackend is a Backend that manages the node's secrets (the
// Secrets view). Values never come back out.
type SecretBackend interface {
	// Secrets lists the secrets, sorted by name.
	Secrets(ctx context.Context) ([]secrets.Secret, error)
	// CreateSecret seals value as a new secret.
	CreateSecret(ctx context.Context, name string, value []byte, opts secrets.CreateOptions) (secrets.Secret, error)
	// InspectSecret authenticates one secret and returns its metadata.
	InspectSecret(ctx context.Context, name string) (secrets.Secret, error)
	// RemoveSecret deletes one (opts.Force: even while running containers use it).
	RemoveSecret(ctx context.Context, name string, opts secrets.RemoveOptions) error
}
