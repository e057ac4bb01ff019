package replica

import (
	"context"
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/runtime"
)

// Replication's container labels (containerd labels, not part of the spec).
const (
	// LabelReplicable is "true" on a container its owner lets trusted
	// nodes replicate (budgie share).
	LabelReplicable = "budgie.replicable"
	// LabelReplicaOf is "NODEID/CONTAINERID" of a replica's primary.
	LabelReplicaOf = "budgie.replica-of"
	// LabelReplicaSync is "on" when the keeper keeps the replica in sync,
	// "off" when it was copied once.
	LabelReplicaSync = "budgie.replica-sync"
	// LabelReplicaIdentity is the primary's identity ID, pinned when the
	// replica was made: the keeper only syncs from that certificate.
	LabelReplicaIdentity = "budgie.replica-identity"
)

// ShareOptions configures Share.
type ShareOptions struct {
	// Off takes the consent back (budgie unshare).
	Off bool
}

// Share marks the container ref (name, ID or unique ID prefix) replicable
// by trusted nodes, or not with Off. It returns the container's full ID.
func Share(ctx context.Context, rt *runtime.Runtime, ref string, opts ShareOptions) (string, error) {
	c, err := rt.Get(ctx, ref)
	if err != nil {
		return "", err
	}
	cc, err := rt.Client().LoadContainer(ctx, c.ID)
	if err != nil {
		return "", fmt.Errorf("load container %s: %w", c.Name, errdefs.FromContainerd(err))
	}
	v := "true"
	if opts.Off {
		v = ""
	}
	if _, err := cc.SetLabels(ctx, map[string]string{LabelReplicable: v}); err != nil {
		return "", fmt.Errorf("mark container %s replicable: %w", c.Name, errdefs.FromContainerd(err))
	}
	return c.ID, nil
}

// containerLabels returns the containerd labels of container id.
func containerLabels(ctx context.Context, rt *runtime.Runtime, id string) (map[string]string, error) {
	rec, err := rt.Client().ContainerService().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read labels of container %s: %w", id, errdefs.FromContainerd(err))
	}
	return rec.Labels, nil
}

// labelled lists the IDs and labels of containers that carry label key.
func labelled(ctx context.Context, rt *runtime.Runtime, key string) (map[string]map[string]string, error) {
	recs, err := rt.Client().ContainerService().List(ctx, fmt.Sprintf("labels.%q", key))
	if err != nil {
		return nil, fmt.Errorf("list containers labelled %s: %w", key, errdefs.FromContainerd(err))
	}
	out := make(map[string]map[string]string, len(recs))
	for _, r := range recs {
		out[r.ID] = r.Labels
	}
	return out, nil
}

// splitPrimary parses a LabelReplicaOf value.
func splitPrimary(v string) (node, container string, ok bool) {
	node, container, ok = strings.Cut(v, "/")
	return node, container, ok && node != "" && container != ""
}
