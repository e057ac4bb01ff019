package discovery

import (
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Announcement timing (RFC 6762 §8.3, §10.1).
const (
	// repeatAfter is when an announcement (or a goodbye) is sent again.
	repeatAfter = time.Second
	// reannounceEvery is how often the node's own records are
	// re-announced: at 75% of their TTL, before browsers would query.
	reannounceEvery = NodeTTL * 3 / 4
)

// AnnouncerOptions configure an Announcer.
type AnnouncerOptions struct {
	// Interfaces are announced on; required.
	Interfaces []net.Interface
	// Port is the SRV port of every instance (the node's sync port); required.
	Port int
	// Log receives failures; nil means none.
	Log *slog.Logger
}

// Announcer is this node's mDNS responder: one socket per interface
// answering for every announcement at once (several answers per packet,
// split over packets as needed), announcing new and changed ones
// unsolicited twice one second apart, and sending goodbyes (TTL 0) for
// those withdrawn and, on Close, for all.
type Announcer struct {
	opts   AnnouncerOptions
	mu     sync.Mutex
	zones  map[string]*zone // by instance
	links  []*link
	opened bool
	closed bool
	stop   chan struct{}
}

// link is the responder on one interface.
type link struct {
	c        *conn
	lastSent map[string]time.Time        // instance → last multicast
	pending  map[netip.AddrPort]*pending // truncated queries awaiting more known answers
}

// NewAnnouncer returns an announcer announcing nothing yet; its sockets
// open on the first Set.
func NewAnnouncer(opts AnnouncerOptions) *Announcer {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Announcer{opts: opts, zones: map[string]*zone{}, stop: make(chan struct{})}
}

// Set makes anns the announced set: new and changed announcements are
// multicast at once and again a second later, withdrawn ones get a
// goodbye. The errors of announcements that are not valid are joined;
// the others are announced regardless.
func (a *Announcer) Set(anns []Announcement) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("announcer closed")
	}
	if err := a.open(); err != nil {
		return err
	}
	want := make(map[string]*zone, len(anns))
	var errs []error
	var fresh []*zone
	for _, ann := range anns {
		txt, err := ann.TXT()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		z := newZone(ann, txt)
		if old := a.zones[z.inst]; old != nil && slices.Equal(old.txt, txt) {
			want[z.inst] = old
			continue
		}
		want[z.inst] = z
		fresh = append(fresh, z)
	}
	var gone []*zone
	for inst, z := range a.zones {
		if want[inst] == nil {
			gone = append(gone, z)
		}
	}
	a.zones = want
	// Goodbyes first: the node record among fresh sums up what remains.
	a.announce(gone, true)
	a.announce(fresh, false)
	if len(fresh)+len(gone) > 0 {
		time.AfterFunc(repeatAfter, func() { a.repeat(fresh, gone) })
	}
	return errors.Join(errs...)
}

// open opens a socket on every interface and starts answering; it fails
// only when no interface could open one. The caller holds a.mu.
func (a *Announcer) open() error {
	if a.opened {
		return nil
	}
	var errs []error
	for _, ifi := range a.opts.Interfaces {
		c, err := listen(ifi)
		if err == nil && c.firstIPv4() == nil {
			c.close()
			err = errors.New("mdns on " + ifi.Name + ": no IPv4 address")
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		l := &link{c: c, lastSent: map[string]time.Time{}, pending: map[netip.AddrPort]*pending{}}
		a.links = append(a.links, l)
		go a.serve(l)
	}
	if len(a.links) == 0 {
		return errors.Join(append(errs, errors.New("announce: no interface could open an mdns socket"))...)
	}
	for _, err := range errs {
		a.opts.Log.Warn("mdns responder", "err", err)
	}
	a.opened = true
	go a.reannounce()
	return nil
}

// repeat sends the second announcement of fresh zones still current and
// the second goodbye of gone ones still withdrawn.
func (a *Announcer) repeat(fresh, gone []*zone) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.announce(slices.DeleteFunc(slices.Clone(gone), func(z *zone) bool { return a.zones[z.inst] != nil }), true)
	a.announce(slices.DeleteFunc(slices.Clone(fresh), func(z *zone) bool { return a.zones[z.inst] != z }), false)
}

