package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/models"
)

// PullCmd pulls an image from a registry.
type PullCmd struct {
	Image    string `arg:"" help:"Image to pull: NAME[:TAG] or NAME@DIGEST (nginx means docker.io/library/nginx:latest)."`
	Quiet    bool   `short:"q" help:"Suppress progress output; print only the image reference."`
	Platform string `help:"Pull this platform (os/arch[/variant], e.g. linux/arm64) instead of the host's."`
}

// Run pulls the image, showing per-layer progress: bars redrawn in place on
// a terminal, one line per change otherwise. The last line is the full
// reference.
func (c *PullCmd) Run(g *Globals, eng *engine.Engine) error {
	svc := eng.ImageService
	opts := images.PullOptions{Platform: c.Platform}
	switch {
	case c.Quiet:
	case term.IsTerminal(int(os.Stdout.Fd())):
		opts.Progress = newBarProgress(os.Stdout).update
	default:
		opts.Progress = newLineProgress(os.Stdout).update
	}
	img, err := svc.Pull(g.ctx, c.Image, opts)
	if err != nil {
		return err
	}
	if !c.Quiet {
		fmt.Printf("Digest: %s\n", img.Digest)
	}
	fmt.Println(img.Name)
	return nil
}

// shortDigest is a digest's first 12 hex characters.
func shortDigest(d string) string {
	return models.ShortID(strings.TrimPrefix(d, "sha256:"))
}

// lineProgress prints "<digest12>: <status>" whenever a layer's status
// changes, for logs and pipes.
type lineProgress struct {
	w    io.Writer
	last map[string]images.ProgressStatus
}

func newLineProgress(w io.Writer) *lineProgress {
	return &lineProgress{w: w, last: map[string]images.ProgressStatus{}}
}

func (l *lineProgress) update(p images.Progress) {
	if l.last[p.Digest] == p.Status {
		return
	}
	l.last[p.Digest] = p.Status
	fmt.Fprintf(l.w, "%s: %s\n", shortDigest(p.Digest), p.Status)
}

// barProgress draws one line per layer and redraws them all in place
// (cursor up, clear line) on every report.
type barProgress struct {
	w      io.Writer
	order  []string
	layers map[string]images.Progress
	drawn  int
}

func newBarProgress(w io.Writer) *barProgress {
	return &barProgress{w: w, layers: map[string]images.Progress{}}
}

func (b *barProgress) update(p images.Progress) {
	if _, ok := b.layers[p.Digest]; !ok {
		b.order = append(b.order, p.Digest)
	}
	b.layers[p.Digest] = p
	var sb strings.Builder
	if b.drawn > 0 {
		fmt.Fprintf(&sb, "\x1b[%dA", b.drawn)
	}
	for _, d := range b.order {
		sb.WriteString("\r\x1b[2K")
		sb.WriteString(barLine(b.layers[d]))
		sb.WriteString("\n")
	}
	b.drawn = len(b.order)
	_, _ = io.WriteString(b.w, sb.String())
}

// barWidth is the number of cells inside a progress bar's brackets.
const barWidth = 30

