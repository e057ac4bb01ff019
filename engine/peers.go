package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/models"
)

// PeersOptions tune Peers.
type PeersOptions struct {
	// Timeout is how long to listen on the LAN when no keeper answers;
	// zero means 2 s.
	Timeout time.Duration
}

// PeersResult is the LAN as one node sees it.
type PeersResult struct {
	// Nodes are the nodes and their announced containers, this one included.
	Nodes []models.PeerNode
	// FromKeeper is true when the node's keeper answered from its live
	// table; false when this process listened on the LAN itself.
	FromKeeper bool
	// Source says, for people, where the list came from.
	Source string
}

// Peers lists the LAN's nodes and their containers (see ListPeers).
func (e *Engine) Peers(ctx context.Context, opts PeersOptions) (PeersResult, error) {
	return ListPeers(ctx, e.Config, opts)
}

// ListPeers lists the LAN's nodes and their containers for the node
// configured by cfg: the keeper's live table when a keeper runs, else one
// browse of the LAN for opts.Timeout by this process. `budgie chirp` and
// nest's Peers tab both call it, so both find the LAN on a node where no
// keeper runs. It needs no containerd.
func ListPeers(ctx context.Context, cfg *config.Config, opts PeersOptions) (PeersResult, error) {
	kctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if kc, err := keeper.Dial(kctx, cfg.DataDir); err == nil {
		if resp, err := kc.Peers(kctx); err == nil && resp.NodeID != "" {
			return PeersResult{Nodes: resp.Nodes, FromKeeper: true,
				Source: "asked the keeper, which browses " + strings.Join(resp.Interfaces, ", ")}, nil
		}
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	nodes, err := discovery.Browse(ctx, discovery.BrowseOptions{
		Interfaces: cfg.Discovery.Interfaces, Timeout: timeout, Self: existingNodeID(cfg.DataDir),
	})
	if err != nil {
		return PeersResult{}, err
	}
	where := "every interface"
	if len(cfg.Discovery.Interfaces) > 0 {
		where = strings.Join(cfg.Discovery.Interfaces, ", ")
	}
	return PeersResult{Nodes: nodes,
		Source: fmt.Sprintf("listened %s on %s; no keeper runs here; are keepers running on the other nodes?", timeout, where)}, nil
}

// existingNodeID returns the node's discovery ID when a keeper made one,
// or "" (then this node's own announcements cannot be told apart).
func existingNodeID(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, discovery.NodeIDName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
