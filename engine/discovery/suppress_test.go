package discovery

import (
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestDuplicateQuerySuppression checks that another host's query counts
// as ours only when we hold every known answer over all its packets.
func TestDuplicateQuerySuppression(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	held, unknown := ctrAnn(testNode, "held", 0), ctrAnn(testNode, "unknown", 1)
	ka := func(a Announcement) dns.RR {
		return &dns.PTR{Hdr: rrHeader(serviceName, dns.TypePTR, 4000, false), Ptr: instanceName(a.Instance())}
	}
	q := []dns.Question{{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	other := netip.MustParseAddrPort("10.231.0.5:5353")
	c := &conn{nets: []netip.Prefix{netip.MustParsePrefix("10.231.0.1/24")}}
	tests := []struct {
		name      string
		second    []dns.RR // known answers of the continuation packet
		postponed bool
	}{
		{"known answers we all hold", []dns.RR{ka(held)}, true},
		{"a continuation lists one we lack", []dns.RR{ka(unknown)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBrowser(BrowserOptions{Clock: clock.Now})
			b.table.observe(held, "x", src, ContainerTTL, clock.Now())
			b.interval, b.next = 4*time.Second, clock.Now().Add(time.Second)
			b.sawQuery(c, other, &dns.Msg{MsgHdr: dns.MsgHdr{Truncated: true}, Question: q, Answer: []dns.RR{ka(held)}})
			b.sawQuery(c, other, &dns.Msg{Answer: tt.second})
			if got := b.next.After(clock.Now().Add(time.Second)); got != tt.postponed {
				t.Fatalf("postponed = %v, want %v", got, tt.postponed)
			}
		})
	}
}
