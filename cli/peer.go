package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/replica"
	"github.com/budgie-sh/budgie/models"
)

// ChirpCmd lists the containers announced on the LAN or, given one,
// replicates it to this node.
type ChirpCmd struct {
	Ref     string        `arg:"" optional:"" predictor:"peer" help:"Container to replicate here: NAME@NODE, a container ID or a unique ID prefix. Without it, list the LAN's containers."`
	Sync    bool          `help:"Keep the replica in sync with its primary after it starts (this node's keeper follows the primary's changes)."`
	DryRun  bool          `name:"dry-run" help:"Print what would run here (image, command, volumes and sizes, ports, networks, secrets) and what of the primary's plan is refused, and change nothing."`
	Name    string        `help:"Name of the replica (default: the primary's)."`
	Secrets []string      `name:"secret" sep:"none" placeholder:"NAME" help:"Let the replica read this node's secret NAME, which the primary's container uses (repeatable). Secrets not given are left out."`
	Timeout time.Duration `help:"How long to listen when no keeper runs on this node (a keeper answers at once)." default:"2s"`
	Format  string        `help:"Output format: table, json, or a Go template such as '{{.Name}}@{{.NodeName}}'." default:"table"`
}

// Run lists the LAN's containers, asking the node's keeper for its live
// table of peers or, when no keeper runs, listening on the LAN itself for
// --timeout; with a container reference it replicates that container.
// Errors quote other nodes' names, so they are made printable.
func (c *ChirpCmd) Run(g *Globals) error {
	if c.Ref != "" {
		return models.PrintableError(c.replicate(g))
	}
	return models.PrintableError(c.list(g))
}

