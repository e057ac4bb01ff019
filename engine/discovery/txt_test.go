package discovery

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

const (
	testNode = "0123456789abcdef0123456789abcdef"
	testCtr  = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
)

func sampleAnnouncement() Announcement {
	return Announcement{Kind: KindContainer, NodeID: testNode, NodeName: "attic", SyncPort: 18733,
		ContainerID: testCtr, ContainerName: "web", Image: "docker.io/library/nginx:1.27", State: models.StateRunning,
		Ports: []models.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, {HostIP: "::1", HostPort: 53, ContainerPort: 53, Protocol: "udp"}, {HostPort: 8081, ContainerPort: 81, Protocol: "http"}}}
}

func TestTXTRoundTrip(t *testing.T) {
	node := Announcement{Kind: KindNode, NodeID: testNode, NodeName: "attic", SyncPort: 9, Fingerprint: "sha256:AbC"}
	tests := []struct {
		name string
		a    Announcement
	}{
		{"container", sampleAnnouncement()},
		{"node", node},
		{"node with an epoch", Announcement{Kind: KindNode, NodeID: testNode, NodeName: "attic", SyncPort: 9, Epoch: "3k9zq0x1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txt, err := tt.a.TXT()
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseTXT(txt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.a) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, tt.a)
			}
		})
	}
}

func TestTXTLimits(t *testing.T) {
	manyPorts := make([]models.PortMapping, 60)
	for i := range manyPorts {
		manyPorts[i] = models.PortMapping{HostIP: "192.168.100.200", HostPort: uint16(10000 + i), ContainerPort: uint16(20000 + i), Protocol: "tcp"}
	}
	tests := []struct {
		name  string
		edit  func(a *Announcement)
		check func(t *testing.T, got Announcement)
	}{
		{"long image is shortened with an ellipsis", func(a *Announcement) { a.Image = strings.Repeat("é", 200) }, func(t *testing.T, got Announcement) {
			if !strings.HasSuffix(got.Image, "…") || len("image="+got.Image) > MaxTXTString {
				t.Errorf("image %d bytes: %q", len(got.Image), got.Image)
			}
		}},
		{"ports that do not fit are counted", func(a *Announcement) { a.Ports = manyPorts }, func(t *testing.T, got Announcement) {
			if len(got.Ports) == 0 || len(got.Ports)+got.MorePorts != 60 {
				t.Errorf("%d ports + %d more, want 60 in all", len(got.Ports), got.MorePorts)
			}
			if !reflect.DeepEqual(got.Ports, manyPorts[:len(got.Ports)]) {
				t.Errorf("kept ports differ from the first ones")
			}
		}},
		{"long node name is shortened", func(a *Announcement) { a.NodeName = strings.Repeat("n", 100) }, func(t *testing.T, got Announcement) {
			if len(got.NodeName) > maxNodeName {
				t.Errorf("node name of %d bytes", len(got.NodeName))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sampleAnnouncement()
			tt.edit(&a)
			txt, err := a.TXT()
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, s := range txt {
				total += len(s) + 1
				if len(s) > MaxTXTString {
					t.Errorf("TXT string of %d bytes: %.40q…", len(s), s)
				}
			}
			if total > MaxTXTRecord {
				t.Errorf("TXT record of %d bytes", total)
			}
			got, err := ParseTXT(txt)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
}

func TestTXTRejectsInvalidAnnouncements(t *testing.T) {
	a := sampleAnnouncement()
	a.ContainerName = "bad name"
	if _, err := a.TXT(); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("TXT of a bad name: %v, want ErrInvalid", err)
	}
}

// TestParseTXTMalformed feeds foreign and broken records: each must be
// rejected with ErrMalformed, never accepted or panicking.
func TestParseTXTMalformed(t *testing.T) {
	good, err := sampleAnnouncement().TXT()
	if err != nil {
		t.Fatal(err)
	}
	with := func(key, value string) []string {
		out := []string{}
		for _, s := range good {
			if k, _, _ := strings.Cut(s, "="); k == key {
				if value == "\x00drop" {
					continue
				}
				s = key + "=" + value
			}
			out = append(out, s)
		}
		return out
	}
	tests := []struct {
		name string
		txt  []string
	}{
		{"empty", nil},
		{"foreign service", []string{"path=/", "model=printer"}},
		{"other version", with("v", "2")},
		{"bad epoch", append(with("v", "1"), "epoch=NOT-an-epoch")},
		{"no version", with("v", "\x00drop")},
		{"unknown kind", with("kind", "printer")},
		{"short node id", with("node_id", "abc")},
		{"upper-case node id", with("node_id", strings.ToUpper(testNode))},
		{"empty node name", with("node_name", "")},
		{"node name too long", with("node_name", strings.Repeat("n", 64))},
		{"sync port zero", with("sync_port", "0")},
		{"sync port text", with("sync_port", "many")},
		{"bad container id", with("container_id", "xyz")},
		{"missing container id", with("container_id", "\x00drop")},
		{"bad container name", with("container_name", "../etc")},
		{"empty image", with("image", "")},
		{"exited state", with("state", "exited")},
		{"bad port", with("ports", "80")},
		{"bad port protocol", with("ports", "80->80/sctp")},
		{"bad port count", with("ports", "80->80/tcp,+x")},
		{"bad host ip", with("ports", "nothost:80->80/tcp")},
		{"bad fingerprint", append(good, "fingerprint=has space")},
		{"control character", with("container_name", "web\n")},
		{"invalid utf-8", with("image", "\xff\xfe")},
		{"string over 255 bytes", with("image", strings.Repeat("i", 300))},
		{"record over the limit", append(good, "x1="+strings.Repeat("x", 250), "x2="+strings.Repeat("x", 250), "x3="+strings.Repeat("x", 250))},
		{"repeated key", append(good, "node_id="+testNode)},
		{"not key=value", append(good, "flag")},
		{"empty key", append(good, "=value")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTXT(tt.txt)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseTXT = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestParseTXTIgnoresUnknownKeys(t *testing.T) {
	txt, _ := sampleAnnouncement().TXT()
	got, err := ParseTXT(append(txt, "future=1"))
	if err != nil || got.ContainerName != "web" {
		t.Fatalf("ParseTXT = %+v, %v", got, err)
	}
}

func TestInstanceNames(t *testing.T) {
	a := sampleAnnouncement()
	if got, want := a.Instance(), testCtr[:12]+"-"+testNode[:12]; got != want {
		t.Errorf("container instance = %q, want %q", got, want)
	}
	a.Kind = KindNode
	if got, want := a.Instance(), "node-"+testNode[:12]; got != want {
		t.Errorf("node instance = %q, want %q", got, want)
	}
}

func FuzzParseTXT(f *testing.F) {
	good, _ := sampleAnnouncement().TXT()
	f.Add(strings.Join(good, "\x1f"))
	f.Add("v=1\x1fkind=node")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseTXT(strings.Split(s, "\x1f"))
		if err != nil {
			return
		}
		// Whatever parses must encode again within the limits.
		if _, err := a.TXT(); err != nil {
			t.Fatalf("parsed %+v but cannot encode it: %v", a, err)
		}
	})
}
