package keeper

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// PeersResponse is the answer of GET /v1/peers.
type PeersResponse struct {
	// NodeID is this node's ID.
	NodeID string `json:"node_id"`
	// Interfaces are the network interfaces discovery uses.
	Interfaces []string `json:"interfaces"`
	// Nodes are the nodes seen on the LAN, this node first.
	Nodes []models.PeerNode `json:"nodes"`
}

// runDiscovery starts discovery when opts asks for it, forwarding the
// peer table's changes to the keeper's event stream as NoticePeer. It
// returns a function that waits for discovery to end after ctx does; a
// discovery that cannot start is logged and left off, the keeper runs on.
func (k *keeper) runDiscovery(ctx context.Context, opts *discovery.Options, rt *runtime.Runtime, log *slog.Logger, dataDir string) func() {
	if opts == nil {
		return func() {}
	}
	o := *opts
	if o.Source == nil {
		o.Source = rt
	}
	if o.NodeName == "" {
		o.NodeName = rt.Node()
	}
	if o.Log == nil {
		o.Log = log.With("component", "discovery")
	}
	if o.NodeID == "" {
		id, err := discovery.LoadNodeID(dataDir)
		if err != nil {
			log.Warn("discovery off", "err", err)
			return func() {}
		}
		o.NodeID = id
	}
	svc, err := discovery.New(o)
	if err != nil {
		log.Warn("discovery off", "err", err)
		return func() {}
	}
	k.disc = svc
	events, unsubscribe := svc.Subscribe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx)
	}()
	plog := newPeerLog(log.With("component", "discovery"))
	go func() {
		defer unsubscribe()
		for {
			select {
			case ev := <-events:
				plog.note(ev)
				k.sup.publish(Notice{Type: NoticePeer, Name: ev.Peer.Name, Time: ev.Time, Peer: &ev})
			case <-ctx.Done():
				return
			}
		}
	}()
	return func() { <-done }
}

// peerLog logs the peer table's changes at debug level, one line per real
// change: an event that only repeats what was last logged for that peer
// (its address seen again on another interface, say) is left out, so a
// LAN at rest logs nothing.
type peerLog struct {
	log  *slog.Logger
	last map[string]string // peer key → what was last logged
}

func newPeerLog(log *slog.Logger) *peerLog {
	return &peerLog{log: log, last: map[string]string{}}
}

// note logs ev unless it repeats the peer's last logged line.
func (p *peerLog) note(ev models.PeerEvent) {
	key := ev.Peer.NodeID + "/" + ev.Peer.ContainerID
	// Appeared and updated both say "present, like this".
	what := fmt.Sprintf("%q %q %q %v", ev.Peer.Name, ev.Peer.State, ev.Peer.Image, ev.Peer.Ports)
	switch {
	case ev.Type == models.PeerExpired || ev.Type == models.NodeExpired:
		delete(p.last, key) // gone: the table forgets it too
	case p.last[key] == what:
		return
	default:
		p.last[key] = what
	}
	p.log.Debug("peer", "event", ev.Type, "node", ev.Peer.NodeName, "container", ev.Peer.Name,
		"state", ev.Peer.State, "address", ev.Peer.Address)
}

// peers answers GET /v1/peers; without discovery it lists no nodes.
func (k *keeper) peers() PeersResponse {
	if k.disc == nil {
		return PeersResponse{Interfaces: []string{}, Nodes: []models.PeerNode{}}
	}
	resp := PeersResponse{NodeID: k.disc.NodeID(), Nodes: k.disc.Nodes()}
	for _, ifi := range k.disc.Interfaces() {
		resp.Interfaces = append(resp.Interfaces, ifi.Name)
	}
	return resp
}

// Peers returns the keeper's live table of nodes and containers on the LAN.
func (c *Client) Peers(ctx context.Context) (PeersResponse, error) {
	var resp PeersResponse
	err := c.get(ctx, "/v1/peers", &resp)
	return resp, err
}
