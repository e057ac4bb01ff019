package keeper

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// TestPeerChurnAtRest feeds the keeper's log what discovery sends for a LAN
// at rest (the same containers over and over, their address alternating
// between two interfaces, LastSeen moving on) and then real changes: at
// debug level one line per real change, at info level nothing at all.
func TestPeerChurnAtRest(t *testing.T) {
	web := models.Peer{NodeID: "n1", NodeName: "attic", ContainerID: "c1", Name: "web", Image: "nginx",
		State: models.StateRunning, Address: "192.168.1.20"}
	db := web
	db.ContainerID, db.Name = "c2", "db"
	var evs []models.PeerEvent
	start := time.Now()
	evs = append(evs, models.PeerEvent{Type: models.NodeAppeared, Peer: models.Peer{NodeID: "n1", NodeName: "attic"}})
	evs = append(evs, models.PeerEvent{Type: models.PeerAppeared, Peer: web}, models.PeerEvent{Type: models.PeerAppeared, Peer: db})
	for i := range 60 { // a minute at rest
		for _, p := range []models.Peer{web, db} {
			p.LastSeen = start.Add(time.Duration(i) * time.Second)
			if i%2 == 1 {
				p.Address = "10.0.0.20"
			}
			evs = append(evs, models.PeerEvent{Type: models.PeerUpdated, Time: p.LastSeen, Peer: p})
		}
	}
	stopped := web
	stopped.State = models.StateExited
	changes := []models.PeerEvent{{Type: models.PeerUpdated, Peer: stopped},
		{Type: models.PeerExpired, Peer: stopped}, {Type: models.PeerAppeared, Peer: web}}

	for _, tt := range []struct {
		level         slog.Level
		rest, changed int
	}{
		// At rest: node-appeared and the two containers, once each.
		// Then: web exited, expired, back again.
		{slog.LevelDebug, 3, 3},
		{slog.LevelInfo, 0, 0},
	} {
		t.Run(tt.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tt.level}))
			sup := newSupervisor(nil, log, nil)
			plog := newPeerLog(log)
			feed := func(evs []models.PeerEvent) []string {
				buf.Reset()
				for _, ev := range evs {
					plog.note(ev)
					sup.publish(Notice{Type: NoticePeer, Name: ev.Peer.Name, Time: ev.Time, Peer: &ev})
				}
				if buf.Len() == 0 {
					return nil
				}
				return strings.Split(strings.TrimSpace(buf.String()), "\n")
			}
			rest := feed(evs)
			if len(rest) != tt.rest {
				t.Errorf("at rest: %d lines, want %d:\n%s", len(rest), tt.rest, strings.Join(rest, "\n"))
			}
			seen := map[string]bool{}
			for _, l := range rest {
				l = l[strings.Index(l, " level="):] // without the time
				if seen[l] {
					t.Errorf("repeated line at rest: %s", l)
				}
				seen[l] = true
			}
			if changed := feed(changes); len(changed) != tt.changed {
				t.Errorf("changes: %d lines, want %d:\n%s", len(changed), tt.changed, strings.Join(changed, "\n"))
			}
		})
	}
}
