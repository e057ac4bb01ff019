package network

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"backend", true},
		{"my_net.v2-a", true},
		{"9lives", true},
		{"", false},
		{"-dash", false},
		{".hidden", false},
		{"has space", false},
		{"slash/x", false},
		{"host", false},
		{"HOST", false},
		{"none", false},
		{strings.Repeat("a", 65), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.name)
			if tc.ok && err != nil {
				t.Fatalf("ValidateName(%q) = %v, want nil", tc.name, err)
			}
			if !tc.ok && !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("ValidateName(%q) = %v, want ErrInvalid", tc.name, err)
			}
		})
	}
}

func TestBridgeName(t *testing.T) {
	if got := BridgeName(models.DefaultNetwork); got != "budgie0" {
		t.Fatalf("default bridge = %q, want budgie0", got)
	}
	seen := map[string]string{}
	for _, n := range []string{"backend", "frontend", "a", strings.Repeat("x", 64)} {
		t.Run(n[:min(len(n), 10)], func(t *testing.T) {
			b := BridgeName(n)
			if !strings.HasPrefix(b, "budgie-") || len(b) > 15 {
				t.Fatalf("BridgeName(%q) = %q: want budgie- prefix and at most 15 characters", n, b)
			}
			if b != BridgeName(n) {
				t.Fatalf("BridgeName(%q) is not stable", n)
			}
			if other, dup := seen[b]; dup {
				t.Fatalf("BridgeName(%q) = BridgeName(%q) = %q", n, other, b)
			}
			seen[b] = n
		})
	}
}

func TestPlan(t *testing.T) {
	def := models.Network{Name: "budgie0", Bridge: "budgie0", Subnet: "172.20.0.0/16", Gateway: "172.20.0.1"}
	n21 := models.Network{Name: "a", Bridge: BridgeName("a"), Subnet: "172.21.0.0/16"}
	for _, tc := range []struct {
		name           string
		opts           CreateOptions
		existing       []models.Network
		host           []string
		subnet, gw     string
		wantErr        error
		wantErrContain string
	}{
		{name: "first automatic", existing: []models.Network{def}, subnet: "172.21.0.0/16", gw: "172.21.0.1"},
		{name: "skips taken", existing: []models.Network{def, n21}, subnet: "172.22.0.0/16", gw: "172.22.0.1"},
		{name: "skips host subnets", existing: []models.Network{def}, host: []string{"172.21.5.0/24", "172.22.0.0/15"},
			subnet: "172.24.0.0/16", gw: "172.24.0.1"},
		{name: "explicit", opts: CreateOptions{Subnet: "10.30.0.0/24"}, existing: []models.Network{def}, subnet: "10.30.0.0/24", gw: "10.30.0.1"},
		{name: "explicit gateway", opts: CreateOptions{Subnet: "10.30.0.0/24", Gateway: "10.30.0.254"}, subnet: "10.30.0.0/24", gw: "10.30.0.254"},
		{name: "explicit may overlap host", opts: CreateOptions{Subnet: "10.30.0.0/24"}, host: []string{"10.0.0.0/8"}, subnet: "10.30.0.0/24", gw: "10.30.0.1"},
		{name: "overlap", opts: CreateOptions{Subnet: "172.20.128.0/17"}, existing: []models.Network{def},
			wantErr: errdefs.ErrConflict, wantErrContain: "overlaps network budgie0"},
		{name: "overlap wider", opts: CreateOptions{Subnet: "172.0.0.0/8"}, existing: []models.Network{def}, wantErr: errdefs.ErrConflict},
		{name: "not cidr", opts: CreateOptions{Subnet: "10.30.0.0"}, wantErr: errdefs.ErrInvalid},
		{name: "host bits", opts: CreateOptions{Subnet: "10.30.0.5/24"}, wantErr: errdefs.ErrInvalid, wantErrContain: "did you mean 10.30.0.0/24"},
		{name: "ipv6", opts: CreateOptions{Subnet: "fd00::/64"}, wantErr: errdefs.ErrInvalid},
		{name: "too small", opts: CreateOptions{Subnet: "10.30.0.0/31"}, wantErr: errdefs.ErrInvalid},
		{name: "gateway outside", opts: CreateOptions{Subnet: "10.30.0.0/24", Gateway: "10.31.0.1"},
			wantErr: errdefs.ErrInvalid, wantErrContain: "outside subnet"},
		{name: "gateway broadcast", opts: CreateOptions{Subnet: "10.30.0.0/24", Gateway: "10.30.0.255"}, wantErr: errdefs.ErrInvalid},
		{name: "gateway network address", opts: CreateOptions{Subnet: "10.30.0.0/24", Gateway: "10.30.0.0"}, wantErr: errdefs.ErrInvalid},
		{name: "gateway garbage", opts: CreateOptions{Subnet: "10.30.0.0/24", Gateway: "gw"}, wantErr: errdefs.ErrInvalid},
		{name: "gateway without subnet", opts: CreateOptions{Gateway: "10.30.0.1"}, wantErr: errdefs.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var host []netip.Prefix
			for _, h := range tc.host {
				host = append(host, netip.MustParsePrefix(h))
			}
			n, err := plan("net1", tc.opts, tc.existing, host)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantErrContain) {
					t.Fatalf("plan error = %v, want %v containing %q", err, tc.wantErr, tc.wantErrContain)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Subnet != tc.subnet || n.Gateway != tc.gw || n.Bridge != BridgeName("net1") {
				t.Fatalf("plan = %s %s %s, want %s %s %s", n.Subnet, n.Gateway, n.Bridge, tc.subnet, tc.gw, BridgeName("net1"))
			}
		})
	}
}

