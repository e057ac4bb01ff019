package discovery

import (
	"errors"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/budgie-sh/budgie/models"
)

// Record lifetimes (RFC 6762 §10). The node's own instance lives briefly
// and is re-announced by its keeper at reannounceAt of its TTL, so a node
// that dies without a goodbye expires within NodeTTL; its containers are
// tied to it (they go when it goes) and live long, so a LAN at rest sends
// nothing about them.
const (
	// NodeTTL is the TTL of a node's own records.
	NodeTTL = 20 * time.Second
	// ContainerTTL is the TTL of a container's records (RFC 6762's 75 minutes).
	ContainerTTL = 4500 * time.Second
	// hostTTL is the TTL of the A record of a node's host name.
	hostTTL = 120 * time.Second
	// legacyTTL caps TTLs in answers to legacy (one-shot) queriers (§6.7).
	legacyTTL = 10
)

// Packet limits.
const (
	// maxPacket is the largest mDNS packet read or sent (§17).
	maxPacket = 9000
	// defaultPayload is the payload of a packet on a 1500-byte Ethernet:
	// responses are split so that each fits one.
	defaultPayload = 1500 - 20 - 8
	// legacyPayload is the classic DNS limit for legacy unicast answers,
	// past which they are truncated (TC bit).
	legacyPayload = 512
	// maxRecords bounds the records of one received packet.
	maxRecords = 512
)

// cacheFlush is the top bit of the class of a unique record (§10.2); in
// a question it asks for a unicast answer (§5.4).
const cacheFlush = 1 << 15

// serviceName is the DNS-SD service name; metaQuery lists service types (RFC 6763 §9).
var (
	serviceName = ServiceType + "." + Domain
	metaQuery   = "_services._dns-sd._udp." + Domain
)

// instanceName is an instance's full DNS name.
func instanceName(inst string) string { return inst + "." + serviceName }

// hostName is the host name of a node's records: one per node, so that
// each packet carries one A record for all its instances.
func hostName(nodeID string) string { return "budgie-" + models.ShortID(nodeID) + "." + Domain }

// zone is what one announcement answers with.
type zone struct {
	inst string   // instance label
	host string   // SRV target
	txt  []string // TXT strings
	ttl  uint32   // seconds
	node bool     // the node's own instance
}

func newZone(a Announcement, txt []string) *zone {
	ttl := ContainerTTL
	if a.Kind == KindNode {
		ttl = NodeTTL
	}
	return &zone{inst: a.Instance(), host: hostName(a.NodeID), txt: txt, ttl: uint32(ttl / time.Second), node: a.Kind == KindNode}
}

func rrHeader(name string, typ uint16, ttl uint32, unique bool) dns.RR_Header {
	class := uint16(dns.ClassINET)
	if unique {
		class |= cacheFlush
	}
	return dns.RR_Header{Name: name, Rrtype: typ, Class: class, Ttl: ttl}
}

// ptr, srv and txtRR are the zone's records with TTL ttl (0: a goodbye);
// unique sets the cache-flush bit of SRV and TXT.
func (z *zone) ptr(ttl uint32) dns.RR {
	return &dns.PTR{Hdr: rrHeader(serviceName, dns.TypePTR, ttl, false), Ptr: instanceName(z.inst)}
}

func (z *zone) srv(ttl uint32, port int, unique bool) dns.RR {
	return &dns.SRV{Hdr: rrHeader(instanceName(z.inst), dns.TypeSRV, ttl, unique), Port: uint16(port), Target: z.host}
}

func (z *zone) txtRR(ttl uint32, unique bool) dns.RR {
	esc := make([]string, len(z.txt))
	for i, s := range z.txt {
		esc[i] = strings.ReplaceAll(s, `\`, `\\`)
	}
	return &dns.TXT{Hdr: rrHeader(instanceName(z.inst), dns.TypeTXT, ttl, unique), Txt: esc}
}

// aRR is the host's A record.
func aRR(host string, ip net.IP, ttl uint32, unique bool) dns.RR {
	return &dns.A{Hdr: rrHeader(host, dns.TypeA, ttl, unique), A: ip}
}

// group is records that travel in one packet: an instance's answer and
// the additional records that complete it.
type group struct {
	answer, extra []dns.RR
}

// pack puts groups into as few messages as fit payload bytes each, in
// order, adding to every message the A record (from hosts, by name) of
// each SRV target its groups name: in the answer section when aAnswer
// (announcements), else with the additional records. A group larger than
// payload goes alone.
func pack(hdr dns.MsgHdr, question []dns.Question, groups []group, hosts map[string]dns.RR, aAnswer bool, payload int) ([][]byte, error) {
	var out [][]byte
	var cur *dns.Msg
	flush := func() error {
		if cur == nil {
			return nil
		}
		b, err := cur.Pack()
		out = append(out, b)
		cur = nil
		return err
	}
	for _, g := range groups {
		if cur != nil {
			na, ne := len(cur.Answer), len(cur.Extra)
			addGroup(cur, g, hosts, aAnswer)
			if cur.Len() <= payload {
				continue
			}
			cur.Answer, cur.Extra = cur.Answer[:na], cur.Extra[:ne]
			if err := flush(); err != nil {
				return out, err
			}
		}
		cur = &dns.Msg{MsgHdr: hdr, Compress: true, Question: question}
		addGroup(cur, g, hosts, aAnswer)
	}
	return out, flush()
}

// addGroup appends g to m, with the A record of each SRV target m lacks.
func addGroup(m *dns.Msg, g group, hosts map[string]dns.RR, aAnswer bool) {
	m.Answer = append(m.Answer, g.answer...)
	m.Extra = append(m.Extra, g.extra...)
	for _, rr := range slices.Concat(g.answer, g.extra) {
		srv, ok := rr.(*dns.SRV)
		if !ok || srv.Hdr.Ttl == 0 {
			continue // a goodbye needs no address
		}
		a := hosts[strings.ToLower(srv.Target)]
		if a == nil || hasRR(m, a) {
			continue
		}
		if aAnswer {
			m.Answer = append(m.Answer, a)
		} else {
			m.Extra = append(m.Extra, a)
		}
	}
}

func hasRR(m *dns.Msg, rr dns.RR) bool {
	return slices.Contains(m.Answer, rr) || slices.Contains(m.Extra, rr)
}

// errPacket marks a packet that is not a usable mDNS message.
var errPacket = errors.New("not an mdns message")

// parsePacket decodes a received packet within the package's bounds: at
// most maxPacket bytes and maxRecords records, opcode and rcode zero
// (RFC 6762 §18.3, §18.11).
func parsePacket(b []byte) (*dns.Msg, error) {
	if len(b) < 12 || len(b) > maxPacket {
		return nil, errPacket
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return nil, errors.Join(errPacket, err)
	}
	if m.Opcode != dns.OpcodeQuery || m.Rcode != dns.RcodeSuccess {
		return nil, errPacket
	}
	if len(m.Question)+len(m.Answer)+len(m.Ns)+len(m.Extra) > maxRecords {
		return nil, errPacket
	}
	return m, nil
}

// unescapeTXT undoes the escaping miekg/dns applies to TXT strings it
// unpacks (\DDD for unprintable bytes, \X for quote and backslash).
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		if i+2 < len(s) && isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			v := int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
			if v <= 255 {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// instanceOf returns the instance label of a full instance name of our
// service, or false.
func instanceOf(name string) (string, bool) {
	inst, ok := strings.CutSuffix(strings.ToLower(name), "."+serviceName)
	if !ok || inst == "" || strings.ContainsAny(inst, `.\`) {
		return "", false
	}
	return inst, true
}
