package discovery

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/budgie-sh/budgie/models"
)

// Query timing (RFC 6762 §5.2).
const (
	// DefaultInterval is the first interval between a browser's
	// continuous queries; it doubles after each query up to MaxInterval.
	DefaultInterval = time.Second
	// MaxInterval caps the interval between continuous queries.
	MaxInterval = time.Hour
	// tick is how often the browser checks its cache for records to
	// refresh or expire.
	tick = 250 * time.Millisecond
	// maxHosts bounds the A records kept to resolve SRV targets, overall
	// and (maxHostsPerSource) per source address.
	maxHosts, maxHostsPerSource = 1024, 64
	// maxResolving bounds the instances being resolved (PTR seen, TXT not).
	maxResolving = 1024
)

// BrowserOptions configure a Browser.
type BrowserOptions struct {
	// Self is this node's ID; its entries are marked Local.
	Self string
	// Interfaces are browsed; required.
	Interfaces []net.Interface
	// Interval is the first interval between continuous queries; zero
	// means DefaultInterval.
	Interval time.Duration
	// Expiry is ignored: records live for their TTL (kept so that old
	// configurations still load).
	Expiry time.Duration
	// Log receives ignored records (at debug level) and socket failures;
	// nil means none.
	Log *slog.Logger
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
}

// Browser keeps the table of Budgie instances on the LAN: it caches what
// it hears for its TTL, queries with exponential backoff (1 s, 2 s, 4 s …
// up to an hour) listing what it knows (known-answer suppression), asks
// again for records at 80–95% of their TTL, and drops them at their TTL
// or on a goodbye.
type Browser struct {
	opts      BrowserOptions
	mu        sync.Mutex
	table     *table
	hosts     map[string]hostAddr
	hostsBy   map[netip.Addr]int
	resolving map[string]time.Time
	next      time.Time     // the next continuous query
	interval  time.Duration // the interval after it
	dups      map[netip.AddrPort]*dupQuery
	verified  time.Time // when a digest mismatch last brought a query forward
	subs      map[chan models.PeerEvent]struct{}
	ignored   atomic.Int64
	queries   atomic.Int64
}

// hostAddr is a cached A record.
type hostAddr struct {
	ip      netip.Addr
	src     netip.Addr
	expires time.Time
}

// NewBrowser returns a browser; Run starts it.
func NewBrowser(opts BrowserOptions) *Browser {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	return &Browser{opts: opts, table: newTable(opts.Self), hosts: map[string]hostAddr{}, hostsBy: map[netip.Addr]int{},
		resolving: map[string]time.Time{}, dups: map[netip.AddrPort]*dupQuery{}, subs: map[chan models.PeerEvent]struct{}{}}
}

// Run browses until ctx ends, then returns nil. An interface whose
// socket cannot open is retried every few seconds.
func (b *Browser) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	var conns []*conn
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	for len(conns) == 0 {
		conns = b.open()
		if len(conns) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.listen(c)
		}()
	}
	b.loop(ctx, conns)
	return nil
}

func (b *Browser) open() []*conn {
	var conns []*conn
	for _, ifi := range b.opts.Interfaces {
		c, err := listen(ifi)
		if err != nil {
			b.opts.Log.Warn("mdns browser", "err", err)
			continue
		}
		conns = append(conns, c)
	}
	return conns
}

// loop sends the continuous queries and the refreshes, and expires the
// cache, until ctx ends.
func (b *Browser) loop(ctx context.Context, conns []*conn) {
	b.mu.Lock()
	b.interval = b.opts.Interval
	b.next = b.opts.Clock().Add(jitter(20*time.Millisecond, 120*time.Millisecond))
	b.mu.Unlock()
	t := time.NewTicker(tick / 5)
	defer t.Stop()
	for first := true; ; first = false {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if first {
			t.Reset(tick)
		}
		now := b.opts.Clock()
		b.mu.Lock()
		b.publish(b.table.expire(now))
		b.expireHosts(now)
		refresh := b.table.due(now)
		continuous := !now.Before(b.next)
		if continuous {
			b.next, b.interval = now.Add(b.interval), min(2*b.interval, MaxInterval)
		}
		b.mu.Unlock()
		if continuous {
			b.query(conns, now)
		} else if len(refresh) > 0 {
			b.ask(conns, refresh)
		}
	}
}

// listen handles the packets that arrive on c until it closes.
func (b *Browser) listen(c *conn) {
	buf := make([]byte, maxPacket+1)
	for {
		p, err := c.read(buf)
		if err != nil {
			return
		}
		if len(p.data) > maxPacket {
			continue
		}
		b.handlePacket(c, p)
	}
}

// handlePacket takes in a response; queries (others', or this browser's
// own, looped back) are not its business.
func (b *Browser) handlePacket(c *conn, p packet) {
	m, err := parsePacket(p.data)
	if err != nil {
		return
	}
	if !m.Response {
		b.sawQuery(c, p.src, m)
		return
	}
	if p.src.Port() != mdnsPort {
		b.ignored.Add(1) // RFC 6762 §6: responses come from port 5353
		return
	}
	if want := b.handle(c.ifi.Name, p.src.Addr(), m); len(want) > 0 {
		b.resolve(c, want)
	}
}

