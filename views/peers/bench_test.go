package peers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
	"github.com/budgie-sh/budgie/views/common/commontest"
)

// manyPeers is a LAN of nodes nodes with per containers each (issue 16's
// scale: 20 × 100), this node first.
func manyPeers(nodes, per int) []models.PeerNode {
	out := make([]models.PeerNode, nodes)
	for i := range out {
		id := fmt.Sprintf("%032x", 0xb0000+i)
		addr := fmt.Sprintf("10.231.0.%d", i+1)
		n := models.PeerNode{ID: id, Name: fmt.Sprintf("sim%02d", i+1), Address: addr, SyncPort: 18733,
			Local: i == 0, LastSeen: commontest.Now.Add(-time.Second)}
		for j := range per {
			n.Containers = append(n.Containers, models.Peer{NodeID: id, NodeName: n.Name,
				ContainerID: fmt.Sprintf("%08x%056x", i, j), Name: fmt.Sprintf("svc-%02d-%03d", i+1, j),
				Image: "registry:5000/app/server:2.1", State: models.StateRunning, Address: addr, SyncPort: 18733,
				Ports:     []models.PortMapping{{HostPort: uint16(8000 + j), ContainerPort: 80}},
				FirstSeen: commontest.Now.Add(-time.Minute), LastSeen: commontest.Now.Add(-time.Second)})
		}
		out[i] = n
	}
	return out
}

// loaded returns a focused Peers view holding 20 × 100 containers.
func loaded(b *testing.B) *Model {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	fake := commontest.New()
	fake.SetPeers(manyPeers(20, 100), nil)
	m := New(commontest.Common(ctx, fake))
	m.SetSize(160, 45)
	m.Focus()
	m.Update(m.fetch()())
	if len(m.rows) != 20*101 {
		b.Fatalf("the view holds %d rows, want %d", len(m.rows), 20*101)
	}
	return m
}

// BenchmarkPeersKeyPress measures Update + View of one key press (cursor
// down, wrapping at the end) with 2,000 containers on 20 nodes.
func BenchmarkPeersKeyPress(b *testing.B) {
	m := loaded(b)
	down, top := keyMsg("j"), keyMsg("g")
	i := 0
	for b.Loop() {
		if i++; i%len(m.rows) == 0 {
			m.Update(top)
		}
		m.Update(down)
		_ = m.View()
	}
}

// BenchmarkPeersRefresh measures applying a fetched table of 2,000
// containers (what the view does every Interval while shown) and drawing it.
func BenchmarkPeersRefresh(b *testing.B) {
	m := loaded(b)
	nodes := manyPeers(20, 100)
	for b.Loop() {
		m.Update(peersMsg{seq: m.seq, nodes: nodes})
		_ = m.View()
	}
}
