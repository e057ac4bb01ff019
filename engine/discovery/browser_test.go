package discovery

import (
	"net"
	"testing"
	"time"

	"github.com/hashicorp/mdns"

	"github.com/budgie-sh/budgie/models"
)

// TestBrowserHandleFiltersEntries feeds the browser library entries as a
// query would deliver them: only valid instances of our service count.
func TestBrowserHandleFiltersEntries(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	good := sampleAnnouncement()
	txt, err := good.TXT()
	if err != nil {
		t.Fatal(err)
	}
	name := good.Instance() + "." + ServiceType + "." + Domain
	addr := net.IPv4(10, 231, 0, 2)
	tests := []struct {
		name  string
		entry mdns.ServiceEntry
		count bool
	}{
		{"other service", mdns.ServiceEntry{Name: good.Instance() + "._http._tcp.local.", InfoFields: txt, AddrV4: addr}, false},
		{"nested name", mdns.ServiceEntry{Name: "x." + name, InfoFields: txt, AddrV4: addr}, false},
		{"foreign TXT", mdns.ServiceEntry{Name: name, InfoFields: []string{"path=/"}, AddrV4: addr}, false},
		{"instance does not match its TXT", mdns.ServiceEntry{Name: "other." + ServiceType + "." + Domain, InfoFields: txt, AddrV4: addr}, false},
		{"IPv6 only", mdns.ServiceEntry{Name: name, InfoFields: txt, AddrV6: net.ParseIP("fe80::1")}, false},
		{"valid", mdns.ServiceEntry{Name: name, InfoFields: txt, AddrV4: addr}, true},
	}
	b := NewBrowser(BrowserOptions{Self: testNode, Clock: clock.Now})
	events, stop := b.Subscribe()
	defer stop()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.entry
			b.handle("lab0", &e)
			wantIgnored := int64(i + 1)
			if tt.count {
				wantIgnored = int64(i)
			}
			if b.Ignored() != wantIgnored {
				t.Fatalf("ignored = %d, want %d", b.Ignored(), wantIgnored)
			}
		})
	}
	select {
	case ev := <-events:
		if ev.Type != models.PeerAppeared || ev.Peer.Address != "10.231.0.2" || ev.Peer.Name != "web" {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("no event for the valid entry")
	}
	if nodes := b.Nodes(); len(nodes) != 1 || !nodes[0].Local || len(nodes[0].Containers) != 1 {
		t.Fatalf("nodes = %+v", nodes)
	}
}
