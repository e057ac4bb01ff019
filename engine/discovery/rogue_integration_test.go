//go:build integration

package discovery_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/internal/testkit"
)

// rogueArg makes the test binary act as a misbehaving mDNS responder (in
// a lab node's namespace) instead of running tests.
const rogueArg = "_rogue-announcer"

const (
	rogueNode = "0123456789abcdef0123456789abcdef"
	rogueCtr  = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

// TestLabIgnoresForeignRecords runs a responder on node3 that answers
// queries for _budgie._tcp (and announces unsolicited) with foreign,
// malformed and mismatched records, records of another service and
// undecodable packets, plus one valid record. node1 must list the valid one (so the rogue is heard) and none
// of the others, and its keeper must keep running.
func TestLabIgnoresForeignRecords(t *testing.T) {
	lab := sharedLab(t)
	n1, n3 := lab.Nodes[0], lab.Nodes[2]
	ctx, cancel := context.WithCancel(context.Background())
	cmd := n3.Exec(ctx, os.Args[0], rogueArg, testkit.LabIface)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !listsName(peers(t, n1), "rogue-ok") {
		if time.Now().After(deadline) {
			t.Fatalf("node1 never listed the rogue's valid record; rogue output:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // six more announcements of the bad records
	resp := peers(t, n1)
	for _, node := range resp.Nodes {
		for _, p := range node.Containers {
			if strings.HasPrefix(p.Name, "bad") {
				t.Errorf("node1 lists a malformed record: %+v", p)
			}
		}
	}
	pctx, pcancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer pcancel()
	if _, err := keeper.NewClient(n1.DataDir).Ping(pctx); err != nil {
		t.Fatalf("node1's keeper died: %v", err)
	}
	if !strings.Contains(out.String(), "rogue: answering") {
		t.Errorf("rogue did not start as expected:\n%s", out.String())
	}
}

func listsName(resp keeper.PeersResponse, name string) bool {
	for _, n := range resp.Nodes {
		for _, p := range n.Containers {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

// runRogue serves the rogue records on the interface named by args[0]
// until SIGTERM or SIGKILL.
func runRogue(args []string) int {
	ifi, err := net.InterfaceByName(args[0])
	if err != nil {
		fmt.Println("rogue:", err)
		return 1
	}
	ip := firstIPv4(ifi)
	valid := func(kv ...string) []string {
		base := map[string]string{"v": "1", "kind": "container", "node_id": rogueNode, "node_name": "rogue",
			"sync_port": "18733", "container_id": rogueCtr, "container_name": "rogue-ok", "image": "x", "state": "running", "ports": ""}
		for i := 0; i+1 < len(kv); i += 2 {
			base[kv[i]] = kv[i+1]
		}
		var txt []string
		for k, v := range base {
			txt = append(txt, k+"="+v)
		}
		return txt
	}
	okInstance := rogueCtr[:12] + "-" + rogueNode[:12]
	zones := map[string][]string{
		okInstance:     valid(),
		"foreign":      {"path=/", "model=printer"},
		"bad-id":       valid("container_id", "xyz", "container_name", "bad-id"),
		"bad-state":    valid("container_name", "bad-state", "state", "exploded"),
		"bad-mismatch": valid("container_name", "bad-mismatch"),
		"bad-long":     valid("container_name", "bad-long", "image", strings.Repeat("i", 300)),
		"bad-dup":      append(valid("container_name", "bad-dup"), "node_id="+rogueNode),
	}
	quiet := log.New(io.Discard, "", 0)
	zoneList := map[string]mdns.Zone{}
	for inst, txt := range zones {
		zone, err := mdns.NewMDNSService(inst, discovery.ServiceType, "local.", inst+".local.", 18733, []net.IP{ip}, txt)
		if err != nil {
			fmt.Println("rogue:", err)
			return 1
		}
		if _, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: ifi, Logger: quiet}); err != nil {
			fmt.Println("rogue:", err)
			return 1
		}
		zoneList[inst] = zone
	}
	if _, err := mdns.NewServer(&mdns.Config{Zone: otherService{ip}, Iface: ifi, Logger: quiet}); err != nil {
		fmt.Println("rogue:", err)
		return 1
	}
	fmt.Println("rogue: answering on", ifi.Name, ip)
	go sendJunk(ifi)
	go announceRogue(ifi, append(slices.Collect(maps.Values(zoneList)), otherService{ip}))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	return 0
}

// otherService answers queries for _budgie._tcp with an instance of
// another service (the library does not check, hashicorp/mdns#96).
type otherService struct{ ip net.IP }

func (o otherService) Records(q dns.Question) []dns.RR {
	if q.Name != discovery.ServiceType+".local." {
		return nil
	}
	name, host := "bad-other._http._tcp.local.", "bad-other.local."
	hdr := func(n string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: n, Rrtype: t, Class: dns.ClassINET, Ttl: 120}
	}
	return []dns.RR{
		&dns.PTR{Hdr: hdr(q.Name, dns.TypePTR), Ptr: name},
		&dns.SRV{Hdr: hdr(name, dns.TypeSRV), Port: 80, Target: host},
		&dns.A{Hdr: hdr(host, dns.TypeA), A: o.ip},
		&dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{"v=1", "kind=node", "node_id=" + strings.Repeat("a", 32),
			"node_name=bad-other", "sync_port=1"}},
	}
}

// announceRogue multicasts every zone's records unsolicited from port
// 5353 every half second, as an announcing responder would (the
// library's server only answers queries, and browsers at rest seldom ask).
func announceRogue(ifi *net.Interface, zones []mdns.Zone) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
	}}
	c, err := lc.ListenPacket(context.Background(), "udp4", "0.0.0.0:5353")
	if err != nil {
		fmt.Println("rogue: announce:", err)
		return
	}
	pc := ipv4.NewPacketConn(c)
	_ = pc.SetMulticastInterface(ifi)
	group := &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353}
	q := dns.Question{Name: discovery.ServiceType + ".local.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}
	for {
		for _, z := range zones {
			m := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Answer: z.Records(q)}
			if b, err := m.Pack(); err == nil {
				_, _ = pc.WriteTo(b, nil, group)
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// sendJunk multicasts undecodable packets to the mDNS port.
func sendJunk(ifi *net.Interface) {
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
	if err != nil {
		return
	}
	for {
		_, _ = conn.Write([]byte("\x00\x00\x84\x00\x00\x00\x00\x05garbage"))
		time.Sleep(200 * time.Millisecond)
	}
}

func firstIPv4(ifi *net.Interface) net.IP {
	addrs, _ := ifi.Addrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.To4()
		}
	}
	return net.IPv4zero
}

// fieldsOf splits command output into words.
func fieldsOf(s string) []string { return strings.Fields(s) }
