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

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/models"
)

// ChirpCmd lists the containers announced on the LAN.
type ChirpCmd struct {
	Timeout time.Duration `help:"How long to listen when no keeper runs on this node (a keeper answers at once)." default:"2s"`
	Format  string        `help:"Output format: table or json." enum:"table,json" default:"table"`
}

// Run asks the node's keeper for its live table of peers or, when no
// keeper runs, listens on the LAN itself for --timeout.
func (c *ChirpCmd) Run(g *Globals) error {
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
	return printPeers(os.Stdout, peers)
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
func printPeers(out io.Writer, peers []models.Peer) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tNAME\tCONTAINER ID\tIMAGE\tSTATE\tPORTS\tADDRESS")
	for _, p := range peers {
		ps := ports(p.Ports)
		if p.MorePorts > 0 {
			ps += fmt.Sprintf(" (+%d)", p.MorePorts)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.NodeName, p.Name, models.ShortID(p.ContainerID),
			p.Image, p.State, ps, p.Address)
	}
	return w.Flush()
}

// discoveryOptions are the keeper's discovery settings from cfg.
func discoveryOptions(cfg *config.Config) *discovery.Options {
	return &discovery.Options{
		NodeName:   cfg.NodeName,
		Interfaces: cfg.Discovery.Interfaces,
		SyncPort:   cfg.Discovery.SyncPort,
		Interval:   cfg.Discovery.Interval,
		Expiry:     cfg.Discovery.Expiry,
	}
}
