package discovery

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/budgie-sh/budgie/models"
)

// response packs anns as one announcement packet (TTL ttl seconds; 0 is
// a goodbye), with the A record of their host, and parses it back.
func response(t testing.TB, ttl uint32, anns ...Announcement) *dns.Msg {
	t.Helper()
	var groups []group
	hosts := map[string]dns.RR{}
	for _, a := range anns {
		txt, err := a.TXT()
		if err != nil {
			t.Fatal(err)
		}
		z := newZone(a, txt)
		groups = append(groups, group{answer: []dns.RR{z.ptr(ttl), z.srv(ttl, 18733, true), z.txtRR(ttl, true)}})
		hosts[z.host] = aRR(z.host, net.IPv4(10, 231, 0, 2), 120, true)
	}
	pkts, err := pack(dns.MsgHdr{Response: true, Authoritative: true}, nil, groups, hosts, true, maxPacket)
	if err != nil || len(pkts) != 1 {
		t.Fatalf("pack: %d packets, %v", len(pkts), err)
	}
	m, err := parsePacket(pkts[0])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBrowserHandleFiltersRecords feeds the browser responses: only
// valid instances of our service count, and goodbyes remove them.
func TestBrowserHandleFiltersRecords(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	good := sampleAnnouncement()
	good.Image = "reg.example/ünïcode\\image:1" // escaping survives the wire
	txt, _ := good.TXT()
	name := instanceName(good.Instance())
	mk := func(owner string, txt []string) *dns.Msg {
		return &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: []dns.RR{
			&dns.TXT{Hdr: rrHeader(owner, dns.TypeTXT, 120, true), Txt: txt}}}
	}
	tests := []struct {
		name   string
		msg    *dns.Msg
		ignore bool
	}{
		{"other service", mk(good.Instance()+"._http._tcp.local.", txt), false},
		{"nested name", mk("x."+name, txt), false},
		{"foreign TXT", mk(name, []string{"path=/"}), true},
		{"instance does not match its TXT", mk(instanceName("other"), txt), true},
		{"valid", response(t, 120, good), false},
	}
	b := NewBrowser(BrowserOptions{Self: testNode, Clock: clock.Now})
	events, stop := b.Subscribe()
	defer stop()
	src := netip.MustParseAddr("10.231.0.9")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.Ignored()
			b.handle("lab0", src, tt.msg)
			if got := b.Ignored() - before; got != map[bool]int64{false: 0, true: 1}[tt.ignore] {
				t.Fatalf("ignored %d", got)
			}
		})
	}
	ev := <-events
	if ev.Type != models.PeerAppeared || ev.Peer.Address != "10.231.0.2" || ev.Peer.Name != "web" || ev.Peer.Image != good.Image {
		t.Fatalf("event %+v", ev)
	}
	if nodes := b.Nodes(); len(nodes) != 1 || !nodes[0].Local || len(nodes[0].Containers) != 1 {
		t.Fatalf("nodes = %+v", nodes)
	}
	b.handle("lab0", src, response(t, 0, good))
	if ev := <-events; ev.Type != models.PeerExpired || len(b.Peers()) != 0 {
		t.Fatalf("after a goodbye: %+v, %d peers", ev, len(b.Peers()))
	}
}

// TestBrowserResolvesLonePTR checks that a PTR without its TXT asks for it.
func TestBrowserResolvesLonePTR(t *testing.T) {
	b := NewBrowser(BrowserOptions{})
	m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true}, Answer: []dns.RR{
		&dns.PTR{Hdr: rrHeader(serviceName, dns.TypePTR, 4500, false), Ptr: instanceName("node-abc")}}}
	if want := b.handle("lab0", netip.MustParseAddr("10.0.0.1"), m); len(want) != 1 || want[0] != "node-abc" {
		t.Fatalf("to resolve: %v", want)
	}
	if want := b.handle("lab0", netip.MustParseAddr("10.0.0.1"), m); len(want) != 0 {
		t.Fatalf("asked again at once: %v", want)
	}
}

// testAnnouncer returns an announcer holding n containers of one node
// and the node itself, without sockets.
func testAnnouncer(t testing.TB, n int) *Announcer {
	t.Helper()
	a := NewAnnouncer(AnnouncerOptions{Port: 18733})
	node := Announcement{Kind: KindNode, NodeID: testNode, NodeName: "attic", SyncPort: 18733}
	anns := []Announcement{node}
	for i := range n {
		c := sampleAnnouncement()
		c.ContainerID, c.ContainerName = fmt.Sprintf("%012x%052d", i+1, 0), fmt.Sprintf("c%03d", i)
		anns = append(anns, c)
	}
	for _, ann := range anns {
		txt, err := ann.TXT()
		if err != nil {
			t.Fatal(err)
		}
		a.zones[ann.Instance()] = newZone(ann, txt)
	}
	return a
}

