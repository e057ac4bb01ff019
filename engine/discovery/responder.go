package discovery

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Responder bounds and timing (RFC 6762 §6, §7.2).
const (
	// rateLimit is how soon a record may be multicast again on one
	// interface in answer to a query.
	rateLimit = time.Second
	// maxQuestions bounds the questions of one query answered.
	maxQuestions = 32
	// maxPending bounds the truncated queries waiting for their known answers.
	maxPending = 64
	// maxKnown bounds the known answers kept for one query.
	maxKnown = 8192
)

// pending is a truncated query (TC bit): its known answers continue in
// the querier's next packets, and the answer waits 400–500 ms for them.
type pending struct {
	questions []dns.Question
	known     map[string]uint32
}

// serve answers the queries that arrive on l until its socket closes.
func (a *Announcer) serve(l *link) {
	buf := make([]byte, maxPacket+1)
	for {
		p, err := l.c.read(buf)
		if err != nil {
			return
		}
		if len(p.data) > maxPacket {
			continue
		}
		m, err := parsePacket(p.data)
		if err != nil || m.Response {
			continue
		}
		a.mu.Lock()
		if !a.closed {
			a.query(l, m, p.src)
		}
		a.mu.Unlock()
	}
}

// query handles one query from src. The caller holds a.mu.
func (a *Announcer) query(l *link, m *dns.Msg, src netip.AddrPort) {
	legacy := src.Port() != mdnsPort
	if pq := l.pending[src]; pq != nil && !legacy {
		addKnown(pq.known, m.Answer) // more known answers of a truncated query
		return
	}
	if len(m.Question) == 0 {
		return
	}
	qs := m.Question[:min(len(m.Question), maxQuestions)]
	known := addKnown(map[string]uint32{}, m.Answer)
	if legacy {
		a.answer(l, qs, known, src, m.Id)
		return
	}
	if m.Truncated && len(l.pending) < maxPending {
		l.pending[src] = &pending{questions: qs, known: known}
		time.AfterFunc(jitter(400*time.Millisecond, 500*time.Millisecond), func() { a.answerPending(l, src) })
		return
	}
	time.AfterFunc(jitter(20*time.Millisecond, 120*time.Millisecond), func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.closed {
			a.answer(l, qs, known, unicastTo(qs, src), 0)
		}
	})
}

func (a *Announcer) answerPending(l *link, src netip.AddrPort) {
	a.mu.Lock()
	defer a.mu.Unlock()
	pq := l.pending[src]
	delete(l.pending, src)
	if pq != nil && !a.closed {
		a.answer(l, pq.questions, pq.known, unicastTo(pq.questions, src), 0)
	}
}

// unicastTo returns src when every question asks for a unicast answer
// (the QU bit, RFC 6762 §5.4), else the zero AddrPort (multicast).
func unicastTo(qs []dns.Question, src netip.AddrPort) netip.AddrPort {
	for _, q := range qs {
		if q.Qclass&cacheFlush == 0 {
			return netip.AddrPort{}
		}
	}
	return src
}

// addKnown adds the PTR records of our service among rrs to known
// (instance → TTL), within maxKnown.
func addKnown(known map[string]uint32, rrs []dns.RR) map[string]uint32 {
	for _, rr := range rrs {
		ptr, ok := rr.(*dns.PTR)
		if !ok || !strings.EqualFold(ptr.Hdr.Name, serviceName) || len(known) >= maxKnown {
			continue
		}
		if inst, ok := instanceOf(ptr.Ptr); ok {
			known[inst] = max(known[inst], ptr.Hdr.Ttl)
		}
	}
	return known
}