// query sends the service query on every conn, with its known answers.
func (b *Browser) query(conns []*conn, now time.Time) {
	b.mu.Lock()
	known := b.table.known(now)
	b.mu.Unlock()
	for _, c := range conns {
		b.send(c, known)
	}
}

// send multicasts the service query with known answers on c.
func (b *Browser) send(c *conn, known []dns.RR) {
	q := dns.Question{Name: serviceName, Qtype: dns.TypePTR, Qclass: dns.ClassINET}
	for _, pkt := range queryPackets(q, known, c.payload) {
		if err := c.multicast(pkt); err != nil {
			b.opts.Log.Debug("send mdns query", "interface", c.ifi.Name, "err", err)
		}
	}
	b.queries.Add(1)
}

// queryPackets packs q and its known answers: the question in the first
// packet, known answers continuing in further packets, each but the last
// with the TC bit (RFC 6762 §7.2).
func queryPackets(q dns.Question, known []dns.RR, payload int) [][]byte {
	var out []*dns.Msg
	cur := &dns.Msg{Question: []dns.Question{q}, Compress: true}
	for _, rr := range known {
		cur.Answer = append(cur.Answer, rr)
		if len(cur.Answer) > 1 && cur.Len() > payload {
			cur.Answer = cur.Answer[:len(cur.Answer)-1]
			cur.Truncated = true
			out = append(out, cur)
			cur = &dns.Msg{Answer: []dns.RR{rr}, Compress: true}
		}
	}
	out = append(out, cur)
	pkts := make([][]byte, 0, len(out))
	for _, m := range out {
		if b, err := m.Pack(); err == nil {
			pkts = append(pkts, b)
		}
	}
	return pkts
}

// resolve asks on c for the SRV and TXT records of instances whose PTR
// came alone.
func (b *Browser) resolve(c *conn, insts []string) { b.ask([]*conn{c}, insts) }

// ask queries conns for the SRV and TXT records of insts (a refresh, or
// a resolution), maxQuestions/2 instances a packet.
func (b *Browser) ask(conns []*conn, insts []string) {
	for len(insts) > 0 {
		n := min(len(insts), maxQuestions/2)
		m := &dns.Msg{Compress: true}
		for _, inst := range insts[:n] {
			name := instanceName(inst)
			m.Question = append(m.Question, dns.Question{Name: name, Qtype: dns.TypeSRV, Qclass: dns.ClassINET},
				dns.Question{Name: name, Qtype: dns.TypeTXT, Qclass: dns.ClassINET})
		}
		insts = insts[n:]
		pkt, err := m.Pack()
		if err != nil {
			continue
		}
		for _, c := range conns {
			_ = c.multicast(pkt)
		}
		b.queries.Add(1)
	}
}

// publish sends evs to every subscriber, dropping them for one that lags;
// the caller holds b.mu.
func (b *Browser) publish(evs []models.PeerEvent) {
	for _, ev := range evs {
		for ch := range b.subs {
			select {
			case ch <- ev:
			default:
			}
		}
	}
}

// Subscribe returns a channel of changes to the table (buffered; a
// subscriber that lags loses events) and a function that ends the
// subscription.
func (b *Browser) Subscribe() (<-chan models.PeerEvent, func()) {
	ch := make(chan models.PeerEvent, 1024)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// Nodes returns the table grouped by node, local node first.
func (b *Browser) Nodes() []models.PeerNode {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.snapshot()
}

// Peers returns every announced container, sorted by node and name.
func (b *Browser) Peers() []models.Peer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.table.list()
}

// Ignored counts the records ignored so far (foreign or malformed).
func (b *Browser) Ignored() int64 { return b.ignored.Load() }

// Queries counts the queries sent so far (continuous and refreshes).
func (b *Browser) Queries() int64 { return b.queries.Load() }

// BrowseOptions tune Browse.
type BrowseOptions struct {
	// Interfaces are browsed; empty means every usable one (see Interfaces).
	Interfaces []string
	// Timeout is how long Browse listens; zero means 2 s, which holds two
	// queries, so that one lost answer does not hide a container.
	Timeout time.Duration
	// Self marks this node's entries Local; empty marks none.
	Self string
	// Log receives ignored records at debug level; nil means none.
	Log *slog.Logger
}

// Browse browses the LAN for opts.Timeout and returns what answered,
// grouped by node.
func Browse(ctx context.Context, opts BrowseOptions) ([]models.PeerNode, error) {
	ifaces, err := Interfaces(opts.Interfaces)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	b := NewBrowser(BrowserOptions{Self: opts.Self, Interfaces: ifaces, Log: opts.Log})
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_ = b.Run(bctx)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return b.Nodes(), nil
}

// lowerName is a DNS name in lower case (names compare case-insensitively).
func lowerName(s string) string { return strings.ToLower(s) }
