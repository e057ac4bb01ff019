package runtime

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// CheckRunnable fails, naming the secret or the network, when spec could
// not be run on this node now: a secret that cannot be read, a network
// that does not exist, host mixed with other networks. It creates nothing,
// so a caller can refuse before any work (a replica before its transfer).
func (r *Runtime) CheckRunnable(ctx context.Context, spec models.ContainerSpec) error {
	if err := r.checkSecrets(ctx, spec); err != nil {
		return err
	}
	return r.checkNetworks(ctx, spec)
}
