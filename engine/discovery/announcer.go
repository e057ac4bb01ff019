package discovery

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// mdnsGroup is where mDNS announcements go.
var mdnsGroup = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}

// repeatAfter is when an unsolicited announcement is sent a second time,
// in case the first is lost or falls between two of a browser's rounds.
const repeatAfter = 300 * time.Millisecond

// AnnouncerOptions configure an Announcer.
type AnnouncerOptions struct {
	// Interfaces are announced on; required.
	Interfaces []net.Interface
	// Port is the SRV port of every instance (the node's sync port); required.
	Port int
	// Log receives failures; nil means none.
	Log *slog.Logger
}

// Announcer answers mDNS queries for a set of announcements. The library
// puts one instance in each response (hashicorp/mdns#92), so each
// announcement gets its own mdns.Server on each interface, with its own
// host name so that the A record of one is never taken for another's.
type Announcer struct {
	opts    AnnouncerOptions
	mu      sync.Mutex
	entries map[string]*announced
	senders map[string]*ipv4.PacketConn // per interface name
	closed  bool
}

type announced struct {
	txt     []string
	ifaces  []net.Interface // the interface of each zone
	zones   []*mdns.MDNSService
	servers []*mdns.Server
}

// NewAnnouncer returns an announcer announcing nothing yet.
func NewAnnouncer(opts AnnouncerOptions) *Announcer {
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Announcer{opts: opts, entries: map[string]*announced{}, senders: map[string]*ipv4.PacketConn{}}
}

// Set makes anns the announced set: new and changed announcements get
// servers and are multicast at once (and again shortly after), gone ones
// stop answering. The errors of announcements that could not start are
// joined; the others are announced regardless.
func (a *Announcer) Set(anns []Announcement) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("announcer closed")
	}
	want := make(map[string]bool, len(anns))
	var errs []error
	var fresh []*announced
	for _, ann := range anns {
		inst := ann.Instance()
		want[inst] = true
		txt, err := ann.TXT()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if old := a.entries[inst]; old != nil && slices.Equal(old.txt, txt) {
			continue
		}
		a.stop(inst)
		e, err := a.start(inst, txt)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.entries[inst] = e
		fresh = append(fresh, e)
	}
	for inst := range a.entries {
		if !want[inst] {
			a.stop(inst)
		}
	}
	a.announce(fresh)
	if len(fresh) > 0 {
		time.AfterFunc(repeatAfter, func() { a.reannounce(fresh) })
	}
	return errors.Join(errs...)
}

// start runs one server per interface for an instance.
func (a *Announcer) start(inst string, txt []string) (*announced, error) {
	e := &announced{txt: txt}
	host := inst + "." + Domain
	for i := range a.opts.Interfaces {
		ifi := a.opts.Interfaces[i]
		ips := ipv4Addrs(ifi)
		if len(ips) == 0 {
			continue
		}
		zone, err := mdns.NewMDNSService(inst, ServiceType, Domain, host, a.opts.Port, ips, txt)
		if err != nil {
			a.shutdown(e)
			return nil, fmt.Errorf("announce %s: %w", inst, err)
		}
		srv, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: &ifi, Logger: libraryLogger(a.opts.Log)})
		if err != nil {
			a.shutdown(e)
			return nil, fmt.Errorf("announce %s on %s: %w", inst, ifi.Name, err)
		}
		e.ifaces, e.zones, e.servers = append(e.ifaces, ifi), append(e.zones, zone), append(e.servers, srv)
	}
	if len(e.servers) == 0 {
		return nil, fmt.Errorf("announce %s: no interface has an IPv4 address", inst)
	}
	return e, nil
}

func (a *Announcer) stop(inst string) {
	if e := a.entries[inst]; e != nil {
		a.shutdown(e)
		delete(a.entries, inst)
	}
}

func (a *Announcer) shutdown(e *announced) {
	for _, s := range e.servers {
		_ = s.Shutdown()
	}
	e.servers = nil
}

func (a *Announcer) reannounce(es []*announced) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	live := es[:0:0]
	for _, e := range es {
		if len(e.servers) > 0 {
			live = append(live, e)
		}
	}
	a.announce(live)
}

// announce multicasts an unsolicited answer for each entry on each
// interface, so that browsers see a new container without waiting for
// their next query. The caller holds a.mu.
func (a *Announcer) announce(es []*announced) {
	service := ServiceType + "." + Domain
	for _, e := range es {
		for i, zone := range e.zones {
			ifi := e.ifaces[i]
			recs := zone.Records(dns.Question{Name: service, Qtype: dns.TypePTR, Qclass: dns.ClassINET})
			msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Answer: recs, Compress: true}
			buf, err := msg.Pack()
			if err != nil {
				a.opts.Log.Warn("pack mdns announcement", "err", err)
				continue
			}
			if err := a.send(ifi, buf); err != nil {
				a.opts.Log.Debug("send mdns announcement", "interface", ifi.Name, "err", err)
			}
		}
	}
}

// send multicasts buf on ifi through a socket kept per interface.
func (a *Announcer) send(ifi net.Interface, buf []byte) error {
	pc := a.senders[ifi.Name]
	if pc == nil {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
		if err != nil {
			return err
		}
		pc = ipv4.NewPacketConn(conn)
		if err := pc.SetMulticastInterface(&ifi); err != nil {
			conn.Close()
			return err
		}
		_ = pc.SetMulticastTTL(255)
		_ = pc.SetMulticastLoopback(true)
		a.senders[ifi.Name] = pc
	}
	_, err := pc.WriteTo(buf, nil, mdnsGroup)
	return err
}

// Len returns how many announcements are live.
func (a *Announcer) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.entries)
}

// Close stops answering for every announcement.
func (a *Announcer) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closed = true
	for inst := range a.entries {
		a.stop(inst)
	}
	for name, pc := range a.senders {
		pc.Close()
		delete(a.senders, name)
	}
}
