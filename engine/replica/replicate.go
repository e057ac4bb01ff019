package replica

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/volsync"
	"github.com/budgie-sh/budgie/models"
)

// Node is what replication needs to reach a node: its identity and its
// trust store, shared by Replicate and the keeper.
type Node struct {
	// Identity is this node's identity; Trust its trust store.
	Identity *identity.Identity
	Trust    *identity.TrustStore
	// Runtime is this node's runtime.
	Runtime *runtime.Runtime
}

// ReplicateOptions configures Replicate.
type ReplicateOptions struct {
	// Ref names the container: "NAME@NODE" (NODE is a node name, ID or ID
	// prefix), a full container ID, a unique ID prefix or a name that only
	// one node announces.
	Ref string
	// Name is the replica's name; empty means the primary's.
	Name string
	// Sync marks the replica for continuous sync by the keeper.
	Sync bool
	// DryRun fills Result.Plan (with volume sizes) and Result.Admission
	// and changes nothing.
	DryRun bool
	// Secrets are the secrets of this node the replica may read; a secret
	// the primary's container uses and that is not listed here is left
	// out (Admission.Refused). Nil allows none.
	Secrets []string
	// Images loads the image copied from the primary; required.
	Images *images.Service
	// Peers returns the LAN's nodes (the keeper's discovery table); required.
	Peers func(ctx context.Context) ([]models.PeerNode, error)
	// Run creates and starts the replica; nil means Runtime.Run, which
	// publishes no ports through the keeper.
	Run func(ctx context.Context, spec models.ContainerSpec) (models.Container, error)
	// CacheDir keeps images in transit (resumable); required.
	CacheDir string
	// Progress, when set, is called as the image and the volumes arrive.
	Progress func(Progress)
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
}

// Progress reports a transfer: the image or one volume.
type Progress struct {
	// What is "image" or "volume NAME".
	What string
	volsync.Progress
	// Rate is bytes per second so far; ETA the time left at that rate.
	Rate float64
	ETA  time.Duration
}

// Result is what Replicate did.
type Result struct {
	// Plan is the primary's description as it sent it, with volume sizes
	// on DryRun: input from another node, for display only.
	Plan models.ReplicaPlan
	// Admission is what runs here: the spec rebuilt from the plan's
	// allowed fields and the parts of the plan refused.
	Admission Admission
	// Primary is the node it came from.
	Primary models.PeerNode
	// Container is the replica; zero on DryRun.
	Container models.Container
	// HaveImage is true when this node already had the image (DryRun: it
	// would not be copied); ImageBytes is the archive's size otherwise.
	HaveImage bool
	// Resynced is true when an existing replica of the same container was
	// synced again instead of a new one made.
	Resynced bool
	// Stats are the volumes' sync statistics, in plan order.
	Stats []volsync.Stats
}

// Replicate copies a container from the node that announces it to this
// one: it checks that the node is trusted here, connects with its
// announced identity pinned, gets the plan and admits it (see Admission:
// the spec is rebuilt from an allow-list, and a plan that fails a check
// is refused before anything is transferred), copies the image when this
// node lacks it, syncs every named volume (resuming an interrupted sync)
// and runs the admitted spec labelled as a replica. Running it again for an
// existing replica of the same container syncs it again.
func Replicate(ctx context.Context, n Node, opts ReplicateOptions) (Result, error) {
	var res Result
	if n.Runtime == nil || n.Identity == nil || n.Trust == nil || opts.Images == nil || opts.Peers == nil || opts.CacheDir == "" {
		return res, fmt.Errorf("replicate needs a runtime, an identity, a trust store, images, peers and a cache dir: %w", errdefs.ErrInvalid)
	}
	nodes, err := opts.Peers(ctx)
	if err != nil {
		return res, fmt.Errorf("list the LAN's nodes: %w", err)
	}
	node, peer, err := Resolve(nodes, opts.Ref)
	if err != nil {
		return res, err
	}
	res.Primary = node
	c, verified, err := Dial(ctx, n, node)
	if err != nil {
		return res, err
	}
	defer c.Close()
	res.Plan, err = fetchPlan(ctx, c, n, node, peer.ContainerID)
	if err != nil {
		return res, err
	}
	res.Admission, err = admit(res.Plan, admitOptions{verified: verified, name: opts.Name, secrets: opts.Secrets})
	if err != nil {
		return res, fmt.Errorf("node %s: %w", node.Name, err)
	}
	return replicateFrom(ctx, n, c, opts, verified, res)
}

// fetchPlan asks the primary for the container's plan.
func fetchPlan(ctx context.Context, c *volsync.Client, n Node, node models.PeerNode, id string) (models.ReplicaPlan, error) {
	var plan models.ReplicaPlan
	raw, err := c.Meta(ctx, MetaContainer+id)
	if err != nil {
		return plan, fmt.Errorf("node %s: %w", node.Name, explainDial(node, n.Identity.ID, err))
	}
	if err := json.Unmarshal(raw, &plan); err != nil {
		return plan, fmt.Errorf("node %s sent a bad plan: %w", node.Name, err)
	}
	if plan.ContainerID != id {
		return plan, fmt.Errorf("node %s described container %s, not %s: %w", node.Name, plan.ContainerID, id, volsync.ErrProtocol)
	}
	return plan, nil
}

