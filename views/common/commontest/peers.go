package commontest

import (
	"context"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/models"
)

// SamplePeers returns three nodes: this one (node-1) with web, attic with
// two containers (one paused, one with ports cut from its announcement)
// and an empty cellar.
func SamplePeers() []models.PeerNode {
	seen := func(ago time.Duration) time.Time { return Now.Add(-ago) }
	peer := func(node, nodeName, addr string, n int, name, image string, st models.ContainerState, ago time.Duration) models.Peer {
		return models.Peer{NodeID: node, NodeName: nodeName, ContainerID: ID(n), Name: name, Image: image, State: st,
			Address: addr, SyncPort: 18733, FirstSeen: seen(10 * time.Minute), LastSeen: seen(ago)}
	}
	self, attic, cellar := "11111111111111111111111111111111", "a77c0000000000000000000000000000", "ce11a400000000000000000000000000"
	web := peer(self, "node-1", "192.168.1.10", 1, "web", "docker.io/library/nginx:1.27", models.StateRunning, time.Second)
	web.Ports = []models.PortMapping{{HostPort: 8080, ContainerPort: 80}}
	db := peer(attic, "attic", "192.168.1.20", 5, "db", "docker.io/library/postgres:16", models.StatePaused, 2*time.Second)
	app := peer(attic, "attic", "192.168.1.20", 6, "app", "registry:5000/app/server:2.1", models.StateRunning, time.Second)
	app.Ports = []models.PortMapping{{HostPort: 9000, ContainerPort: 9000, Protocol: "udp"}}
	app.MorePorts = 3
	return []models.PeerNode{
		{ID: self, Name: "node-1", Address: "192.168.1.10", SyncPort: 18733, Local: true, LastSeen: seen(time.Second), Containers: []models.Peer{web}},
		{ID: attic, Name: "attic", Address: "192.168.1.20", SyncPort: 18733, LastSeen: seen(time.Second), Containers: []models.Peer{app, db}},
		{ID: cellar, Name: "cellar", Address: "192.168.1.30", SyncPort: 18733, LastSeen: seen(90 * time.Second), Containers: []models.Peer{}},
	}
}

// SetPeers replaces the nodes Peers returns, and the error it fails with (nil: none).
func (b *Backend) SetPeers(nodes []models.PeerNode, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.peers, b.peersErr = nodes, err
}

// Peers returns the nodes set with SetPeers.
func (b *Backend) Peers(context.Context, engine.PeersOptions) (engine.PeersResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.peersErr != nil {
		return engine.PeersResult{}, b.peersErr
	}
	return engine.PeersResult{Nodes: append([]models.PeerNode(nil), b.peers...), FromKeeper: true}, nil
}
