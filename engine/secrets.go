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
