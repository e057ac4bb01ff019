package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/models"
)

// IDCmd prints this node's ID, making the identity on first use.
type IDCmd struct {
	Short  bool   `help:"Print only the first group (for display; never trust by it)."`
	Format string `help:"Output format: text or json (ID, short ID, certificate name and SHA-256 fingerprint)." enum:"text,json" default:"text"`
}

// idJSON is budgie id --format json.
type idJSON struct {
	ID          string `json:"id"`
	ShortID     string `json:"short_id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
}

// Run prints the ID.
func (c *IDCmd) Run(g *Globals) error {
	id, err := g.nodeIdentity()
	if err != nil {
		return err
	}
	switch {
	case c.Format == "json":
		return printJSON(idJSON{ID: id.ID.String(), ShortID: id.ID.Short(), Name: id.Name, Fingerprint: id.ID.Hex()})
	case c.Short:
		fmt.Println(id.ID.Short())
	default:
		fmt.Println(id.ID)
	}
	return nil
}

// TrustCmd groups the commands that decide which nodes may replicate with
// this one.
type TrustCmd struct {
	Ls   TrustLsCmd   `cmd:"" aliases:"list" help:"List trusted nodes and pending requests."`
	Add  TrustAddCmd  `cmd:"" help:"Trust a node (approve its request) by its full ID."`
	Rm   TrustRmCmd   `cmd:"" aliases:"remove" help:"Forget nodes: untrust them, or drop their requests or denials."`
	Deny TrustDenyCmd `cmd:"" help:"Deny nodes' pending requests; their later attempts are refused without being listed."`
}

// TrustLsCmd lists the trust store.
type TrustLsCmd struct {
	All    bool   `short:"a" help:"Show denied nodes too."`
	Quiet  bool   `short:"q" help:"Only display full IDs."`
	Format string `help:"Output format: table, json (one object: trusted, pending and denied, every list), or a Go template given that object, such as '{{range .Trusted}}{{.ID}} {{end}}'." default:"table"`
}

// Run lists trusted nodes, then pending requests (and, with --all, denied nodes).
func (c *TrustLsCmd) Run(g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	l, err := engine.TrustList(g.ctx, cfg)
	if err != nil {
		return err
	}
	return printList(os.Stdout, c.Format, l, func(out io.Writer) error { return c.table(out, l) })
}

// table writes the trusted nodes and pending requests (and, with --all,
// the denied nodes): the table, their full IDs (-q), or a hint when there
// are none.
func (c *TrustLsCmd) table(out io.Writer, l models.TrustList) error {
	if !c.All {
		l.Denied = nil
	}
	if c.Quiet {
		for _, r := range trustRows(l) {
			fmt.Fprintln(out, models.Printable(r.id))
		}
		return nil
	}
	if len(l.Trusted)+len(l.Pending)+len(l.Denied) == 0 {
		fmt.Fprintln(out, "No trusted nodes and no pending requests. Give this node's ID (budgie id) to the nodes that should trust it.")
		return nil
	}
	return printTrust(out, l)
}

// trustRow is one line of budgie trust ls.
type trustRow struct {
	id, name, state, address string
	since                    string
}

func trustRows(l models.TrustList) []trustRow {
	var rows []trustRow
	for _, p := range l.Trusted {
		rows = append(rows, trustRow{id: p.ID, name: p.Name, state: "trusted", since: ago(p.Added)})
	}
	for _, p := range l.Pending {
		state := "pending"
		if p.Count > 1 {
			state = fmt.Sprintf("pending (%d attempts, last %s)", p.Count, ago(p.LastSeen))
		}
		rows = append(rows, trustRow{id: p.ID, name: p.Name, state: state, address: p.Address, since: ago(p.FirstSeen)})
	}
	for _, d := range l.Denied {
		rows = append(rows, trustRow{id: d.ID, name: d.Name, state: "denied", since: ago(d.Denied)})
	}
	return rows
}

// printTrust writes the trust table. Names and addresses are what the
// requesting nodes claimed; the trust store already drops unprintable
// runes when it records them (identity.cleanText), and they are shown
// Printable anyway, as the file may have been edited by hand.
func printTrust(out io.Writer, l models.TrustList) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSTATE\tSINCE\tADDRESS\tFULL ID")
	pr := models.Printable
	for _, r := range trustRows(l) {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", pr(models.ShortNodeID(r.id)), pr(r.name), r.state, r.since, pr(r.address), pr(r.id))
	}
	return w.Flush()
}

// TrustAddCmd trusts a node.
type TrustAddCmd struct {
	ID   string `arg:"" name:"id" help:"The node's full ID, as budgie id prints it on that node (compare it there)."`
	Name string `help:"What to call the node here (default: the name it gave when it asked)."`
}

// Run trusts the node and prints its ID.
func (c *TrustAddCmd) Run(g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	id, err := engine.TrustNode(g.ctx, cfg, c.ID, c.Name)
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

// TrustRmCmd forgets nodes.
type TrustRmCmd struct {
	IDs []string `arg:"" name:"id" help:"Full IDs, or unique prefixes of IDs in the trust store."`
}

// Run forgets each node, printing its full ID.
func (c *TrustRmCmd) Run(g *Globals) error {
	return g.eachTrusted(c.IDs, engine.UntrustNode)
}

// TrustDenyCmd denies nodes.
type TrustDenyCmd struct {
	IDs []string `arg:"" name:"id" help:"Full IDs, or unique prefixes of IDs in the trust store."`
}

// Run denies each node, printing its full ID.
func (c *TrustDenyCmd) Run(g *Globals) error {
	return g.eachTrusted(c.IDs, engine.DenyNode)
}

// eachTrusted applies f (engine.UntrustNode, engine.DenyNode) to each
// typed ID or unique prefix, printing the full ID of each success and
// going on after failures.
func (g *Globals) eachTrusted(typed []string, f func(context.Context, *config.Config, string) (identity.ID, error)) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	return eachContainer(typed, func(s string) error {
		id, err := f(g.ctx, cfg, s)
		if err != nil {
			return err
		}
		fmt.Println(id)
		return nil
	})
}

// nodeIdentity loads (on first use, makes) this node's identity in the
// configured data directory (engine.NodeIdentity).
func (g *Globals) nodeIdentity() (*identity.Identity, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	return engine.NodeIdentity(cfg)
}

// trustStore opens the trust store in the configured data directory.
func (g *Globals) trustStore() (*identity.TrustStore, error) {
	cfg, err := g.LoadConfig()
	if err != nil {
		return nil, err
	}
	return identity.OpenTrustStore(cfg.DataDir, identity.TrustStoreOptions{})
}
