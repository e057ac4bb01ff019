package discovery

import (
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// TestPausedContainerStaysAnnounced: a paused container is announced with
// state paused (budgie pause, nest's p), and a peer that hears it lists
// it as paused rather than dropping it.
func TestPausedContainerStaysAnnounced(t *testing.T) {
	s := &Service{opts: Options{NodeID: testNode, NodeName: "attic", SyncPort: 18733}}
	f := &follower{s: s, anns: map[string]Announcement{}}
	c := models.Container{ID: testCtr, Name: "web", Image: "docker.io/library/nginx:1.27", State: models.StateRunning}
	f.put(c)
	c.State = models.StatePaused
	f.put(c)
	a, ok := f.anns[testCtr]
	if !ok || a.State != models.StatePaused {
		t.Fatalf("paused container's announcement: %+v (present %v)", a, ok)
	}
	txt, err := a.TXT()
	if err != nil {
		t.Fatal(err)
	}
	heard, err := ParseTXT(txt)
	if err != nil || heard.State != models.StatePaused {
		t.Fatalf("parsed back: %+v %v", heard, err)
	}
	tb := newTable("ffffffffffffffffffffffffffffffff")
	tb.observe(heard, "10.0.0.1", src, ContainerTTL, time.Now())
	var found bool
	for _, p := range tb.list() {
		found = found || (p.ContainerID == testCtr && p.State == models.StatePaused)
	}
	if !found {
		t.Fatalf("the peer's table lacks the paused container: %+v", tb.list())
	}
	c.State = models.StateExited
	f.put(c)
	if _, ok := f.anns[testCtr]; ok {
		t.Errorf("an exited container is still announced")
	}
}
