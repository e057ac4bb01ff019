package discovery

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FuzzPacket feeds arbitrary packets to the parser, to the browser as a
// response and to the responder as a query: nothing may panic, the
// browser's table stays within its bounds and every answer packs within
// the payload asked for (a lone oversized group aside).
func FuzzPacket(f *testing.F) {
	good := sampleAnnouncement()
	for _, m := range []*dns.Msg{response(f, 120, good), response(f, 0, good)} {
		b, _ := m.Pack()
		f.Add(b)
	}
	q := new(dns.Msg)
	q.Question = []dns.Question{{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}, {Name: metaQuery, Qtype: dns.TypeANY, Qclass: dns.ClassINET | cacheFlush}}
	q.Answer = []dns.RR{&dns.PTR{Hdr: rrHeader(serviceName, dns.TypePTR, 4500, false), Ptr: instanceName(good.Instance())}}
	qb, _ := q.Pack()
	f.Add(qb)
	f.Add([]byte("\x00\x00\x84\x00\x00\x00\x00\x05garbage"))
	a := testAnnouncer(f, 20)
	b := NewBrowser(BrowserOptions{Self: testNode})
	src := netip.MustParseAddr("10.231.0.7")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parsePacket(data)
		if err != nil {
			return
		}
		if m.Response {
			b.handle("lab0", src, m)
			b.mu.Lock()
			b.expireHosts(time.Now())
			n, hosts := len(b.table.insts), len(b.hosts)
			b.mu.Unlock()
			if n > maxPerSource || hosts > maxHostsPerSource {
				t.Fatalf("one source made %d instances and %d hosts", n, hosts)
			}
			return
		}
		known := addKnown(map[string]uint32{}, m.Answer)
		qs := m.Question[:min(len(m.Question), maxQuestions)]
		groups, _ := a.match(qs, func(z *zone) bool { return known[z.inst] >= z.ttl/2 }, true, net.IPv4(10, 0, 0, 1))
		pkts, err := pack(dns.MsgHdr{Response: true}, qs[:min(1, len(qs))], groups, nil, false, legacyPayload)
		if err != nil {
			t.Fatalf("pack answer: %v", err)
		}
		for _, p := range pkts {
			if _, err := parsePacket(p); err != nil {
				t.Fatalf("answer does not parse back: %v", err)
			}
		}
	})
}