// reannounce multicasts the node's own records before they expire in
// browsers, until the announcer closes.
func (a *Announcer) reannounce() {
	t := time.NewTicker(reannounceEvery)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		a.mu.Lock()
		var nodes []*zone
		for _, z := range a.zones {
			if z.node {
				nodes = append(nodes, z)
			}
		}
		a.announce(nodes, false)
		a.mu.Unlock()
	}
}

// announce multicasts zs unsolicited on every interface (goodbye: with
// TTL 0). The caller holds a.mu.
func (a *Announcer) announce(zs []*zone, goodbye bool) {
	if len(zs) == 0 {
		return
	}
	sortZones(zs)
	now := time.Now()
	for _, l := range a.links {
		if len(l.lastSent) > 2*len(a.zones)+64 {
			maps.DeleteFunc(l.lastSent, func(_ string, at time.Time) bool { return now.Sub(at) >= rateLimit })
		}
		groups := make([]group, 0, len(zs))
		for _, z := range zs {
			ttl := z.ttl
			if goodbye {
				ttl = 0
			}
			groups = append(groups, group{answer: []dns.RR{z.ptr(ttl), z.srv(ttl, a.opts.Port, true), z.txtRR(ttl, true)}})
			l.lastSent[z.inst] = now
		}
		a.send(l, groups, netip.AddrPort{}, dns.MsgHdr{Response: true, Authoritative: true}, nil, true)
	}
}

// send packs groups and sends them from l: multicast when dst is not
// valid, else to dst. The caller holds a.mu.
func (a *Announcer) send(l *link, groups []group, dst netip.AddrPort, hdr dns.MsgHdr, q []dns.Question, aAnswer bool) {
	hosts := map[string]dns.RR{}
	ip := l.c.firstIPv4()
	ttl := uint32(hostTTL / time.Second)
	legacy := dst.IsValid() && dst.Port() != mdnsPort
	if legacy {
		ttl = legacyTTL
	}
	for _, z := range a.zones {
		hosts[z.host] = aRR(z.host, ip, ttl, !legacy)
	}
	payload := l.c.payload
	if legacy {
		payload = legacyPayload
	}
	pkts, err := pack(hdr, q, groups, hosts, aAnswer, payload)
	if err != nil {
		a.opts.Log.Warn("pack mdns answer", "err", err)
		return
	}
	if legacy && len(pkts) > 1 {
		pkts = pkts[:1]
		pkts[0][2] |= 0x02 // TC: the rest did not fit (RFC 6762 §6.7)
	}
	for _, p := range pkts {
		if dst.IsValid() {
			err = l.c.unicast(p, dst)
		} else {
			err = l.c.multicast(p)
		}
		if err != nil {
			a.opts.Log.Debug("send mdns packet", "interface", l.c.ifi.Name, "err", err)
		}
	}
}

// sortZones orders zones by name with the node's own instance last, so
// that packets are deterministic and a browser has the containers of a
// burst before the node record whose digest sums them up.
func sortZones(zs []*zone) {
	sort.Slice(zs, func(i, j int) bool {
		if zs[i].node != zs[j].node {
			return zs[j].node
		}
		return zs[i].inst < zs[j].inst
	})
}

// Len returns how many announcements are live.
func (a *Announcer) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.zones)
}

// Close sends a goodbye for every announcement and closes the sockets.
func (a *Announcer) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.closed = true
	all := make([]*zone, 0, len(a.zones))
	for _, z := range a.zones {
		all = append(all, z)
	}
	a.announce(all, true)
	clear(a.zones)
	close(a.stop)
	for _, l := range a.links {
		l.c.close()
	}
}
