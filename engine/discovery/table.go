package discovery

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/budgie-sh/budgie/models"
)

// Cache bounds: packets from the LAN are hostile, so one source cannot
// fill the table, and the table as a whole stays bounded.
const (
	// maxPerSource bounds the instances learnt from one address.
	maxPerSource = 1024
	// maxEntries bounds the table.
	maxEntries = 16384
)

// refreshAt are the fractions of a TTL at which a browser asks again for
// a record it holds (RFC 6762 §5.2), each plus up to 2% at random.
var refreshAt = []float64{0.80, 0.85, 0.90, 0.95}

// entry is one instance in the table: a node or a container.
type entry struct {
	inst    string
	node    bool
	peer    models.Peer // a container; for a node, only the node fields
	src     netip.Addr  // the address its records came from
	seen    time.Time   // when its records were last received
	ttl     time.Duration
	epoch   string    // a node's run (see Announcement.Epoch)
	asked   int       // refresh queries sent since seen
	checked time.Time // a node's: when a digest mismatch was last acted on
	jitter  float64   // added to each refresh point
	expired bool
}

func (e *entry) expires() time.Time { return e.seen.Add(e.ttl) }

// table is the browser's cache of Budgie instances on the LAN, each kept
// for its TTL; containers are tied to their node (when the node's record
// expires or says goodbye, its containers go too). It is not safe for
// concurrent use; Browser locks.
type table struct {
	self   string
	insts  map[string]*entry
	perSrc map[netip.Addr]int
}

func newTable(self string) *table {
	return &table{self: self, insts: map[string]*entry{}, perSrc: map[netip.Addr]int{}}
}

// observe records a received announcement of lifetime ttl from src (its
// address addr) and returns the change it makes: none when it only
// refreshes what the table holds, or when a bound refuses it.
func (t *table) observe(a Announcement, addr string, src netip.Addr, ttl time.Duration, now time.Time) []models.PeerEvent {
	inst := a.Instance()
	p := models.Peer{NodeID: a.NodeID, NodeName: a.NodeName, Address: addr, SyncPort: a.SyncPort,
		Fingerprint: a.Fingerprint, FirstSeen: now, LastSeen: now}
	if a.Kind == KindContainer {
		p.ContainerID, p.Name, p.Image, p.State, p.Ports, p.MorePorts =
			a.ContainerID, a.ContainerName, a.Image, a.State, a.Ports, a.MorePorts
	}
	old := t.insts[inst]
	if old == nil {
		if t.perSrc[src] >= maxPerSource || len(t.insts) >= maxEntries {
			return nil
		}
		t.perSrc[src]++
		t.insts[inst] = &entry{inst: inst, node: a.Kind == KindNode, peer: p, src: src, seen: now, ttl: ttl, epoch: a.Epoch, jitter: rand.Float64() * 0.02}
		return []models.PeerEvent{{Type: appearType(a.Kind == KindNode), Time: now, Peer: p}}
	}
	p.FirstSeen = old.peer.FirstSeen
	if a.Kind == KindNode && old.epoch != "" && a.Epoch != old.epoch && old.src == src {
		t.restarted(a.NodeID, now)
	}
	old.epoch = a.Epoch
	changed := !samePeer(old.peer, p) || old.node != (a.Kind == KindNode)
	if old.src != src {
		t.perSrc[old.src]--
		t.perSrc[src]++
	}
	old.peer, old.src, old.seen, old.ttl, old.asked, old.node = p, src, now, ttl, 0, a.Kind == KindNode
	if !changed || old.node {
		return nil
	}
	return []models.PeerEvent{{Type: models.PeerUpdated, Time: now, Peer: p}}
}

// restartGrace is how long a node's containers stay listed without
// being announced again when the node restarted or its digest does not
// match; recent is how fresh a record must be to be exempt (the
// responder does not repeat a record multicast less than a second ago).
const (
	restartGrace = 3 * time.Second
	recent       = 2 * time.Second
)

// restarted shortens the life of a node's containers to restartGrace
// when its keeper restarted: the new run announces those still running
// at once, the others (stopped while no keeper ran) then go.
func (t *table) restarted(nodeID string, now time.Time) { t.suspect(nodeID, now, 0) }

// suspect shortens to restartGrace the life of nodeID's containers not
// seen within the last fresh.
func (t *table) suspect(nodeID string, now time.Time, fresh time.Duration) {
	for _, e := range t.insts {
		if !e.node && e.peer.NodeID == nodeID && !e.seen.Equal(now) && now.Sub(e.seen) >= fresh {
			e.ttl = min(e.ttl, now.Add(restartGrace).Sub(e.seen))
		}
	}
}

