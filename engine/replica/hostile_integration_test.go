//go:build integration

package replica_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/internal/testkit"
	"github.com/budgie-sh/budgie/models"
)

// testImage is the busybox-static image of the replica node's containerd.
const testImage = "docker.io/library/budgie-replica-test:1"

var (
	env *testkit.Env
	rt  *runtime.Runtime
)

func TestMain(m *testing.M) {
	os.Exit(testkit.RuntimeMain(m, testImage, func(e *testkit.Env, r *runtime.Runtime) (func(), error) {
		env, rt = e, r
		return nil, nil
	}))
}

// hostilePrimary is a paired node built from Budgie's own protocol code
// (volsync.Server over the same pinned TLS) that sends whatever plan the
// test gives it and serves a volume of its choosing.
type hostilePrimary struct {
	id    *identity.Identity
	addr  string
	plan  func() models.ReplicaPlan
	image func() replica.ImageExport
	cid   string
}

// startHostile starts the hostile primary, trusted by the replica node
// (whose identity and trust store live in the runtime's data dir, the
// very place a traversal would reach).
func startHostile(t *testing.T, self *identity.Identity, trust *identity.TrustStore) *hostilePrimary {
	t.Helper()
	pid, err := identity.Load(t.TempDir(), identity.LoadOptions{Name: "evil"})
	if err != nil {
		t.Fatal(err)
	}
	ptrust, err := identity.OpenTrustStore(t.TempDir(), identity.TrustStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ptrust.Trust(ctx, self.ID, "replica"); err != nil {
		t.Fatal(err)
	}
	if err := trust.Trust(ctx, pid.ID, "evil"); err != nil {
		t.Fatal(err)
	}
	h := &hostilePrimary{id: pid, cid: strings.Repeat("e1", 32)}
	payload := t.TempDir()
	if err := os.WriteFile(filepath.Join(payload, "key.pem"), []byte("attacker's key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := volsync.NewServer(volsync.ServerOptions{
		Volumes:   func(string) (string, bool) { return payload, true },
		Authorize: func(volsync.PeerInfo, string) bool { return true },
		Meta: func(_ volsync.PeerInfo, key string) ([]byte, error) {
			if strings.HasPrefix(key, replica.MetaImage) && h.image != nil {
				return json.Marshal(h.image())
			}
			return json.Marshal(h.plan())
		},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	go srv.Serve(ctx, tlsListener(ln, pid, ptrust))
	return h
}

// node is the hostile primary as discovery would list it.
func (h *hostilePrimary) node() models.PeerNode {
	host, port, _ := net.SplitHostPort(h.addr)
	var p int
	fmt.Sscan(port, &p)
	return models.PeerNode{ID: "evilnode", Name: "evil", Address: host, SyncPort: p, Fingerprint: h.id.ID.String(),
		Containers: []models.Peer{{ContainerID: h.cid, Name: "web", NodeID: "evilnode", NodeName: "evil"}}}
}

// basePlan is a well-formed plan for the image the replica already has.
func (h *hostilePrimary) basePlan(t *testing.T) models.ReplicaPlan {
	img, err := rt.Client().GetImage(env.Context(), testImage)
	if err != nil {
		t.Fatal(err)
	}
	spec := models.ContainerSpec{Name: "web", Image: testImage,
		Volumes: []models.VolumeMount{{Kind: models.VolumeNamed, Source: uniqueVolume(), Target: "/data"}}}
	return models.ReplicaPlan{NodeID: "evilnode", NodeName: "evil", Identity: h.id.ID.String(), ContainerID: h.cid, Name: "web",
		Spec: spec, Image: testImage, ImageDigest: img.Target().Digest.String(),
		Volumes: []models.ReplicaVolume{{Name: spec.Volumes[0].Source, Target: "/data"}}}
}

func uniqueVolume() string { return fmt.Sprintf("v%d", time.Now().UnixNano()) }

// snapshot hashes every file under dir (the replica's identity and trust
// store, and a canary outside data_dir).
func snapshot(t *testing.T, dirs ...string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				out[p] = sha256.Sum256(b)
			}
			return nil
		})
	}
	return out
}