// TestResponderKnownAnswersAndSplitting answers a PTR query for 100
// containers: every instance once, split into packets that fit, less
// the known answers with at least half their TTL.
func TestResponderKnownAnswersAndSplitting(t *testing.T) {
	a := testAnnouncer(t, 100)
	q := []dns.Question{{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}}
	c0, c1 := fmt.Sprintf("%012x", 1)+"-"+testNode[:12], fmt.Sprintf("%012x", 2)+"-"+testNode[:12]
	known := map[string]uint32{c0: uint32(ContainerTTL/time.Second) / 2, c1: uint32(ContainerTTL/time.Second)/2 - 1}
	skip := func(z *zone) bool { return known[z.inst] >= z.ttl/2 }
	groups, insts := a.match(q, skip, false, net.IPv4(10, 0, 0, 1))
	if len(insts) != 100 {
		t.Fatalf("%d answers, want 101 less the one known", len(insts))
	}
	hosts := map[string]dns.RR{hostName(testNode): aRR(hostName(testNode), net.IPv4(10, 0, 0, 1), 120, true)}
	pkts, err := pack(dns.MsgHdr{Response: true}, nil, groups, hosts, false, defaultPayload)
	if err != nil {
		t.Fatal(err)
	}
	b := NewBrowser(BrowserOptions{})
	for _, p := range pkts {
		if len(p) > defaultPayload {
			t.Fatalf("packet of %d bytes", len(p))
		}
		m, err := parsePacket(p)
		if err != nil {
			t.Fatal(err)
		}
		b.handle("lab0", netip.MustParseAddr("10.0.0.1"), m)
	}
	if got := len(b.Peers()); got != 99 || len(b.Nodes()) != 1 {
		t.Fatalf("browser took %d containers from %d packets, want 99", got, len(pkts))
	}
	t.Logf("101 instances less 1 known: %d packets", len(pkts))
}

// TestQueryPacketsSplitKnownAnswers checks that a long known-answer list
// continues over packets marked TC, the question in the first only.
func TestQueryPacketsSplitKnownAnswers(t *testing.T) {
	tb := newTable(testNode)
	now := time.Now()
	for i := range 300 {
		a := sampleAnnouncement()
		a.ContainerID = fmt.Sprintf("%012x%052d", i, 0)
		tb.observe(a, "x", src, ContainerTTL, now)
	}
	q := dns.Question{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}
	pkts := queryPackets(q, tb.known(now), defaultPayload)
	total := 0
	for i, p := range pkts {
		m, err := parsePacket(p)
		if err != nil || len(p) > defaultPayload {
			t.Fatalf("packet %d: %d bytes, %v", i, len(p), err)
		}
		last := i == len(pkts)-1
		if m.Truncated == last || (len(m.Question) == 1) != (i == 0) {
			t.Fatalf("packet %d: TC %v, %d questions", i, m.Truncated, len(m.Question))
		}
		total += len(addKnown(map[string]uint32{}, m.Answer))
	}
	if total != 300 || len(pkts) < 2 {
		t.Fatalf("%d known answers in %d packets", total, len(pkts))
	}
}

// TestBrowserDigestMismatch checks that a node record whose digest does
// not match the containers held brings the next query forward and, when
// more are held than announced (a lost goodbye), drops after the grace
// those the node does not announce again.
func TestBrowserDigestMismatch(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	b := NewBrowser(BrowserOptions{Clock: clock.Now})
	b.next = clock.Now().Add(time.Hour)
	from := netip.MustParseAddr("10.231.0.2")
	node := Announcement{Kind: KindNode, NodeID: testNode, NodeName: "attic", SyncPort: 18733}
	live, stale := ctrAnn(testNode, "live", 0), ctrAnn(testNode, "stale", 1)
	node.Digest = ContainerDigest([]string{live.Instance(), stale.Instance()})
	b.handle("lab0", from, response(t, 120, live, stale, node))
	if b.next.Before(clock.Now().Add(time.Minute)) {
		t.Fatal("a matching digest brought the query forward")
	}
	clock.Advance(time.Minute)
	node.Digest = ContainerDigest([]string{live.Instance()}) // stale's goodbyes were lost
	b.handle("lab0", from, response(t, 20, node))
	if !b.next.Before(clock.Now().Add(time.Second)) {
		t.Fatal("a digest mismatch did not bring the query forward")
	}
	for _, rr := range b.table.known(clock.Now()) {
		if inst, _ := instanceOf(rr.(*dns.PTR).Ptr); inst == live.Instance() || inst == stale.Instance() {
			t.Fatalf("the next query lists suspect %s as known: the node would not send it", inst)
		}
	}
	clock.Advance(time.Second)
	b.handle("lab0", from, response(t, 4500, live)) // the node's answer
	clock.Advance(restartGrace)
	b.mu.Lock()
	b.table.expire(clock.Now())
	b.mu.Unlock()
	if peers := b.Peers(); len(peers) != 1 || peers[0].Name != "live" {
		t.Fatalf("after the grace: %+v, want only live", peers)
	}
}
