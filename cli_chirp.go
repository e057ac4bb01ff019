package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// ChirpCmd lists the containers announced on the LAN or, given one,
// replicates it to this node.
type ChirpCmd struct {
	Ref     string        `arg:"" optional:"" help:"Container to replicate here: NAME@NODE, a container ID or a unique ID prefix. Without it, list the LAN's containers."`
	Sync    bool          `help:"Keep the replica in sync with its primary after it starts (this node's keeper follows the primary's changes)."`
	DryRun  bool          `name:"dry-run" help:"Print the plan (image, volumes and sizes, ports, secrets) and change nothing."`
	Name    string        `help:"Name of the replica (default: the primary's)."`
	Timeout time.Duration `help:"How long to listen when no keeper runs on this node (a keeper answers at once)." default:"2s"`
	Format  string        `help:"Output format: table or json." enum:"table,json" default:"table"`
}

// Run lists the LAN's containers, asking the node's keeper for its live
// table of peers or, when no keeper runs, listening on the LAN itself for
// --timeout; with a container reference it replicates that container.
func (c *ChirpCmd) Run(g *Globals) error {
	if c.Ref != "" {
		return c.replicate(g)
	}
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	nodes, how, err := chirpNodes(g.ctx, cfg, c.Timeout)
	if err != nil {
		return err
	}
	var peers []models.Peer
	for _, n := range nodes {
		peers = append(peers, n.Containers...)
	}
	if c.Format == "json" {
		if peers == nil {
			peers = []models.Peer{}
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(peers)
	}
	if len(peers) == 0 {
		fmt.Printf("No budgie containers found on the LAN (%s).\n", how)
		return nil
	}
	return printPeers(os.Stdout, peers, trustedNodes(g, nodes))
}

// trustedNodes returns the IDs of the nodes whose announced identity this
// node trusts; nil when the trust store cannot be read.
func trustedNodes(g *Globals, nodes []models.PeerNode) map[string]bool {
	store, err := g.trustStore()
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, n := range nodes {
		if id, err := identity.ParseID(n.Fingerprint); err == nil && store.IsTrusted(id) {
			out[n.ID] = true
		}
	}
	return out
}

// chirpNodes returns the LAN's nodes and says where they came from.
func chirpNodes(ctx context.Context, cfg *config.Config, timeout time.Duration) ([]models.PeerNode, string, error) {
	kctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if kc, err := keeper.Dial(kctx, cfg.DataDir); err == nil {
		if resp, err := kc.Peers(kctx); err == nil && resp.NodeID != "" {
			return resp.Nodes, "asked the keeper, which browses " + strings.Join(resp.Interfaces, ", "), nil
		}
	}
	nodes, err := discovery.Browse(ctx, discovery.BrowseOptions{
		Interfaces: cfg.Discovery.Interfaces, Timeout: timeout, Self: existingNodeID(cfg.DataDir),
	})
	if err != nil {
		return nil, "", err
	}
	where := "every interface"
	if len(cfg.Discovery.Interfaces) > 0 {
		where = strings.Join(cfg.Discovery.Interfaces, ", ")
	}
	return nodes, fmt.Sprintf("listened %s on %s; no keeper runs here; are keepers running on the other nodes?", timeout, where), nil
}

// existingNodeID returns the node's ID when the keeper made one, or "".
func existingNodeID(dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, discovery.NodeIDName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// printPeers writes the chirp table.
func printPeers(out io.Writer, peers []models.Peer, trusted map[string]bool) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tNAME\tCONTAINER ID\tIMAGE\tSTATE\tPORTS\tADDRESS\tTRUSTED")
	for _, p := range peers {
		ps := ports(p.Ports)
		if p.MorePorts > 0 {
			ps += fmt.Sprintf(" (+%d)", p.MorePorts)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.NodeName, p.Name, models.ShortID(p.ContainerID),
			p.Image, p.State, ps, p.Address, trustMark(p, trusted))
	}
	return w.Flush()
}

// trustMark says whether a peer's node can be replicated from: yes, no,
// or "-" when it announces no identity.
func trustMark(p models.Peer, trusted map[string]bool) string {
	switch {
	case p.Fingerprint == "":
		return "-"
	case trusted[p.NodeID]:
		return "yes"
	}
	return "no"
}

// discoveryOptions are the keeper's discovery settings from cfg; the
// node's identity is announced so that replicating peers can pin it.
func discoveryOptions(cfg *config.Config) *discovery.Options {
	o := &discovery.Options{
		NodeName:   cfg.NodeName,
		Interfaces: cfg.Discovery.Interfaces,
		SyncPort:   cfg.Discovery.SyncPort,
		Interval:   cfg.Discovery.Interval,
		Expiry:     cfg.Discovery.Expiry,
	}
	if id, err := identity.Load(cfg.DataDir, identity.LoadOptions{Name: cfg.NodeName}); err == nil {
		o.Fingerprint = id.ID.String()
	}
	return o
}

// replicate copies c.Ref to this node, printing progress on stderr and
// the replica's ID (or, with --dry-run, the plan) on stdout.
func (c *ChirpCmd) replicate(g *Globals) error {
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	cfg := eng.Config
	prog := newChirpProgress(os.Stderr)
	res, err := eng.Replicate(g.Context(), engine.ReplicateOptions{
		Ref: c.Ref, Name: c.Name, Sync: c.Sync, DryRun: c.DryRun,
		Peers: func(ctx context.Context) ([]models.PeerNode, error) {
			nodes, _, err := chirpNodes(ctx, cfg, c.Timeout)
			return nodes, err
		},
		Progress: prog.update,
	})
	prog.finish()
	if err != nil {
		return err
	}
	if c.DryRun {
		return printPlan(os.Stdout, res)
	}
	var bytes int64
	for _, st := range res.Stats {
		bytes += st.BytesReceived
	}
	verb := "replicated"
	if res.Resynced {
		verb = "synced existing replica of"
	}
	fmt.Fprintf(os.Stderr, "%s %s@%s as %s (%s received)\n", verb, res.Plan.Name, res.Primary.Name, res.Container.Name, humanSize(bytes))
	if c.Sync {
		if _, err := eng.Keeper.Ping(g.ctx); err != nil {
			fmt.Fprintln(os.Stderr, "warning: no keeper runs on this node; continuous sync starts when one does (budgie --headless serve)")
		}
	}
	fmt.Println(res.Container.ID)
	return nil
}

// printPlan writes what a replication would do.
func printPlan(out io.Writer, res replica.Result) error {
	p := res.Plan
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "container:\t%s (%s) on %s\n", p.Name, models.ShortID(p.ContainerID), res.Primary.Name)
	img := "copied from the primary"
	if res.HaveImage {
		img = "already here"
	}
	fmt.Fprintf(w, "image:\t%s@%s (%s)\n", p.Image, p.ImageDigest, img)
	var total int64
	for _, v := range p.Volumes {
		fmt.Fprintf(w, "volume:\t%s → %s: %d files, %s\n", v.Name, v.Target, v.Files, humanSize(v.Bytes))
		total += v.Bytes
	}
	if len(p.Volumes) == 0 {
		fmt.Fprintln(w, "volumes:\tnone")
	}
	fmt.Fprintf(w, "ports:\t%s\n", orNone(ports(p.Ports)))
	fmt.Fprintf(w, "secrets:\t%s\n", orNone(strings.Join(p.Secrets, ", ")))
	fmt.Fprintf(w, "to transfer:\tat most %s of volume data\n", humanSize(total))
	return w.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// chirpProgress prints transfer progress: one rewritten line on a
// terminal, plain lines at most every second otherwise.
type chirpProgress struct {
	out   io.Writer
	tty   bool
	last  time.Time
	what  string
	line  string
	dirty bool
}

func newChirpProgress(f *os.File) *chirpProgress {
	return &chirpProgress{out: f, tty: term.IsTerminal(int(f.Fd()))}
}

func (p *chirpProgress) update(r replica.Progress) {
	if r.What != p.what && p.dirty {
		p.flushLine()
	}
	p.what = r.What
	eta := "-"
	if r.ETA > 0 {
		eta = human(r.ETA)
	}
	p.line = fmt.Sprintf("%s: %s/%s, %d/%d files, %s/s, ETA %s", r.What, humanSize(r.BytesDone), humanSize(r.BytesTotal),
		r.FilesDone, r.FilesTotal, humanSize(int64(r.Rate)), eta)
	p.dirty = true
	if time.Since(p.last) < time.Second && !(r.BytesDone == r.BytesTotal && r.FilesDone == r.FilesTotal) {
		if p.tty {
			fmt.Fprintf(p.out, "\r\033[K%s", p.line)
		}
		return
	}
	p.flushLine()
}

func (p *chirpProgress) flushLine() {
	if p.tty {
		fmt.Fprintf(p.out, "\r\033[K%s\n", p.line)
	} else {
		fmt.Fprintln(p.out, p.line)
	}
	p.last, p.dirty = time.Now(), false
}

func (p *chirpProgress) finish() {
	if p.dirty {
		p.flushLine()
	}
}

// replicationOptions are the keeper's replication settings from cfg.
func replicationOptions(cfg *config.Config) *replica.KeeperOptions {
	port := cfg.Discovery.SyncPort
	if port == 0 {
		port = discovery.DefaultSyncPort
	}
	return &replica.KeeperOptions{NodeName: cfg.NodeName, Addr: fmt.Sprintf(":%d", port)}
}
