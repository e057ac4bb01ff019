package engine

import (
	"context"

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/models"
)

// openSecrets returns the node's secret store under cfg.DataDir and makes
// it rt's secret source. pass nil means secrets.EnvPassphraseFunc.
func openSecrets(cfg *config.Config, rt *runtime.Runtime, pass secrets.PassphraseFunc) (*secrets.Store, error) {
	if pass == nil {
		pass = secrets.EnvPassphraseFunc
	}
	store, err := secrets.New(secrets.Options{
		Dir:        secrets.Dir(cfg.DataDir),
		Passphrase: pass,
		Containers: func(ctx context.Context) ([]models.Container, error) {
			return rt.List(ctx, runtime.ListOptions{All: true})
		},
	})
	if err != nil {
		return nil, err
	}
	rt.SetSecrets(store)
	return store, nil
}

// Secrets lists the node's secrets, sorted by name (values never leave the
// store).
func (e *Engine) Secrets(ctx context.Context) ([]secrets.Secret, error) {
	return e.SecretStore.List(ctx)
}

// CreateSecret seals value as a new secret.
func (e *Engine) CreateSecret(ctx context.Context, name string, value []byte, opts secrets.CreateOptions) (secrets.Secret, error) {
	return e.SecretStore.Create(ctx, name, value, opts)
}

// InspectSecret authenticates one secret and returns its metadata.
func (e *Engine) InspectSecret(ctx context.Context, name string) (secrets.Secret, error) {
	return e.SecretStore.Inspect(ctx, name)
}

// RemoveSecret deletes a secret (opts.Force: even while running
// containers use it).
func (e *Engine) RemoveSecret(ctx context.Context, name string, opts secrets.RemoveOptions) error {
	return e.SecretStore.Remove(ctx, name, opts)
}
