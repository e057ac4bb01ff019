package discovery

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// src is the source address of the records in table tests.
var src = netip.MustParseAddr("10.0.0.9")

// fakeClock is a settable clock for table and browser tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func ctrAnn(node, name string, n int) Announcement {
	a := sampleAnnouncement()
	a.NodeID = node
	a.NodeName = "node-" + node[:2]
	a.ContainerName = name
	a.ContainerID = string(rune('a'+n)) + testCtr[1:]
	return a
}

func types(evs []models.PeerEvent) []models.PeerEventType {
	out := make([]models.PeerEventType, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

func TestTableDedupesAndUpdates(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tb := newTable(testNode)
	web := ctrAnn(testNode, "web", 0)
	tests := []struct {
		name string
		step func() []models.PeerEvent
		want []models.PeerEventType
	}{
		{"first sight appears", func() []models.PeerEvent { return tb.observe(web, "10.0.0.1", src, ContainerTTL, clock.Now()) }, []models.PeerEventType{models.PeerAppeared}},
		{"same record on a second interface is a duplicate", func() []models.PeerEvent { return tb.observe(web, "10.0.0.1", src, ContainerTTL, clock.Now()) }, nil},
		{"same record later only refreshes", func() []models.PeerEvent {
			clock.Advance(time.Second)
			return tb.observe(web, "10.0.0.1", src, ContainerTTL, clock.Now())
		}, nil},
		{"a changed state updates", func() []models.PeerEvent {
			w := web
			w.State = models.StatePaused
			return tb.observe(w, "10.0.0.1", src, ContainerTTL, clock.Now())
		}, []models.PeerEventType{models.PeerUpdated}},
		{"the same container of another node is another entry", func() []models.PeerEvent {
			other := web
			other.NodeID = "ffffffffffffffffffffffffffffffff"
			return tb.observe(other, "10.0.0.2", src, ContainerTTL, clock.Now())
		}, []models.PeerEventType{models.PeerAppeared}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := types(tt.step()); !equalTypes(got, tt.want) {
				t.Fatalf("events %v, want %v", got, tt.want)
			}
		})
	}
	got := tb.list()
	if len(got) != 2 {
		t.Fatalf("list = %+v, want 2 entries", got)
	}
	for _, p := range got {
		if p.NodeID == testNode && (!p.LastSeen.Equal(clock.Now()) || !p.FirstSeen.Equal(clock.Now().Add(-time.Second))) {
			t.Errorf("web: first seen %v, last seen %v; want a refresh to move only the last", p.FirstSeen, p.LastSeen)
		}
	}
}

func TestTableExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tb := newTable(testNode)
	other := "ffffffffffffffffffffffffffffffff"
	node := Announcement{Kind: KindNode, NodeID: other, NodeName: "n", SyncPort: 1}
	tied, alone := ctrAnn(other, "tied", 0), ctrAnn(testNode, "alone", 1)
	tb.observe(node, "a", src, NodeTTL, clock.Now())
	tb.observe(tied, "a", src, ContainerTTL, clock.Now())
	tb.observe(alone, "a", src, ContainerTTL, clock.Now())
	tests := []struct {
		name    string
		advance time.Duration
		refresh bool // the node's record comes again
		want    []models.PeerEventType
		due     bool
	}{
		{"before 80% of the node's TTL nothing is due", 15 * time.Second, false, nil, false},
		{"at 82% a refresh is due", 1500 * time.Millisecond, false, nil, true},
		{"a re-announcement renews it", 0, true, nil, false},
		{"just before its TTL it lives", NodeTTL - time.Millisecond, false, nil, true},
		{"at its TTL the node goes and its container with it", time.Millisecond, false, []models.PeerEventType{models.NodeExpired, models.PeerExpired}, false},
		{"a container without a node record lives by its own TTL", ContainerTTL - 40*time.Second, false, nil, true},
		{"and then goes", 4 * time.Second, false, []models.PeerEventType{models.PeerExpired}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			if tt.refresh {
				tb.observe(node, "a", src, NodeTTL, clock.Now())
			}
			if due := len(tb.due(clock.Now())) > 0; due != tt.due {
				t.Errorf("due = %v, want %v", due, tt.due)
			}
			got := types(tb.expire(clock.Now()))
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !equalTypes(got, want) {
				t.Fatalf("expired %v, want %v", got, want)
			}
		})
	}
}