// replicateFrom runs the steps after the plan is admitted.
func replicateFrom(ctx context.Context, n Node, c *volsync.Client, opts ReplicateOptions, verified identity.ID, res Result) (Result, error) {
	plan, adm := res.Plan, res.Admission
	name := adm.Spec.Name
	primary := res.Primary.ID + "/" + plan.ContainerID
	existing, err := checkLocal(ctx, n.Runtime, name, primary, adm.Volumes)
	if err != nil {
		return res, err
	}
	if err := n.Runtime.CheckRunnable(ctx, adm.Spec); err != nil {
		return res, fmt.Errorf("replica %s cannot run here: %w", name, err)
	}
	res.HaveImage = imageDigest(ctx, n.Runtime, plan.Image) == plan.ImageDigest
	if opts.DryRun {
		for i, v := range adm.Volumes {
			files, bytes, err := c.Plan(ctx, plan.ContainerID+"/"+v.Name)
			if err != nil {
				return res, fmt.Errorf("size volume %s: %w", v.Name, err)
			}
			res.Admission.Volumes[i].Files, res.Admission.Volumes[i].Bytes = files, bytes
		}
		return res, nil
	}
	if _, err := fetchImage(ctx, c, n.Runtime, opts.Images, plan.Image, plan.ImageDigest, opts.CacheDir, reporter(opts.Progress, "image")); err != nil {
		return res, err
	}
	for _, v := range adm.Volumes {
		st, err := c.Sync(ctx, plan.ContainerID+"/"+v.Name, n.Runtime.VolumeDir(v.Name), volsync.SyncOptions{Progress: reporter(opts.Progress, "volume "+v.Name)})
		res.Stats = append(res.Stats, st)
		if err != nil {
			return res, fmt.Errorf("sync volume %s from node %s: %w (run the same command again to resume)", v.Name, res.Primary.Name, err)
		}
	}
	res.Container, res.Resynced, err = startReplica(ctx, n.Runtime, opts, adm.Spec, existing)
	if err != nil {
		return res, err
	}
	syncVal := "off"
	if opts.Sync {
		syncVal = "on"
	}
	return res, setLabels(ctx, n.Runtime, res.Container.ID, map[string]string{
		LabelReplicaOf: primary, LabelReplicaSync: syncVal, LabelReplicaIdentity: verified.String(),
	})
}

// startReplica runs the replica's admitted spec, or starts the existing one.
func startReplica(ctx context.Context, rt *runtime.Runtime, opts ReplicateOptions, spec models.ContainerSpec, existing *models.Container) (models.Container, bool, error) {
	if existing != nil {
		if existing.State == models.StateRunning {
			return *existing, true, nil
		}
		c, err := rt.Start(ctx, existing.ID)
		return c, true, err
	}
	run := opts.Run
	if run == nil {
		run = func(ctx context.Context, spec models.ContainerSpec) (models.Container, error) {
			return rt.Run(ctx, spec, runtime.RunOptions{})
		}
	}
	c, err := run(ctx, spec)
	if err != nil {
		return c, false, fmt.Errorf("run replica %s: %w", spec.Name, err)
	}
	return c, false, nil
}

// checkLocal finds an existing replica of primary named name, and refuses
// a name or a volume another local container uses.
func checkLocal(ctx context.Context, rt *runtime.Runtime, name, primary string, vols []models.ReplicaVolume) (*models.Container, error) {
	local, err := rt.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	replicas, err := labelled(ctx, rt, LabelReplicaOf)
	if err != nil {
		return nil, err
	}
	var existing *models.Container
	for i, lc := range local {
		if lc.Name == name {
			if replicas[lc.ID][LabelReplicaOf] != primary {
				return nil, fmt.Errorf("a container named %s exists here and is not a replica of it (choose another: --name): %w", name, errdefs.ErrConflict)
			}
			existing = &local[i]
		}
	}
	for _, lc := range local {
		if existing != nil && lc.ID == existing.ID {
			continue
		}
		for _, v := range vols {
			if slices.Contains(namedVolumes(lc.Spec), v.Name) {
				return nil, fmt.Errorf("volume %s is used by local container %s; a replica would overwrite it (remove that container first): %w", v.Name, lc.Name, errdefs.ErrConflict)
			}
		}
	}
	return existing, nil
}

// setLabels sets containerd labels on container id.
func setLabels(ctx context.Context, rt *runtime.Runtime, id string, labels map[string]string) error {
	cc, err := rt.Client().LoadContainer(ctx, id)
	if err == nil {
		_, err = cc.SetLabels(ctx, labels)
	}
	if err != nil {
		return fmt.Errorf("label replica %s: %w", models.ShortID(id), errdefs.FromContainerd(err))
	}
	return nil
}

