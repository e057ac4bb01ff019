package discovery

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// table is the browser's view of the LAN: announcements deduplicated by
// node and container, each with when it was last seen. mDNS has no
// goodbye the library passes on, so entries expire when not seen again
// for the expiry time. It is not safe for concurrent use; Browser locks.
type table struct {
	self   string        // this node's ID, marked Local in snapshots
	expiry time.Duration // an entry not seen for longer is dropped
	peers  map[string]*models.Peer
	nodes  map[string]*models.PeerNode // node records, without Containers
}

func newTable(self string, expiry time.Duration) *table {
	return &table{self: self, expiry: expiry, peers: map[string]*models.Peer{}, nodes: map[string]*models.PeerNode{}}
}

// observe records an announcement seen at now from addr and returns the
// change it makes: none when it only confirms what the table holds.
func (t *table) observe(a Announcement, addr string, now time.Time) []models.PeerEvent {
	if a.Kind == KindNode {
		return t.observeNode(a, addr, now)
	}
	p := models.Peer{NodeID: a.NodeID, NodeName: a.NodeName, ContainerID: a.ContainerID, Name: a.ContainerName,
		Image: a.Image, State: a.State, Ports: a.Ports, MorePorts: a.MorePorts, Address: addr,
		SyncPort: a.SyncPort, Fingerprint: a.Fingerprint, FirstSeen: now, LastSeen: now}
	key := a.NodeID + "/" + a.ContainerID
	old, ok := t.peers[key]
	if !ok {
		t.peers[key] = &p
		return []models.PeerEvent{{Type: models.PeerAppeared, Time: now, Peer: p}}
	}
	p.FirstSeen = old.FirstSeen
	changed := !samePeer(*old, p)
	*old = p
	if !changed {
		return nil
	}
	return []models.PeerEvent{{Type: models.PeerUpdated, Time: now, Peer: p}}
}

func (t *table) observeNode(a Announcement, addr string, now time.Time) []models.PeerEvent {
	n := &models.PeerNode{ID: a.NodeID, Name: a.NodeName, Address: addr, SyncPort: a.SyncPort,
		Fingerprint: a.Fingerprint, Local: a.NodeID == t.self, LastSeen: now}
	_, known := t.nodes[a.NodeID]
	t.nodes[a.NodeID] = n
	if known {
		return nil
	}
	return []models.PeerEvent{{Type: models.NodeAppeared, Time: now, Peer: nodePeer(n)}}
}

// samePeer compares everything but the times.
func samePeer(a, b models.Peer) bool {
	a.FirstSeen, a.LastSeen, b.FirstSeen, b.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a.NodeName == b.NodeName && a.Name == b.Name && a.Image == b.Image && a.State == b.State &&
		a.Address == b.Address && a.SyncPort == b.SyncPort && a.Fingerprint == b.Fingerprint &&
		a.MorePorts == b.MorePorts && slices.Equal(a.Ports, b.Ports)
}

// expire drops every entry not seen for longer than the expiry time.
func (t *table) expire(now time.Time) []models.PeerEvent {
	var evs []models.PeerEvent
	for key, p := range t.peers {
		if now.Sub(p.LastSeen) > t.expiry {
			delete(t.peers, key)
			evs = append(evs, models.PeerEvent{Type: models.PeerExpired, Time: now, Peer: *p})
		}
	}
	for id, n := range t.nodes {
		if now.Sub(n.LastSeen) > t.expiry {
			delete(t.nodes, id)
			evs = append(evs, models.PeerEvent{Type: models.NodeExpired, Time: now, Peer: nodePeer(n)})
		}
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Peer.Name < evs[j].Peer.Name })
	return evs
}

func nodePeer(n *models.PeerNode) models.Peer {
	return models.Peer{NodeID: n.ID, NodeName: n.Name, Address: n.Address, SyncPort: n.SyncPort,
		Fingerprint: n.Fingerprint, FirstSeen: n.LastSeen, LastSeen: n.LastSeen}
}

// list returns every container, sorted by node name, then container name.
func (t *table) list() []models.Peer {
	out := make([]models.Peer, 0, len(t.peers))
	for _, p := range t.peers {
		q := *p
		q.Ports = slices.Clone(p.Ports)
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NodeName != out[j].NodeName {
			return out[i].NodeName < out[j].NodeName
		}
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].NodeID+out[i].ContainerID < out[j].NodeID+out[j].ContainerID
	})
	return out
}

// snapshot groups the table by node: nodes known from their own record or
// from their containers' records, sorted local first, then by name.
func (t *table) snapshot() []models.PeerNode {
	byID := map[string]*models.PeerNode{}
	for id, n := range t.nodes {
		c := *n
		c.Containers = []models.Peer{}
		byID[id] = &c
	}
	for _, p := range t.list() {
		n := byID[p.NodeID]
		if n == nil {
			n = &models.PeerNode{ID: p.NodeID, Name: p.NodeName, Address: p.Address, SyncPort: p.SyncPort,
				Fingerprint: p.Fingerprint, Local: p.NodeID == t.self, Containers: []models.Peer{}}
			byID[p.NodeID] = n
		}
		if p.LastSeen.After(n.LastSeen) {
			n.LastSeen = p.LastSeen
		}
		n.Containers = append(n.Containers, p)
	}
	out := make([]models.PeerNode, 0, len(byID))
	for _, n := range byID {
		out = append(out, *n)
	}
	SortNodes(out)
	return out
}

// SortNodes orders nodes local first, then by name, then by ID.
func SortNodes(nodes []models.PeerNode) {
	sort.Slice(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.Local != b.Local {
			return a.Local
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c < 0
		}
		return a.ID < b.ID
	})
}