func TestPlanBridgeCollision(t *testing.T) {
	taken := models.Network{Name: "other", Bridge: BridgeName("net1"), Subnet: "10.1.0.0/24"}
	_, err := plan("net1", CreateOptions{Subnet: "10.2.0.0/24"}, []models.Network{taken}, nil)
	if !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("plan error = %v, want ErrConflict", err)
	}
}

func TestConflist(t *testing.T) {
	m := openTest(t)
	for _, tc := range []struct {
		name     string
		internal bool
	}{{"normal", false}, {"internal", true}} {
		t.Run(tc.name, func(t *testing.T) {
			n := models.Network{Name: "web", Bridge: BridgeName("web"), Subnet: "10.30.0.0/24", Gateway: "10.30.0.1", Internal: tc.internal}
			b, err := m.conflist(n)
			if err != nil {
				t.Fatal(err)
			}
			list, err := libcni.ConfListFromBytes(b)
			if err != nil {
				t.Fatalf("libcni rejects the list: %v\n%s", err, b)
			}
			if list.Name != "web" || len(list.Plugins) != 1 || list.Plugins[0].Network.Type != "bridge" {
				t.Fatalf("list = %s", b)
			}
			var got struct {
				Plugins []struct {
					Bridge      string `json:"bridge"`
					IsGateway   bool   `json:"isGateway"`
					IPMasq      bool   `json:"ipMasq"`
					HairpinMode bool   `json:"hairpinMode"`
					IPAM        struct {
						Type    string                `json:"type"`
						DataDir string                `json:"dataDir"`
						Ranges  [][]map[string]string `json:"ranges"`
						Routes  []map[string]string   `json:"routes"`
					} `json:"ipam"`
				} `json:"plugins"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			p := got.Plugins[0]
			if p.Bridge != n.Bridge || !p.IsGateway || p.IPMasq || !p.HairpinMode {
				t.Fatalf("bridge plugin = %+v", p)
			}
			if p.IPAM.Type != "host-local" || p.IPAM.DataDir != filepath.Join(m.dataDir, "cni", "ipam") {
				t.Fatalf("ipam = %+v", p.IPAM)
			}
			if r := p.IPAM.Ranges; len(r) != 1 || len(r[0]) != 1 || r[0][0]["subnet"] != "10.30.0.0/24" || r[0][0]["gateway"] != "10.30.0.1" {
				t.Fatalf("ranges = %v", p.IPAM.Ranges)
			}
			wantRoutes := 1
			if tc.internal {
				wantRoutes = 0
			}
			if len(p.IPAM.Routes) != wantRoutes || (wantRoutes == 1 && p.IPAM.Routes[0]["dst"] != "0.0.0.0/0") {
				t.Fatalf("routes = %v, want %d default route(s)", p.IPAM.Routes, wantRoutes)
			}
		})
	}
}

func TestNetworkRules(t *testing.T) {
	n := models.Network{Name: "web", Bridge: "budgie-x", Subnet: "10.30.0.0/24"}
	filter, nat := networkRules(n)
	if len(filter) != 3 || filter[0].String() != "-t filter BUDGIE-ISOLATION -i budgie-x -o budgie-x -j ACCEPT" {
		t.Fatalf("filter rules = %v", filter)
	}
	if len(nat) != 1 || nat[0].String() != "-t nat BUDGIE-POSTROUTING -s 10.30.0.0/24 ! -o budgie-x -j MASQUERADE" {
		t.Fatalf("nat rules = %v", nat)
	}
	n.Internal = true
	filter, nat = networkRules(n)
	if len(nat) != 0 || len(filter) != 3 || filter[1].String() != "-t filter BUDGIE-ISOLATION -i budgie-x -j DROP" ||
		filter[2].String() != "-t filter BUDGIE-ISOLATION -o budgie-x -j DROP" {
		t.Fatalf("internal rules = %v / %v", filter, nat)
	}
}

func openTest(t *testing.T) *Manager {
	t.Helper()
	m, err := Open(Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOpenCreatesDefault(t *testing.T) {
	m := openTest(t)
	ctx := context.Background()
	n, err := m.Get(ctx, models.DefaultNetwork)
	if err != nil {
		t.Fatal(err)
	}
	if n.Bridge != "budgie0" || n.Subnet != "172.20.0.0/16" || n.Gateway != "172.20.0.1" || !n.Default || n.Internal {
		t.Fatalf("default network = %+v", n)
	}
	if _, err := os.Stat(filepath.Join(m.dataDir, "cni", "net.d", "budgie0.conflist")); err != nil {
		t.Fatalf("conflist not written: %v", err)
	}
	again, err := Open(Options{DataDir: m.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if n2, _ := again.Get(ctx, models.DefaultNetwork); !n2.Created.Equal(n.Created) {
		t.Fatalf("reopen rewrote the default network: %v vs %v", n2.Created, n.Created)
	}
}

func TestListOrder(t *testing.T) {
	m := openTest(t)
	for i, name := range []string{"zeta", "alpha", "Beta"} {
		n := models.Network{Name: name, Bridge: BridgeName(name), Subnet: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 9, byte(i), 0}), 24).String()}
		if err := m.save(n); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := m.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range ns {
		names = append(names, n.Name)
	}
	if got := strings.Join(names, ","); got != "budgie0,Beta,alpha,zeta" {
		t.Fatalf("List order = %s", got)
	}
}

func TestErrors(t *testing.T) {
	m := openTest(t)
	ctx := context.Background()
	if err := m.save(models.Network{Name: "used", Bridge: BridgeName("used"), Subnet: "10.9.0.0/24", Gateway: "10.9.0.1"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		run     func() error
		want    error
		contain string
	}{
		{"get unknown", func() error { _, err := m.Get(ctx, "nope"); return err }, errdefs.ErrNotFound, "see: budgie network ls"},
		{"get host", func() error { _, err := m.Get(ctx, "host"); return err }, errdefs.ErrNotFound, "no network host"},
		{"create bad name", func() error { _, err := m.Create(ctx, "bad name", CreateOptions{}); return err }, errdefs.ErrInvalid, "invalid"},
		{"create host", func() error { _, err := m.Create(ctx, "host", CreateOptions{}); return err }, errdefs.ErrInvalid, "reserved"},
		{"create existing", func() error { _, err := m.Create(ctx, "used", CreateOptions{}); return err }, errdefs.ErrConflict, "already exists"},
		{"create default", func() error { _, err := m.Create(ctx, "budgie0", CreateOptions{}); return err }, errdefs.ErrConflict, "already exists"},
		{"create overlap", func() error { _, err := m.Create(ctx, "n2", CreateOptions{Subnet: "10.9.0.128/25"}); return err }, errdefs.ErrConflict, "overlaps network used"},
		{"create bad cidr", func() error { _, err := m.Create(ctx, "n2", CreateOptions{Subnet: "10.9.0.0/99"}); return err }, errdefs.ErrInvalid, "not a CIDR"},
		{"create gateway outside", func() error {
			_, err := m.Create(ctx, "n2", CreateOptions{Subnet: "10.8.0.0/24", Gateway: "10.9.0.1"})
			return err
		}, errdefs.ErrInvalid, "outside subnet"},
		{"remove default", func() error { return m.Remove(ctx, "budgie0") }, errdefs.ErrInvalid, "default network"},
		{"remove unknown", func() error { return m.Remove(ctx, "nope") }, errdefs.ErrNotFound, "see: budgie network ls"},
		{"attach no netns", func() error {
			_, err := m.Attach(ctx, AttachOptions{ContainerID: "c1", Network: "used"})
			return err
		}, errdefs.ErrInvalid, "no network namespace"},
		{"attach unknown network", func() error {
			_, err := m.Attach(ctx, AttachOptions{ContainerID: "c1", Network: "nope", NetNS: "/proc/1/ns/net"})
			return err
		}, errdefs.ErrNotFound, "see: budgie network ls"},
		{"detach unknown network", func() error { return m.Detach(ctx, DetachOptions{ContainerID: "c1", Network: "nope"}) }, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.contain) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.contain)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Fatalf("error %q does not start lowercase", msg)
			}
		})
	}
}

// writeLease fakes host-local's lease file for ip on network.
// keepIf turns a per-container predicate into GC's keep.
func keepIf(f func(id string) bool) func([]string) (map[string]bool, error) {
	return func(ids []string) (map[string]bool, error) {
		kept := map[string]bool{}
		for _, id := range ids {
			kept[id] = f(id)
		}
		return kept, nil
	}
}

// TestGCAsksOnce: keep is asked once, with each leased container once; its
// error is returned and the leases it did not keep are still released.
func TestGCAsksOnce(t *testing.T) {
	m := openTest(t)
	writeLease(t, m, "gone", "10.7.0.2", "dead\r\neth0")
	writeLease(t, m, "gone", "10.7.0.3", "alive\r\neth0")
	writeLease(t, m, "gone", "10.7.0.4", "alive\r\neth1")
	calls := 0
	boom := errors.New("boom")
	released, err := m.GC(context.Background(), func(ids []string) (map[string]bool, error) {
		calls++
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"alive", "dead"}) {
			t.Errorf("keep asked about %q, want alive and dead once each", ids)
		}
		return map[string]bool{"alive": true}, boom
	})
	if calls != 1 || !errors.Is(err, boom) {
		t.Fatalf("keep called %d times, GC error %v; want once and boom", calls, err)
	}
	if len(released) != 1 || released[0].ContainerID != "dead" {
		t.Fatalf("released = %+v, want dead's lease", released)
	}
	// A nil set releases nothing.
	writeLease(t, m, "gone", "10.7.0.5", "dead2\r\neth0")
	released, err = m.GC(context.Background(), func([]string) (map[string]bool, error) { return nil, boom })
	if len(released) != 0 || !errors.Is(err, boom) {
		t.Fatalf("nil keep set: released %+v, err %v", released, err)
	}
}

func writeLease(t *testing.T, m *Manager, network, ip, content string) {
	t.Helper()
	dir := m.ipamDir(network)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ip), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLeasesAndRemoveInUse(t *testing.T) {
	m := openTest(t)
	ctx := context.Background()
	if err := m.save(models.Network{Name: "used", Bridge: BridgeName("used"), Subnet: "10.9.0.0/24", Gateway: "10.9.0.1"}); err != nil {
		t.Fatal(err)
	}
	writeLease(t, m, "used", "10.9.0.10", "aaaaaaaaaaaaaaaaaaaa\r\neth1")
	writeLease(t, m, "used", "10.9.0.9", "bbbbbbbbbbbbbbbbbbbb")
	writeLease(t, m, "used", "last_reserved_ip.0", "10.9.0.10")
	writeLease(t, m, "used", "lock", "")
	leases, err := m.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []models.Endpoint{
		{Network: "used", ContainerID: "bbbbbbbbbbbbbbbbbbbb", IfName: "eth0", IP: "10.9.0.9", PrefixLen: 24, Gateway: "10.9.0.1"},
		{Network: "used", ContainerID: "aaaaaaaaaaaaaaaaaaaa", IfName: "eth1", IP: "10.9.0.10", PrefixLen: 24, Gateway: "10.9.0.1"},
	}
	if len(leases) != len(want) || leases[0] != want[0] || leases[1] != want[1] {
		t.Fatalf("Leases = %+v\nwant %+v", leases, want)
	}
	err = m.Remove(ctx, "used")
	if !errors.Is(err, errdefs.ErrConflict) || !strings.Contains(err.Error(), "aaaaaaaaaaaa, bbbbbbbbbbbb") {
		t.Fatalf("Remove = %v, want ErrConflict naming both containers", err)
	}
	if _, err := m.Get(ctx, "used"); err != nil {
		t.Fatalf("refused Remove deleted the network: %v", err)
	}
}

func TestGCOrphanLeases(t *testing.T) {
	m := openTest(t)
	writeLease(t, m, "gone", "10.7.0.2", "dead\r\neth0")
	writeLease(t, m, "gone", "10.7.0.3", "alive\r\neth0")
	released, err := m.GC(context.Background(), keepIf(func(id string) bool { return id == "alive" }))
	if err != nil {
		t.Fatal(err)
	}
	if len(released) != 1 || released[0].ContainerID != "dead" || released[0].IP != "10.7.0.2" {
		t.Fatalf("released = %+v", released)
	}
	leases, _ := m.Leases(context.Background())
	if len(leases) != 1 || leases[0].ContainerID != "alive" {
		t.Fatalf("leases after GC = %+v", leases)
	}
}