// reporter adds rate and ETA to sync progress.
func reporter(f func(Progress), what string) func(volsync.Progress) {
	if f == nil {
		return nil
	}
	start := time.Now()
	return func(p volsync.Progress) {
		r := Progress{What: what, Progress: p}
		if el := time.Since(start).Seconds(); el > 0 {
			r.Rate = float64(p.BytesDone) / el
		}
		if r.Rate > 0 && p.BytesTotal > p.BytesDone {
			r.ETA = time.Duration(float64(p.BytesTotal-p.BytesDone) / r.Rate * float64(time.Second))
		}
		f(r)
	}
}

// Resolve finds ref among the nodes' announced containers (see
// ReplicateOptions.Ref); local nodes are skipped.
func Resolve(nodes []models.PeerNode, ref string) (models.PeerNode, models.Peer, error) {
	cname, nodeRef, hasNode := strings.Cut(ref, "@")
	if cname == "" || (hasNode && nodeRef == "") {
		return models.PeerNode{}, models.Peer{}, fmt.Errorf("bad container reference %q (want NAME@NODE or a container ID): %w", ref, errdefs.ErrInvalid)
	}
	type hit struct {
		node models.PeerNode
		peer models.Peer
	}
	var exact, prefix []hit
	for _, n := range nodes {
		if n.Local || (hasNode && n.Name != nodeRef && n.ID != nodeRef && !strings.HasPrefix(n.ID, nodeRef)) {
			continue
		}
		for _, p := range n.Containers {
			switch {
			case p.ContainerID == cname || p.Name == cname:
				exact = append(exact, hit{n, p})
			case strings.HasPrefix(p.ContainerID, cname):
				prefix = append(prefix, hit{n, p})
			}
		}
	}
	hits := exact
	if len(hits) == 0 {
		hits = prefix
	}
	switch len(hits) {
	case 0:
		return models.PeerNode{}, models.Peer{}, fmt.Errorf("no node announces container %s (see: budgie chirp): %w", ref, errdefs.ErrNotFound)
	case 1:
		return hits[0].node, hits[0].peer, nil
	}
	var names []string
	for _, h := range hits {
		names = append(names, h.peer.Name+"@"+h.node.Name)
	}
	return models.PeerNode{}, models.Peer{}, fmt.Errorf("%s matches %s (name one as NAME@NODE): %w", ref, strings.Join(names, ", "), errdefs.ErrAmbiguous)
}

// Dial connects to node's replication port, refusing a node this node
// does not trust and any server whose certificate is not the identity the
// node announced. It returns the identity the handshake verified.
func Dial(ctx context.Context, n Node, node models.PeerNode) (*volsync.Client, identity.ID, error) {
	var none identity.ID
	if node.Fingerprint == "" {
		return nil, none, fmt.Errorf("node %s announces no identity (is its keeper running with replication?): %w", node.Name, errdefs.ErrUnavailable)
	}
	want, err := identity.ParseID(node.Fingerprint)
	if err != nil {
		return nil, none, fmt.Errorf("node %s announces a malformed identity %q: %w", node.Name, node.Fingerprint, errdefs.ErrInvalid)
	}
	if !n.Trust.IsTrusted(want) {
		return nil, none, fmt.Errorf("node %s (%s) is not trusted here; check `budgie id` on %s, then trust it first: budgie trust add %s: %w",
			node.Name, want.Short(), node.Name, want, identity.ErrUntrusted)
	}
	addr := syncAddr(node)
	d := tls.Dialer{Config: identity.ClientConfig(n.Identity, want)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if errors.Is(err, identity.ErrPeerMismatch) {
		return nil, none, fmt.Errorf("node %s at %s: %w", node.Name, addr, explainDial(node, n.Identity.ID, err))
	}
	if err != nil {
		return nil, none, fmt.Errorf("connect to node %s at %s (is its keeper running?): %w: %w", node.Name, addr, errdefs.ErrUnavailable, err)
	}
	// The handshake checked the certificate against want; the ID is read
	// back from the connection so that what is pinned is what was proved.
	verified := identity.PeerID(conn.(*tls.Conn).ConnectionState())
	if verified != want {
		conn.Close()
		return nil, none, fmt.Errorf("node %s at %s: %w", node.Name, addr, identity.ErrPeerMismatch)
	}
	c, err := volsync.Dial(ctx, conn, volsync.ClientOptions{})
	if err != nil {
		conn.Close()
		return nil, none, fmt.Errorf("node %s at %s: %w", node.Name, addr, explainDial(node, n.Identity.ID, err))
	}
	return c, verified, nil
}

// explainDial names the two trust failures a handshake can hide.
func explainDial(node models.PeerNode, self identity.ID, err error) error {
	switch {
	case errors.Is(err, identity.ErrPeerMismatch):
		return fmt.Errorf("the certificate does not match the identity node %s announced (a spoofed announcement, or its key changed): %w", node.Name, err)
	case strings.Contains(err.Error(), "remote error: tls: bad certificate"):
		return fmt.Errorf("not trusted by node %s (on %s run: budgie trust add %s): %w: %w", node.Name, node.Name, self, identity.ErrUntrusted, err)
	}
	return err
}

// syncAddr is the node's replication address.
func syncAddr(node models.PeerNode) string {
	host := node.Address
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	port := node.SyncPort
	if port == 0 {
		port = volsync.DefaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