// answer sends what answers qs, less what known lists with at least half
// its TTL (known-answer suppression, §7.1) and, for multicast, what was
// multicast on l less than rateLimit ago. dst is the unicast
// destination, invalid for multicast; id is a legacy query's ID. The
// caller holds a.mu.
func (a *Announcer) answer(l *link, qs []dns.Question, known map[string]uint32, dst netip.AddrPort, id uint16) {
	legacy := dst.IsValid() && dst.Port() != mdnsPort
	now := time.Now()
	skip := func(z *zone) bool {
		if known[z.inst] >= z.ttl/2 {
			return true
		}
		return !dst.IsValid() && now.Sub(l.lastSent[z.inst]) < rateLimit
	}
	groups, insts := a.match(qs, skip, legacy, l.c.firstIPv4())
	if len(groups) == 0 {
		return
	}
	if !dst.IsValid() {
		for _, inst := range insts {
			l.lastSent[inst] = now
		}
	}
	hdr := dns.MsgHdr{Response: true, Authoritative: true}
	var q []dns.Question
	if legacy {
		hdr.Id, q = id, qs[:1]
	}
	a.send(l, groups, dst, hdr, q, false)
}

// match returns the answers to qs, one group per record set, skipping
// the zones skip says, and the instances answered for; ip is the
// interface's address. The caller holds a.mu.
func (a *Announcer) match(qs []dns.Question, skip func(*zone) bool, legacy bool, ip net.IP) ([]group, []string) {
	zs := make([]*zone, 0, len(a.zones))
	for _, z := range a.zones {
		zs = append(zs, z)
	}
	sortZones(zs)
	seen := map[string]bool{}
	var groups []group
	var insts []string
	for _, q := range qs {
		name, typ := strings.ToLower(q.Name), q.Qtype
		if name == metaQuery && (typ == dns.TypePTR || typ == dns.TypeANY) && len(zs) > 0 && !seen[metaQuery] {
			seen[metaQuery] = true
			ttl := uint32(ContainerTTL / time.Second)
			if legacy {
				ttl = legacyTTL
			}
			groups = append(groups, group{answer: []dns.RR{&dns.PTR{Hdr: rrHeader(metaQuery, dns.TypePTR, ttl, false), Ptr: serviceName}}})
		}
		for _, z := range a.candidates(zs, name) {
			if skip(z) {
				continue
			}
			key, g, ok := a.answerFor(z, name, typ, legacy, ip)
			if !ok || seen[key] {
				continue
			}
			seen[key] = true
			groups, insts = append(groups, g), append(insts, z.inst)
		}
	}
	return groups, insts
}

// candidates returns the zones (of zs, sorted) a question for name may
// concern: all for the service, the one an instance name names, those
// with that host name.
func (a *Announcer) candidates(zs []*zone, name string) []*zone {
	if name == serviceName {
		return zs
	}
	if inst, ok := instanceOf(name); ok {
		if z := a.zones[inst]; z != nil {
			return []*zone{z}
		}
		return nil
	}
	for _, z := range zs {
		if z.host == name {
			return []*zone{z}
		}
	}
	return nil
}

// answerFor returns z's answer to a question for name and type typ, and
// a key for the record set it answers with.
func (a *Announcer) answerFor(z *zone, name string, typ uint16, legacy bool, ip net.IP) (string, group, bool) {
	ttl, unique := z.ttl, !legacy
	if legacy {
		ttl = min(ttl, legacyTTL)
	}
	anyType := typ == dns.TypeANY
	switch {
	case name == serviceName && (typ == dns.TypePTR || anyType):
		return "ptr " + z.inst, group{answer: []dns.RR{z.ptr(ttl)}, extra: []dns.RR{z.srv(ttl, a.opts.Port, unique), z.txtRR(ttl, unique)}}, true
	case name == instanceName(z.inst) && (typ == dns.TypeSRV || anyType):
		return "set " + z.inst, group{answer: []dns.RR{z.srv(ttl, a.opts.Port, unique)}, extra: []dns.RR{z.txtRR(ttl, unique)}}, true
	case name == instanceName(z.inst) && typ == dns.TypeTXT:
		return "set " + z.inst, group{answer: []dns.RR{z.txtRR(ttl, unique)}}, true
	case name == z.host && (typ == dns.TypeA || anyType):
		return "a " + z.host, group{answer: []dns.RR{aRR(z.host, ip, min(ttl, uint32(hostTTL/time.Second)), unique)}}, true
	}
	return "", group{}, false
}

// jitter returns a random duration in [lo, hi).
func jitter(lo, hi time.Duration) time.Duration {
	return lo + rand.N(hi-lo)
}
