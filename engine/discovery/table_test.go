package discovery

import (
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

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
	tb := newTable(testNode, 2500*time.Millisecond)
	web := ctrAnn(testNode, "web", 0)
	tests := []struct {
		name string
		step func() []models.PeerEvent
		want []models.PeerEventType
	}{
		{"first sight appears", func() []models.PeerEvent { return tb.observe(web, "10.0.0.1", clock.Now()) }, []models.PeerEventType{models.PeerAppeared}},
		{"same record on a second interface is a duplicate", func() []models.PeerEvent { return tb.observe(web, "10.0.0.1", clock.Now()) }, nil},
		{"same record later only refreshes", func() []models.PeerEvent {
			clock.Advance(time.Second)
			return tb.observe(web, "10.0.0.1", clock.Now())
		}, nil},
		{"a changed state updates", func() []models.PeerEvent {
			w := web
			w.State = models.StatePaused
			return tb.observe(w, "10.0.0.1", clock.Now())
		}, []models.PeerEventType{models.PeerUpdated}},
		{"the same container of another node is another entry", func() []models.PeerEvent {
			other := web
			other.NodeID = "ffffffffffffffffffffffffffffffff"
			return tb.observe(other, "10.0.0.2", clock.Now())
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
	tb := newTable(testNode, 2500*time.Millisecond)
	stays, goes := ctrAnn(testNode, "stays", 0), ctrAnn(testNode, "goes", 1)
	node := Announcement{Kind: KindNode, NodeID: testNode, NodeName: "n", SyncPort: 1}
	tb.observe(stays, "a", clock.Now())
	tb.observe(goes, "a", clock.Now())
	tb.observe(node, "a", clock.Now())
	// Rounds of 1 s: "stays" answers every round, "goes" never again.
	for round := 1; round <= 2; round++ {
		clock.Advance(time.Second)
		tb.observe(stays, "a", clock.Now())
		tb.observe(node, "a", clock.Now())
		if evs := tb.expire(clock.Now()); len(evs) != 0 {
			t.Fatalf("round %d expired %v; two missed rounds are tolerated", round, types(evs))
		}
	}
	clock.Advance(time.Second)
	tb.observe(stays, "a", clock.Now())
	evs := tb.expire(clock.Now())
	if len(evs) != 1 || evs[0].Type != models.PeerExpired || evs[0].Peer.Name != "goes" {
		t.Fatalf("third missed round: %+v, want goes expired", evs)
	}
	clock.Advance(3 * time.Second)
	evs = tb.expire(clock.Now())
	if got := types(evs); !equalTypes(got, []models.PeerEventType{models.NodeExpired, models.PeerExpired}) &&
		!equalTypes(got, []models.PeerEventType{models.PeerExpired, models.NodeExpired}) {
		t.Fatalf("silence: %v, want the container and the node expired", got)
	}
	if len(tb.snapshot()) != 0 {
		t.Fatalf("snapshot after expiry: %+v", tb.snapshot())
	}
	if evs := tb.observe(goes, "a", clock.Now()); len(evs) != 1 || evs[0].Type != models.PeerAppeared {
		t.Fatalf("back after expiry: %v, want appeared", types(evs))
	}
}

func TestTableSnapshotGroupsByNode(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	other := "ffffffffffffffffffffffffffffffff"
	tb := newTable(testNode, time.Minute)
	tb.observe(ctrAnn(other, "b", 0), "10.0.0.2", now)
	tb.observe(ctrAnn(other, "a", 1), "10.0.0.2", now.Add(time.Second))
	tb.observe(Announcement{Kind: KindNode, NodeID: testNode, NodeName: "zz-self", SyncPort: 1}, "10.0.0.1", now)
	tb.observe(Announcement{Kind: KindNode, NodeID: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", NodeName: "aa-empty", SyncPort: 1}, "10.0.0.3", now)
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
