package discovery

import (
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxDups bounds the other hosts' truncated queries followed at once.
const maxDups = 64

// dupQuery follows another host's query for our service over its
// packets (its known answers continue while the TC bit is set).
type dupQuery struct {
	covered bool // every known answer so far is one we hold
	at      time.Time
}

// sawQuery applies duplicate question suppression (RFC 6762 §7.3): a
// query for our service from another host whose known answers (over all
// its packets) we all hold counts as our own next continuous query.
func (b *Browser) sawQuery(c *conn, src netip.AddrPort, m *dns.Msg) {
	if c.onLinkSelf(src.Addr()) {
		return
	}
	now := b.opts.Clock()
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.dups[src]
	switch {
	case asksService(m):
		d = &dupQuery{covered: true, at: now}
	case d == nil || len(m.Question) > 0 || now.Sub(d.at) > time.Second:
		delete(b.dups, src)
		return
	}
	for inst := range addKnown(map[string]uint32{}, m.Answer) {
		d.covered = d.covered && b.table.insts[inst] != nil
	}
	if m.Truncated {
		if len(b.dups) < maxDups || b.dups[src] != nil {
			b.dups[src] = d
		}
		return
	}
	delete(b.dups, src)
	if d.covered && b.interval > 0 && now.Before(b.next) && b.next.Sub(now) < b.interval {
		b.next, b.interval = now.Add(b.interval), min(2*b.interval, MaxInterval)
	}
}

// asksService reports whether m asks for our service's PTR records
// (multicast answer).
func asksService(m *dns.Msg) bool {
	for _, q := range m.Question {
		if q.Qtype == dns.TypePTR && q.Qclass&cacheFlush == 0 && strings.EqualFold(q.Name, serviceName) {
			return true
		}
	}
	return false
}