// barLine is one layer's line, in docker's words.
func barLine(p images.Progress) string {
	id := shortDigest(p.Digest)
	switch p.Status {
	case images.StatusWaiting:
		return id + ": Waiting"
	case images.StatusDone:
		return id + ": Pull complete"
	case images.StatusExists:
		return id + ": Already exists"
	}
	filled := 0
	if p.Total > 0 {
		filled = int(min(p.Offset, p.Total) * barWidth / p.Total)
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	return fmt.Sprintf("%s: Downloading [%s] %s/%s", id, bar, humanSize(p.Offset), humanSize(p.Total))
}

// humanSize is a size in decimal units with three significant digits, as
// docker prints them: "742B", "4.19MB", "1.2GB".
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f, i := float64(n), 0
	for f >= 999.5 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

// ImagesCmd lists images.
type ImagesCmd struct {
	Repo    string `arg:"" optional:"" help:"Only images of this repository: NAME[:TAG], wildcards allowed ('team/*')."`
	Quiet   bool   `short:"q" help:"Only display image IDs."`
	Digests bool   `help:"Show digests."`
	NoTrunc bool   `help:"Don't truncate output."`
	Format  string `help:"Output format: table, json, or a Go template such as '{{.Repository}}:{{.Tag}}'." default:"table"`
}

// Run lists the images.
func (c *ImagesCmd) Run(g *Globals, eng *engine.Engine) error {
	svc := eng.ImageService
	imgs, err := svc.List(g.ctx, images.ListOptions{Repo: c.Repo})
	if err != nil {
		return err
	}
	return c.print(os.Stdout, imgs)
}

// print writes imgs in the command's format (-q: the IDs alone).
func (c *ImagesCmd) print(w io.Writer, imgs []models.Image) error {
	switch {
	case c.Quiet:
		for _, img := range imgs {
			fmt.Fprintln(w, imageID(img.ID, c.NoTrunc))
		}
		return nil
	}
	return printList(w, c.Format, imgs, func(w io.Writer) error { return imagesTable(w, imgs, c.Digests, c.NoTrunc) })
}

// imageID is docker's IMAGE ID: 12 hex characters, or the whole digest.
func imageID(id string, noTrunc bool) string {
	if noTrunc || id == "" {
		return id
	}
	return shortDigest(id)
}

// imagesTable writes docker's `images` table, short repository names first.
func imagesTable(w io.Writer, imgs []models.Image, digests, noTrunc bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := "REPOSITORY\tTAG\t"
	if digests {
		header += "DIGEST\t"
	}
	fmt.Fprintln(tw, header+"IMAGE ID\tCREATED\tSIZE")
	for _, img := range imgs {
		row := images.FamiliarRepository(img.Repository) + "\t" + img.Tag + "\t"
		if digests {
			row += img.Digest + "\t"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\n", row, imageID(img.ID, noTrunc), ago(img.Created), humanSize(img.Size))
	}
	return tw.Flush()
}

// RmiCmd removes images.
type RmiCmd struct {
	Images []string `arg:"" name:"image" predictor:"image" help:"Images to remove, by name or ID."`
	Force  bool     `short:"f" help:"Remove images that containers use, and every name of an image given by ID."`
}

// Run removes the images, printing "Untagged: NAME" for each name removed;
// it goes on past images it cannot remove and fails at the end.
func (c *RmiCmd) Run(g *Globals, eng *engine.Engine) error {
	svc := eng.ImageService
	removed, err := svc.Remove(g.ctx, c.Images, images.RemoveOptions{Force: c.Force})
	for _, name := range removed {
		fmt.Printf("Untagged: %s\n", images.Familiar(name))
	}
	return err
}

// LoadCmd loads images from an archive.
type LoadCmd struct {
	Input    string `short:"i" help:"Read from this tar archive (optionally gzipped) instead of standard input." type:"existingfile" placeholder:"FILE"`
	Quiet    bool   `short:"q" help:"Print only the full names of the loaded images."`
	Platform string `help:"Load this platform (os/arch[/variant]) from multi-platform archives."`
}

// Run loads an OCI image layout or a docker save archive and prints
// "Loaded image: NAME" for each image.
func (c *LoadCmd) Run(g *Globals) error {
	var in io.Reader = os.Stdin
	if c.Input != "" {
		f, err := os.Open(c.Input)
		if err != nil {
			return fmt.Errorf("open archive: %w", err)
		}
		defer f.Close()
		in = f
	} else if term.IsTerminal(int(os.Stdin.Fd())) {
		return fmt.Errorf("load reads an archive from standard input, which is a terminal (give one: budgie load -i FILE, or pipe it in): %w", errInvalid)
	}
	eng, err := g.Engine() // after the input is known to be readable
	if err != nil {
		return err
	}
	imgs, err := eng.ImageService.Load(g.ctx, in, images.LoadOptions{Platform: c.Platform})
	if err != nil {
		return err
	}
	printLoaded(os.Stdout, imgs, c.Quiet)
	return nil
}

// printLoaded reports loaded images as docker does ("Loaded image ID:" for
// unnamed ones), or their full names alone when quiet.
func printLoaded(w io.Writer, imgs []models.Image, quiet bool) {
	for _, img := range imgs {
		switch {
		case quiet:
			fmt.Fprintln(w, img.Name)
		case img.Repository == images.NoneTag:
			fmt.Fprintf(w, "Loaded image ID: %s\n", img.ID)
		default:
			fmt.Fprintf(w, "Loaded image: %s\n", images.Familiar(img.Name))
		}
	}
}
