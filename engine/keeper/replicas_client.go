package keeper

import (
	"context"

	"github.com/budgie-sh/budgie/models"
)

// Replicas returns the keeper's local replicas and how their continuous
// sync goes (GET /v1/replicas).
func (c *Client) Replicas(ctx context.Context) ([]models.ReplicaStatus, error) {
	var out []models.ReplicaStatus
	err := c.get(ctx, "/v1/replicas", &out)
	return out, err
}
