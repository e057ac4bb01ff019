package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/images"
)

// The prune commands (volume prune, image prune, system prune) share
// their confirmation and their report, here; `budgie image` is the noun
// of image prune (images, rmi, pull and load stay top-level commands).

// ImageCmd groups image commands that docker spells `docker image …`.
type ImageCmd struct {
	Prune ImagePruneCmd `cmd:"" help:"Remove unused images (dangling ones; -a: all unused)."`
	Tag   TagCmd        `cmd:"" help:"Give an image a new name (as budgie tag)."`
}

// Help is the detail under the command's --help.
func (*ImageCmd) Help() string {
	return `Listing, pulling, loading and removing images are top-level commands
(budgie images, pull, load, rmi); this noun holds the rest.

Example:
  budgie --headless image prune -a -f`
}

// ImagePruneCmd removes unused images.
type ImagePruneCmd struct {
	All   bool `short:"a" help:"Remove every image no container uses, not only dangling (untagged) ones."`
	Force bool `short:"f" help:"Do not ask for confirmation (needed when standard input is not a terminal)."`
}

// Help is the detail and example under the command's --help.
func (*ImagePruneCmd) Help() string {
	return `As docker image prune: without -a, removes the dangling images (those
listed with the tag <none>); with -a, every image that no container —
running or stopped — was created from. Asks first unless -f.

Example:
  budgie --headless image prune -a -f
  Deleted Images:
  untagged: old-app:1
  deleted: sha256:3f4e…

  Total reclaimed space: 4.21 MiB`
}

// Run asks, prunes and reports.
func (c *ImagePruneCmd) Run(g *Globals) error {
	warning := "WARNING! This will remove all dangling images."
	if c.All {
		warning = "WARNING! This will remove all images without at least one container associated to them."
	}
	if ok, err := confirmPrune(os.Stdin, os.Stderr, c.Force, warning); !ok {
		return err
	}
	eng, err := g.Engine() // after the answer: a refusal starts nothing
	if err != nil {
		return err
	}
	rep, err := eng.PruneImages(g.ctx, engine.ImagePruneOptions{All: c.All})
	return reportPrune(os.Stdout, rep, err)
}

// confirmPrune asks warning + "Are you sure…? [y/N]" on out when in is a
// terminal and reports whether the answer was yes (No by default). Without
// a terminal it refuses unless force, with an error that says to pass -f.
func confirmPrune(in *os.File, out io.Writer, force bool, warning string) (bool, error) {
	if force {
		return true, nil
	}
	if !term.IsTerminal(int(in.Fd())) {
		return false, fmt.Errorf("standard input is not a terminal, so budgie cannot ask before it removes anything (pass -f to prune without asking): %w", errInvalid)
	}
	return askYes(in, out, warning), nil
}

// askYes writes warning and the question, and reads one line of answer:
// y or yes (any case) is yes, anything else — an empty line, end of
// input — is no.
func askYes(in io.Reader, out io.Writer, warning string) bool {
	fmt.Fprintf(out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// reportPrune prints what a prune removed, docker's way — one section per
// kind, then the total reclaimed — and hands back its error, which
// names what could not be removed.
func reportPrune(w io.Writer, rep engine.PruneReport, err error) error {
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w)
	}
	section("Deleted Containers:", rep.Containers)
	section("Deleted Networks:", rep.Networks)
	section("Deleted Volumes:", rep.Volumes)
	var imgs []string
	for _, name := range rep.Images {
		imgs = append(imgs, "untagged: "+images.Familiar(name))
	}
	for _, id := range rep.ImageIDs {
		imgs = append(imgs, "deleted: "+id)
	}
	section("Deleted Images:", imgs)
	fmt.Fprintf(w, "Total reclaimed space: %s\n", sizeIEC(rep.Reclaimed))
	if err != nil {
		return fmt.Errorf("prune: some could not be removed (those listed above were): %w", err)
	}
	return nil
}

// sizeIEC is a size in binary units with three significant digits:
// "0 B", "512 B", "12.3 MiB", "1.25 GiB".
func sizeIEC(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, unit := float64(n), ""
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f, unit = f/1024, u
		if f < 1023.5 {
			break
		}
	}
	if f >= 100 {
		return fmt.Sprintf("%.0f %s", f, unit)
	}
	return fmt.Sprintf("%.3g %s", f, unit)
}