func replicateFrom(t *testing.T, self *identity.Identity, trust *identity.TrustStore, h *hostilePrimary, opts replica.ReplicateOptions) (replica.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts.Ref = "web@evil"
	opts.Images = images.New(rt.Client(), images.Options{})
	opts.CacheDir = replica.CacheDir(env.DataDir)
	opts.Peers = func(context.Context) ([]models.PeerNode, error) { return []models.PeerNode{h.node()}, nil }
	res, err := replica.Replicate(ctx, replica.Node{Identity: self, Trust: trust, Runtime: rt}, opts)
	if err == nil && res.Container.ID != "" {
		t.Cleanup(func() {
			_, _ = rt.Remove(context.Background(), res.Container.ID, runtime.RemoveOptions{Force: true, Volumes: true})
		})
	}
	return res, err
}

// TestHostilePrimaryPlans: a paired node's malicious plans are refused
// before any byte lands, and nothing outside the replica's volumes changes.
func TestHostilePrimaryPlans(t *testing.T) {
	self, trust := replicaNode(t)
	h := startHostile(t, self, trust)
	canary := filepath.Join(t.TempDir(), "canary")
	os.WriteFile(canary, []byte("host file\n"), 0o644)
	rel, _ := filepath.Rel(rt.VolumeDir("x")+"/..", canary)
	tests := []struct {
		name string
		edit func(p *models.ReplicaPlan)
	}{
		{"volume ../identity", func(p *models.ReplicaPlan) { setVolume(p, "../identity") }},
		{"volume to a host dir", func(p *models.ReplicaPlan) { setVolume(p, filepath.Dir(rel)) }},
		{"empty volume name", func(p *models.ReplicaPlan) { setVolume(p, "") }},
		{"synced volume not mounted", func(p *models.ReplicaPlan) {
			p.Volumes = append(p.Volumes, models.ReplicaVolume{Name: "identity", Target: "/x"})
		}},
		{"claimed identity is another node's", func(p *models.ReplicaPlan) { p.Identity = self.ID.String() }},
		{"container id with a slash", func(p *models.ReplicaPlan) { p.ContainerID = "../../x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, filepath.Join(env.DataDir, identity.DirName), filepath.Dir(canary), rt.VolumeDir("x")+"/..")
			p := h.basePlan(t)
			tt.edit(&p)
			h.plan = func() models.ReplicaPlan { return p }
			_, err := replicateFrom(t, self, trust, h, replica.ReplicateOptions{})
			if err == nil {
				t.Fatal("a malicious plan was carried out")
			}
			if !errors.Is(err, errdefs.ErrInvalid) && !errors.Is(err, volsync.ErrProtocol) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			after := snapshot(t, filepath.Join(env.DataDir, identity.DirName), filepath.Dir(canary), rt.VolumeDir("x")+"/..")
			if fmt.Sprint(before) != fmt.Sprint(after) {
				t.Fatalf("files changed outside the replica's volumes:\nbefore %v\nafter  %v", before, after)
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestHostilePrimaryForeignImageVolume: the image export may only name the
// image volume of the digest asked for.
func TestHostilePrimaryForeignImageVolume(t *testing.T) {
	self, trust := replicaNode(t)
	h := startHostile(t, self, trust)
	p := h.basePlan(t)
	p.ImageDigest = "sha256:" + strings.Repeat("0a", 32) // not here: an export is asked for
	h.plan = func() models.ReplicaPlan { return p }
	vol := h.cid + "/" + p.Volumes[0].Name
	h.image = func() replica.ImageExport { return replica.ImageExport{Volume: vol, File: "../../identity/key.pem"} }
	before := snapshot(t, filepath.Join(env.DataDir, identity.DirName))
	_, err := replicateFrom(t, self, trust, h, replica.ReplicateOptions{})
	if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "image volume") {
		t.Fatalf("err = %v, want the foreign image volume refused", err)
	}
	if fmt.Sprint(before) != fmt.Sprint(snapshot(t, filepath.Join(env.DataDir, identity.DirName))) {
		t.Fatal("identity changed")
	}
}

// TestHostilePrimaryAllowList: bind mounts, host network, Budgie's labels,
// a host IP and secrets are left out of the spec that runs, shown by the
// dry run, and the pinned identity is the handshake's.
func TestHostilePrimaryAllowList(t *testing.T) {
	self, trust := replicaNode(t)
	h := startHostile(t, self, trust)
	p := h.basePlan(t)
	p.Spec.Volumes = append(p.Spec.Volumes, models.VolumeMount{Kind: models.VolumeBind, Source: "/", Target: "/host"})
	p.Spec.Networks = []string{models.HostNetwork}
	p.Spec.Labels = map[string]string{replica.LabelReplicable: "true", "budgie.spec": "x", "app": "web"}
	p.Spec.Secrets = []string{"db-password"}
	p.Spec.Ports = []models.PortMapping{{HostIP: "192.0.2.1", ContainerPort: 80}}
	p.Spec.Ports = nil // no keeper publishes ports in this test; the host IP rule is covered by the unit test
	h.plan = func() models.ReplicaPlan { return p }

	dry, err := replicateFrom(t, self, trust, h, replica.ReplicateOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	refused := strings.Join(dry.Admission.Refused, "\n")
	for _, want := range []string{`bind mount of host path "/"`, "network host", replica.LabelReplicable, "budgie.spec", "secret db-password"} {
		if !strings.Contains(refused, want) {
			t.Errorf("dry run does not show %q refused:\n%s", want, refused)
		}
	}
	if ctrs, _ := rt.List(context.Background(), runtime.ListOptions{All: true}); containsName(ctrs, "web") {
		t.Fatal("the dry run made a container")
	}

	res, err := replicateFrom(t, self, trust, h, replica.ReplicateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := rt.Get(context.Background(), res.Container.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range c.Spec.Volumes {
		if v.Kind == models.VolumeBind {
			t.Fatalf("bind mount ran: %+v", v)
		}
	}
	if len(c.Spec.Networks) != 0 || len(c.Spec.Secrets) != 0 || c.Spec.Labels["app"] != "web" {
		t.Fatalf("spec that ran: networks %v secrets %v labels %v", c.Spec.Networks, c.Spec.Secrets, c.Spec.Labels)
	}
	rec, err := rt.Client().ContainerService().Get(env.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Labels[replica.LabelReplicable] == "true" {
		t.Fatal("the primary re-shared the replica without consent")
	}
	if rec.Labels[replica.LabelReplicaIdentity] != h.id.ID.String() {
		t.Fatalf("pinned identity %q, want the handshake's %s", rec.Labels[replica.LabelReplicaIdentity], h.id.ID)
	}
	got, err := os.ReadFile(filepath.Join(rt.VolumeDir(p.Volumes[0].Name), "key.pem"))
	if err != nil || string(got) != "attacker's key\n" {
		t.Fatalf("volume content inside the replica's own volume: %q, %v", got, err)
	}
}

func containsName(cs []models.Container, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func setVolume(p *models.ReplicaPlan, name string) {
	p.Volumes[0].Name = name
	p.Spec.Volumes[0].Source = name
}

// replicaNode is this node's identity and trust store, in the runtime's
// data dir.
func replicaNode(t *testing.T) (*identity.Identity, *identity.TrustStore) {
	t.Helper()
	self, err := identity.Load(env.DataDir, identity.LoadOptions{Name: "replica"})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := identity.OpenTrustStore(env.DataDir, identity.TrustStoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return self, trust
}

// tlsListener wraps ln in the pinned mutual TLS every keeper serves.
func tlsListener(ln net.Listener, id *identity.Identity, trust *identity.TrustStore) net.Listener {
	return tls.NewListener(ln, identity.ServerConfig(id, trust))
}
