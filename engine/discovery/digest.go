package discovery

import (
	"net/netip"
	"sort"
	"time"

	"github.com/miekg/dns"
)

// sighting is what one response packet says about one instance; a TTL of
// -1 means the record was absent.
type sighting struct {
	inst                   string
	ptrTTL, srvTTL, txtTTL int64
	txt                    []string
	target                 string
}

// digest collects the records of our service in a response, by instance
// (in order of first mention), and its A records by host name.
func digest(m *dns.Msg) ([]*sighting, map[string]dns.A) {
	byInst := map[string]*sighting{}
	var order []*sighting
	get := func(inst string) *sighting {
		s := byInst[inst]
		if s == nil {
			s = &sighting{inst: inst, ptrTTL: -1, srvTTL: -1, txtTTL: -1}
			byInst[inst] = s
			order = append(order, s)
		}
		return s
	}
	hosts := map[string]dns.A{}
	for _, rr := range append(m.Answer[:len(m.Answer):len(m.Answer)], m.Extra...) {
		ttl := int64(rr.Header().Ttl)
		switch r := rr.(type) {
		case *dns.PTR:
			if inst, ok := instanceOf(r.Ptr); ok && lowerName(r.Hdr.Name) == serviceName {
				get(inst).ptrTTL = ttl
			}
		case *dns.SRV:
			if inst, ok := instanceOf(r.Hdr.Name); ok {
				s := get(inst)
				s.srvTTL, s.target = ttl, lowerName(r.Target)
			}
		case *dns.TXT:
			if inst, ok := instanceOf(r.Hdr.Name); ok {
				s := get(inst)
				s.txtTTL, s.txt = ttl, make([]string, len(r.Txt))
				for i, t := range r.Txt {
					s.txt[i] = unescapeTXT(t)
				}
			}
		case *dns.A:
			hosts[lowerName(r.Hdr.Name)] = *r
		}
	}
	return order, hosts
}

// verifyEvery bounds how often a digest mismatch brings the browser's
// next query forward.
const verifyEvery = 10 * time.Second

// handle takes in one response from src on iface and returns the
// instances whose PTR came without their TXT, to be resolved.
func (b *Browser) handle(iface string, src netip.Addr, m *dns.Msg) []string {
	now := b.opts.Clock()
	sights, hosts := digest(m)
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, a := range hosts {
		b.cacheHost(name, a, src, now)
	}
	var want []string
	// Nodes last: a node's record tells its containers' fate.
	sort.SliceStable(sights, func(i, j int) bool { return !isNodeInst(sights[i].inst) && isNodeInst(sights[j].inst) })
	for _, s := range sights {
		switch {
		case s.ptrTTL == 0 || s.srvTTL == 0 || s.txtTTL == 0:
			b.publish(b.table.remove(s.inst, src, now))
		case s.txt != nil:
			b.take(iface, src, s, now)
		case s.ptrTTL > 0 && !b.table.touch(s.inst, src, time.Duration(s.ptrTTL)*time.Second, now):
			if last, ok := b.resolving[s.inst]; (!ok && len(b.resolving) < maxResolving) || now.Sub(last) >= time.Second {
				b.resolving[s.inst] = now
				want = append(want, s.inst)
			}
		}
	}
	return want
}

func isNodeInst(inst string) bool { return len(inst) > 5 && inst[:5] == "node-" }

// take validates one instance's TXT and records it. The caller holds b.mu.
func (b *Browser) take(iface string, src netip.Addr, s *sighting, now time.Time) {
	a, err := ParseTXT(s.txt)
	if err != nil {
		b.ignore(iface, s.inst, err.Error())
		return
	}
	if a.Instance() != s.inst {
		b.ignore(iface, s.inst, "instance name does not match its TXT record")
		return
	}
	addr := src
	if h, ok := b.hosts[s.target]; ok && s.target != "" {
		addr = h.ip
	}
	delete(b.resolving, s.inst)
	b.publish(b.table.observe(a, addr.String(), src, time.Duration(s.txtTTL)*time.Second, now))
	b.checkDigest(a, now)
}

// checkDigest repairs what a node record's digest says the table
// missed: the browser's next query comes at once (its known answers
// leave out what is missing, and the suspect records, so the node sends
// them again), at most every verifyEvery; when the table holds more
// containers of the node than it announces, those not seen recently get
// restartGrace to be announced again. The caller holds b.mu.
func (b *Browser) checkDigest(a Announcement, now time.Time) {
	bad, stale := b.table.mismatch(a)
	if !bad || now.Sub(b.verified) < verifyEvery {
		return
	}
	b.verified = now
	if stale {
		b.table.suspect(a.NodeID, now, recent)
	}
	if soon := now.Add(jitter(20*time.Millisecond, 120*time.Millisecond)); soon.Before(b.next) {
		b.next = soon
	}
}

// cacheHost keeps an A record (within bounds) to resolve SRV targets.
// The caller holds b.mu.
func (b *Browser) cacheHost(name string, a dns.A, src netip.Addr, now time.Time) {
	ip, ok := netip.AddrFromSlice(a.A.To4())
	if !ok || a.A.To4() == nil {
		return
	}
	old, known := b.hosts[name]
	if known && old.src != src {
		return // one host cannot take over another's name while it lives
	}
	if a.Hdr.Ttl == 0 {
		if known {
			delete(b.hosts, name)
			b.hostsBy[old.src]--
		}
		return
	}
	if !known {
		if len(b.hosts) >= maxHosts || b.hostsBy[src] >= maxHostsPerSource {
			return
		}
		b.hostsBy[src]++
	}
	b.hosts[name] = hostAddr{ip: ip, src: src, expires: now.Add(time.Duration(a.Hdr.Ttl) * time.Second)}
}

// expireHosts drops expired A records, stale resolutions and abandoned
// duplicate-query states. The caller holds b.mu.
func (b *Browser) expireHosts(now time.Time) {
	for src, d := range b.dups {
		if now.Sub(d.at) > time.Second {
			delete(b.dups, src)
		}
	}
	for name, h := range b.hosts {
		if !now.Before(h.expires) {
			delete(b.hosts, name)
			if b.hostsBy[h.src]--; b.hostsBy[h.src] <= 0 {
				delete(b.hostsBy, h.src)
			}
		}
	}
	for inst, at := range b.resolving {
		if now.Sub(at) > 10*time.Second {
			delete(b.resolving, inst)
		}
	}
}

func (b *Browser) ignore(iface, inst, why string) {
	b.ignored.Add(1)
	b.opts.Log.Debug("ignored mdns record", "interface", iface, "instance", clip(inst), "why", why)
}