// mismatch reports whether a node record's digest differs from that of
// the node's containers the table holds (a missed announcement or
// goodbye), and whether some of those held must be stale (the table
// holds more than the node announces). A record without a digest never
// mismatches.
func (t *table) mismatch(a Announcement) (bad, stale bool) {
	if a.Kind != KindNode || a.Digest == "" {
		return false, false
	}
	var insts []string
	for _, e := range t.insts {
		if !e.node && e.peer.NodeID == a.NodeID {
			insts = append(insts, e.inst)
		}
	}
	if ContainerDigest(insts) == a.Digest {
		return false, false
	}
	count, _, _ := strings.Cut(a.Digest, "-")
	n, _ := strconv.Atoi(count)
	return true, len(insts) > n
}

func appearType(node bool) models.PeerEventType {
	if node {
		return models.NodeAppeared
	}
	return models.PeerAppeared
}

// touch refreshes a held instance from a record that only confirms it
// (a PTR without its TXT) from src; it reports whether the instance is
// held. Only the address the records came from refreshes them.
func (t *table) touch(inst string, src netip.Addr, ttl time.Duration, now time.Time) bool {
	e := t.insts[inst]
	if e == nil {
		return false
	}
	if e.src != src {
		return true
	}
	e.seen, e.ttl, e.asked = now, ttl, 0
	return true
}

// samePeer compares everything but the times.
func samePeer(a, b models.Peer) bool {
	return a.NodeName == b.NodeName && a.Name == b.Name && a.Image == b.Image && a.State == b.State &&
		a.Address == b.Address && a.SyncPort == b.SyncPort && a.Fingerprint == b.Fingerprint &&
		a.MorePorts == b.MorePorts && slices.Equal(a.Ports, b.Ports)
}

// remove drops an instance on its goodbye from src and, for a node, its
// containers. A goodbye from another address than the records' is
// ignored: one host cannot make another's instances disappear.
func (t *table) remove(inst string, src netip.Addr, now time.Time) []models.PeerEvent {
	e := t.insts[inst]
	if e == nil || e.src != src {
		return nil
	}
	e.expired = true
	return t.sweep(now)
}

// expire drops every instance whose TTL has run out, and the containers
// of every node dropped.
func (t *table) expire(now time.Time) []models.PeerEvent {
	for _, e := range t.insts {
		if !now.Before(e.expires()) {
			e.expired = true
		}
	}
	return t.sweep(now)
}

// sweep removes the entries marked expired and the containers of the
// nodes among them.
func (t *table) sweep(now time.Time) []models.PeerEvent {
	gone := map[string]bool{}
	for _, e := range t.insts {
		if e.expired && e.node {
			gone[e.peer.NodeID] = true
		}
	}
	var evs []models.PeerEvent
	for inst, e := range t.insts {
		if !e.expired && (e.node || !gone[e.peer.NodeID]) {
			continue
		}
		delete(t.insts, inst)
		if t.perSrc[e.src]--; t.perSrc[e.src] <= 0 {
			delete(t.perSrc, e.src)
		}
		typ := models.PeerExpired
		if e.node {
			typ = models.NodeExpired
		}
		evs = append(evs, models.PeerEvent{Type: typ, Time: now, Peer: e.peer})
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Peer.Name < evs[j].Peer.Name })
	return evs
}

// due returns the instances that reached their next refresh point and
// counts the refresh as asked for.
func (t *table) due(now time.Time) []string {
	var due []string
	for _, e := range t.insts {
		if e.asked < len(refreshAt) && now.Sub(e.seen) >= time.Duration(float64(e.ttl)*(refreshAt[e.asked]+e.jitter)) {
			e.asked++
			for e.asked < len(refreshAt) && now.Sub(e.seen) >= time.Duration(float64(e.ttl)*(refreshAt[e.asked]+e.jitter)) {
				e.asked++
			}
			due = append(due, e.inst)
		}
	}
	return due
}

// known returns the PTR records a query lists as known answers: those
// with more than half their TTL left (RFC 6762 §7.1).
func (t *table) known(now time.Time) []dns.RR {
	var out []dns.RR
	for _, e := range t.insts {
		left := e.expires().Sub(now)
		if left > e.ttl/2 {
			out = append(out, &dns.PTR{Hdr: rrHeader(serviceName, dns.TypePTR, uint32(left/time.Second), false), Ptr: instanceName(e.inst)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].(*dns.PTR).Ptr < out[j].(*dns.PTR).Ptr })
	return out
}

// list returns every container, sorted by node name, then container name.
func (t *table) list() []models.Peer {
	out := make([]models.Peer, 0, len(t.insts))
	for _, e := range t.insts {
		if e.node {
			continue
		}
		q := e.peer
		q.Ports = slices.Clone(e.peer.Ports)
		q.LastSeen = e.seen
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
	for _, e := range t.insts {
		if e.node {
			p := e.peer
			byID[p.NodeID] = &models.PeerNode{ID: p.NodeID, Name: p.NodeName, Address: p.Address, SyncPort: p.SyncPort,
				Fingerprint: p.Fingerprint, Local: p.NodeID == t.self, LastSeen: e.seen, Containers: []models.Peer{}}
		}
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