// list prints the LAN's containers.
func (c *ChirpCmd) list(g *Globals) error {
	cfg, err := g.LoadConfig()
	if err != nil {
		return err
	}
	res, err := engine.ListPeers(g.ctx, cfg, engine.PeersOptions{Timeout: c.Timeout})
	if err != nil {
		return err
	}
	nodes, how := res.Nodes, res.Source
	var peers []models.Peer
	for _, n := range nodes {
		peers = append(peers, n.Containers...)
	}
	return printList(os.Stdout, c.Format, peers, func(out io.Writer) error {
		if len(peers) == 0 {
			_, err := fmt.Fprintf(out, "No budgie containers found on the LAN (%s).\n", how)
			return err
		}
		return printPeers(out, peers, trustedNodes(g, nodes))
	})
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

// printPeers writes the chirp table. Every field comes from another
// node's announcement: discovery.ParseTXT already refuses C0 controls,
// DEL and invalid UTF-8 and checks IDs, container names, ports and
// lengths, but node names and images may still hold C1 controls (CSI),
// bidirectional overrides and the like, so all are shown Printable.
func printPeers(out io.Writer, peers []models.Peer, trusted map[string]bool) error {
	w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
	fmt.Fprintln(w, "NODE\tNAME\tCONTAINER ID\tIMAGE\tSTATE\tPORTS\tADDRESS\tTRUSTED")
	for _, p := range peers {
		ps := ports(p.Ports)
		if p.MorePorts > 0 {
			ps += fmt.Sprintf(" (+%d)", p.MorePorts)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", models.Printable(p.NodeName), models.Printable(p.Name),
			models.Printable(models.ShortID(p.ContainerID)), models.Printable(p.Image), models.Printable(string(p.State)),
			models.Printable(ps), models.Printable(p.Address), trustMark(p, trusted))
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

// replicate copies c.Ref to this node, printing progress on stderr and
// the replica's ID (or, with --dry-run, what would run) on stdout. What
// the primary's plan asked for and this node left out is printed on
// stderr as warnings.
func (c *ChirpCmd) replicate(g *Globals) error {
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	cfg := eng.Config
	prog := newChirpProgress(os.Stderr)
	res, err := eng.Replicate(g.ctx, engine.ReplicateOptions{
		Ref: c.Ref, Name: c.Name, Sync: c.Sync, DryRun: c.DryRun, Secrets: c.Secrets,
		Peers: func(ctx context.Context) ([]models.PeerNode, error) {
			res, err := engine.ListPeers(ctx, cfg, engine.PeersOptions{Timeout: c.Timeout})
			return res.Nodes, err
		},
		Progress: prog.update,
	})
	prog.finish()
	if err == nil && c.DryRun {
		return printPlan(os.Stdout, res)
	}
	printLeftOut(os.Stderr, res.Admission.Refused)
	if err != nil {
		return err
	}
	var bytes int64
	for _, st := range res.Stats {
		bytes += st.BytesReceived
	}
	verb := "replicated"
	if res.Resynced {
		verb = "synced existing replica of"
	}
	fmt.Fprintf(os.Stderr, "%s %s@%s as %s (%s received)\n", verb, models.Printable(res.Plan.Name),
		models.Printable(res.Primary.Name), models.Printable(res.Admission.Spec.Name), humanSize(bytes))
	if c.Sync {
		if _, err := eng.Keeper.Ping(g.ctx); err != nil {
			fmt.Fprintln(os.Stderr, "warning: no keeper runs on this node; continuous sync starts when one does (budgie --headless serve)")
		}
	}
	fmt.Println(res.Container.ID)
	return nil
}

// printLeftOut warns about each part of the primary's plan the replica
// runs without.
func printLeftOut(out io.Writer, refused []string) {
	for _, r := range refused {
		fmt.Fprintf(out, "warning: left out: %s\n", models.Printable(r))
	}
}

// printPlan writes what a replication would do: the spec admitted to run
// here (res.Admission), never the primary's raw plan, and every part of
// the plan refused. Strings that come from the primary are Printable;
// environment values are never shown, only the variables' names.
func printPlan(out io.Writer, res replica.Result) error {
	p, a, spec := res.Plan, res.Admission, res.Admission.Spec
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	pr := models.Printable
	fmt.Fprintf(w, "container:\t%s (%s) on %s, runs here as %s\n", pr(p.Name), pr(models.ShortID(p.ContainerID)),
		pr(res.Primary.Name), pr(spec.Name))
	img := "copied from the primary"
	if res.HaveImage {
		img = "already here"
	}
	fmt.Fprintf(w, "image:\t%s@%s (%s)\n", pr(spec.Image), pr(p.ImageDigest), img)
	fmt.Fprintf(w, "command:\t%s\n", orNone(argv(append(slices.Clone(spec.Command), spec.Args...))))
	fmt.Fprintf(w, "env:\t%s\n", envNames(spec.Env))
	var total int64
	for _, v := range a.Volumes {
		fmt.Fprintf(w, "volume:\t%s → %s: %d files, %s\n", pr(v.Name), pr(v.Target), v.Files, humanSize(v.Bytes))
		total += v.Bytes
	}
	if len(a.Volumes) == 0 {
		fmt.Fprintln(w, "volumes:\tnone")
	}
	fmt.Fprintf(w, "ports:\t%s\n", orNone(pr(ports(spec.Ports))))
	networks := "default"
	if len(spec.Networks) > 0 {
		networks = pr(strings.Join(spec.Networks, ", "))
	}
	fmt.Fprintf(w, "networks:\t%s\n", networks)
	fmt.Fprintf(w, "secrets:\t%s\n", orNone(pr(strings.Join(spec.Secrets, ", "))))
	fmt.Fprintf(w, "restart:\t%s\n", restartText(spec.RestartPolicy))
	fmt.Fprintf(w, "health:\t%s\n", healthText(spec.Health))
	fmt.Fprintf(w, "to transfer:\tat most %s of volume data\n", humanSize(total))
	if err := w.Flush(); err != nil {
		return err
	}
	if len(a.Refused) == 0 {
		_, err := fmt.Fprintln(out, "refused: nothing")
		return err
	}
	fmt.Fprintln(out, "refused:")
	for _, r := range a.Refused {
		fmt.Fprintf(out, "  - %s\n", pr(r))
	}
	return nil
}

// argv writes a command line, quoting arguments that need it.
func argv(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\") {
			a = strconv.Quote(a)
		}
		out[i] = models.Printable(a)
	}
	return strings.Join(out, " ")
}

// envNames counts the environment's variables and names them; values may
// be secret-ish and are never printed.
func envNames(env []string) string {
	if len(env) == 0 {
		return "none"
	}
	names := make([]string, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		names[i] = k
	}
	return fmt.Sprintf("%d variables: %s", len(env), models.Printable(strings.Join(names, ", ")))
}

// restartText is a restart policy as docker writes it.
func restartText(p models.RestartPolicy) string {
	switch {
	case p.Name == "":
		return models.RestartNo
	case p.Name == models.RestartOnFailure && p.MaxRetries > 0:
		return fmt.Sprintf("%s:%d", p.Name, p.MaxRetries)
	}
	return models.Printable(p.Name)
}

// healthText says how the replica's health is probed.
func healthText(h *models.HealthCheck) string {
	if h == nil {
		return "none"
	}
	var probe []string
	if len(h.Cmd) > 0 {
		probe = append(probe, "cmd "+argv(h.Cmd))
	}
	if h.HTTP != "" {
		probe = append(probe, "http "+models.Printable(h.HTTP))
	}
	if h.TCP != "" {
		probe = append(probe, "tcp "+models.Printable(h.TCP))
	}
	s := strings.Join(probe, ", ")
	if h.Interval > 0 {
		s += " every " + h.Interval.String()
	}
	if h.OnUnhealthy != "" {
		s += ", " + models.Printable(h.OnUnhealthy) + " when unhealthy"
	}
	return s
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
