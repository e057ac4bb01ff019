package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
)

func TestResolve(t *testing.T) {
	nodes := []models.PeerNode{
		{ID: "aaaa1111", Name: "self", Local: true, Containers: []models.Peer{{ContainerID: "c0ffee01", Name: "web"}}},
		{ID: "bbbb2222", Name: "attic", Containers: []models.Peer{{ContainerID: "deadbeef01", Name: "web"}, {ContainerID: "deadbeef02", Name: "db"}}},
		{ID: "cccc3333", Name: "basement", Containers: []models.Peer{{ContainerID: "feed0001", Name: "web"}}},
	}
	tests := []struct {
		ref, node, id string
		err           error
	}{
		{"web@attic", "attic", "deadbeef01", nil},
		{"web@cccc", "basement", "feed0001", nil},
		{"db", "attic", "deadbeef02", nil},
		{"deadbeef02", "attic", "deadbeef02", nil},
		{"feed", "basement", "feed0001", nil},
		{"web", "", "", errdefs.ErrAmbiguous},
		{"deadbeef", "", "", errdefs.ErrAmbiguous},
		{"web@self", "", "", errdefs.ErrNotFound},
		{"nope@attic", "", "", errdefs.ErrNotFound},
		{"web@", "", "", errdefs.ErrInvalid},
		{"@attic", "", "", errdefs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			n, p, err := Resolve(nodes, tt.ref)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || n.Name != tt.node || p.ContainerID != tt.id {
				t.Fatalf("got %s/%s, %v; want %s/%s", n.Name, p.ContainerID, err, tt.node, tt.id)
			}
		})
	}
}

func TestSyncAddr(t *testing.T) {
	tests := []struct {
		node models.PeerNode
		want string
	}{
		{models.PeerNode{Address: "10.0.0.7", SyncPort: 9000}, "10.0.0.7:9000"},
		{models.PeerNode{Address: "10.0.0.7:5353"}, "10.0.0.7:18733"},
		{models.PeerNode{Address: "fe80::1", SyncPort: 1}, "[fe80::1]:1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := syncAddr(tt.node); got != tt.want {
				t.Fatalf("syncAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFollowerStatus(t *testing.T) {
	c := models.Container{ID: "r1", Name: "data", Spec: models.ContainerSpec{Volumes: []models.VolumeMount{
		{Kind: models.VolumeNamed, Source: "a"}, {Kind: models.VolumeBind, Source: "/x"}, {Kind: models.VolumeNamed, Source: "b"},
	}}}
	f := newFollower(c, map[string]string{LabelReplicaOf: "node1/p1", LabelReplicaSync: "on"})
	if f.primaryNode != "node1" || f.primaryCID != "p1" || len(f.volumes) != 2 {
		t.Fatalf("follower %+v", f)
	}
	if st := f.status(); st.State != models.ReplicaConnecting {
		t.Fatalf("fresh state %s", st.State)
	}
	f.synced("a", volsync.Stats{BytesReceived: 10}, nil)
	f.synced("b", volsync.Stats{BytesReceived: 5}, nil)
	st := f.status()
	if st.State != models.ReplicaOK || st.BytesReceived != 15 || st.Syncs != 2 || st.LastSync.IsZero() {
		t.Fatalf("after syncs: %+v", st)
	}
	f.synced("b", volsync.Stats{}, errors.New("connection reset"))
	if st := f.status(); st.State != models.ReplicaError || st.Message != "connection reset" {
		t.Fatalf("after a failure: %+v", st)
	}
}

func TestReporterETA(t *testing.T) {
	var got Progress
	rep := reporter(func(p Progress) { got = p }, "volume a")
	time.Sleep(20 * time.Millisecond)
	rep(volsync.Progress{BytesDone: 100, BytesTotal: 300})
	if got.What != "volume a" || got.Rate <= 0 || got.ETA <= 0 {
		t.Fatalf("progress %+v", got)
	}
	// Two thirds are left at the same rate: about twice the time so far.
	if got.ETA < 30*time.Millisecond || got.ETA > 2*time.Second {
		t.Fatalf("ETA %v for 200 bytes at %.0f B/s", got.ETA, got.Rate)
	}
}
