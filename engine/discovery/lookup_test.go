package discovery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

func TestIsLocalName(t *testing.T) {
	for name, want := range map[string]bool{
		"nas.local": true, "NAS.Local.": true, "a.b.local": true,
		"local": false, ".local": false, "nas.localhost": false, "nas.example": false,
		"10.0.0.1": false, "nas": false, "": false,
	} {
		if got := IsLocalName(name); got != want {
			t.Errorf("IsLocalName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestLookupAnswer: only a well-formed response to this query, from port
// 5353 of an on-link source, naming the asked name, gives addresses.
func TestLookupAnswer(t *testing.T) {
	links := []netip.Prefix{netip.MustParsePrefix("192.168.7.0/24")}
	from := netip.MustParseAddrPort("192.168.7.9:5353")
	answer := func(edit func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion("nas.local.", dns.TypeA)
		m.Id, m.Response = 4242, true
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "NAS.local.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 120}, A: net.IPv4(192, 168, 7, 9)}}
		if edit != nil {
			edit(m)
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := []netip.Addr{netip.MustParseAddr("192.168.7.9")}
	tests := []struct {
		name string
		b    []byte
		src  netip.AddrPort
		want []netip.Addr
	}{
		{"answer", answer(nil), from, want},
		{"answer in the additional section", answer(func(m *dns.Msg) { m.Extra, m.Answer = m.Answer, nil }), from, want},
		{"not from port 5353", answer(nil), netip.MustParseAddrPort("192.168.7.9:40000"), nil},
		{"from off the link", answer(nil), netip.MustParseAddrPort("10.9.9.9:5353"), nil},
		{"another query's ID", answer(func(m *dns.Msg) { m.Id = 1 }), from, nil},
		{"a query, not a response", answer(func(m *dns.Msg) { m.Response = false }), from, nil},
		{"an error code", answer(func(m *dns.Msg) { m.Rcode = dns.RcodeNameError }), from, nil},
		{"another name", answer(func(m *dns.Msg) { m.Answer[0].Header().Name = "evil.local." }), from, nil},
		{"a multicast address", answer(func(m *dns.Msg) { m.Answer[0].(*dns.A).A = net.IPv4(224, 0, 0, 251) }), from, nil},
		{"an unspecified address", answer(func(m *dns.Msg) { m.Answer[0].(*dns.A).A = net.IPv4zero }), from, nil},
		{"garbage", []byte{0xff, 0x00, 0x13}, from, nil},
		{"empty", nil, from, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lookupAnswer(tt.b, tt.src, 4242, "nas.local", links)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLookupHostRefusesOtherNames(t *testing.T) {
	for _, name := range []string{"example.com", "10.0.0.1.local.x", "bad name.local", "a..local", "-a.local", "a_b.local", "x.local/../y.local"} {
		if _, err := LookupHost(t.Context(), name); err == nil {
			t.Errorf("LookupHost(%q) did not refuse it", name)
		}
	}
}

// TestLookupHostHonoursContext asks for a name no host on this machine's
// links answers (a random label) under a context that ends long before
// LookupWait: the lookup must end with the context's error, not wait out
// its own resend and deadline and report ErrNotFound.
func TestLookupHostHonoursContext(t *testing.T) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "bg-nobody-" + hex.EncodeToString(b[:]) + ".local"
	for _, wait := range []time.Duration{0, 50 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(t.Context(), wait)
		_, err := LookupHost(ctx, name)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("LookupHost under a %s context: %v, want the context's deadline error", wait, err)
		}
	}
}