func TestTableGoodbyeAndBounds(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tb := newTable(testNode)
	node := Announcement{Kind: KindNode, NodeID: testNode, NodeName: "n", SyncPort: 1}
	web := ctrAnn(testNode, "web", 0)
	tb.observe(node, "a", src, NodeTTL, now)
	tb.observe(web, "a", src, ContainerTTL, now)
	if evs := tb.remove(web.Instance(), netip.MustParseAddr("10.0.0.66"), now); len(evs) != 0 {
		t.Fatalf("a goodbye from another host removed %v", types(evs))
	}
	if evs := tb.remove(web.Instance(), src, now); !equalTypes(types(evs), []models.PeerEventType{models.PeerExpired}) {
		t.Fatalf("container goodbye: %v", types(evs))
	}
	tb.observe(web, "a", src, ContainerTTL, now)
	if evs := tb.remove(node.Instance(), src, now); len(evs) != 2 {
		t.Fatalf("node goodbye: %v, want the node and its container", types(evs))
	}
	if n := len(tb.known(now)); n != 0 {
		t.Fatalf("known answers after goodbyes: %d", n)
	}
	for i := 0; i < maxPerSource+10; i++ {
		a := web
		a.ContainerID = fmt.Sprintf("%012x%052d", i, 0)
		tb.observe(a, "a", src, ContainerTTL, now)
	}
	if len(tb.insts) != maxPerSource {
		t.Fatalf("one source holds %d instances, bound %d", len(tb.insts), maxPerSource)
	}
	if n := len(tb.known(now)); n != maxPerSource {
		t.Fatalf("known answers: %d", n)
	}
	if n := len(tb.known(now.Add(ContainerTTL * 6 / 10))); n != 0 {
		t.Fatalf("known answers past half their TTL: %d", n)
	}
}

func TestTableSnapshotGroupsByNode(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	other := "ffffffffffffffffffffffffffffffff"
	tb := newTable(testNode)
	tb.observe(ctrAnn(other, "b", 0), "10.0.0.2", src, NodeTTL, now)
	tb.observe(ctrAnn(other, "a", 1), "10.0.0.2", src, NodeTTL, now.Add(time.Second))
	tb.observe(Announcement{Kind: KindNode, NodeID: testNode, NodeName: "zz-self", SyncPort: 1}, "10.0.0.1", src, NodeTTL, now)
	tb.observe(Announcement{Kind: KindNode, NodeID: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", NodeName: "aa-empty", SyncPort: 1}, "10.0.0.3", src, NodeTTL, now)
	nodes := tb.snapshot()
	if len(nodes) != 3 {
		t.Fatalf("%d nodes: %+v", len(nodes), nodes)
	}
	if !nodes[0].Local || nodes[0].Name != "zz-self" || len(nodes[0].Containers) != 0 {
		t.Errorf("first node %+v, want the local one without containers", nodes[0])
	}
	if nodes[1].Name != "aa-empty" || nodes[2].ID != other {
		t.Errorf("order: %s, %s", nodes[1].Name, nodes[2].Name)
	}
	n := nodes[2]
	if len(n.Containers) != 2 || n.Containers[0].Name != "a" || !n.LastSeen.Equal(now.Add(time.Second)) || n.Address != "10.0.0.2" {
		t.Errorf("node from container records: %+v", n)
	}
}

func equalTypes(a, b []models.PeerEventType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTableNodeRestart checks that when a node's record comes with a new
// epoch (its keeper restarted), its containers not announced again by
// the new run go after restartGrace, while those announced stay.
func TestTableNodeRestart(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tb := newTable(testNode)
	other := "ffffffffffffffffffffffffffffffff"
	node := Announcement{Kind: KindNode, NodeID: other, NodeName: "n", SyncPort: 1, Epoch: "run1"}
	stale, live := ctrAnn(other, "stale", 0), ctrAnn(other, "live", 1)
	tb.observe(node, "a", src, NodeTTL, now)
	tb.observe(stale, "a", src, ContainerTTL, now)
	tb.observe(live, "a", src, ContainerTTL, now)
	now = now.Add(5 * time.Second)
	node.Epoch = "run2"
	tb.observe(live, "a", src, ContainerTTL, now) // same packet as the node
	tb.observe(node, "a", src, NodeTTL, now)
	if evs := tb.expire(now.Add(restartGrace - time.Millisecond)); len(evs) != 0 {
		t.Fatalf("expired before the grace: %v", types(evs))
	}
	evs := tb.expire(now.Add(restartGrace))
	if len(evs) != 1 || evs[0].Peer.Name != "stale" {
		t.Fatalf("after the grace: %+v, want stale gone", evs)
	}
}
