package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/term"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/images"
)

// The commands that move images in and out of the store besides pull
// and load: save (to an archive), tag (a new name) and push (to a
// registry). login and logout, which push and pull rely on, are in
// login.go.

// SaveCmd writes images to an archive.
type SaveCmd struct {
	Images   []string `arg:"" name:"image" predictor:"image" help:"Images to save, by name or ID."`
	Output   string   `short:"o" type:"path" placeholder:"FILE" help:"Write to this file instead of standard output."`
	Format   string   `enum:"docker,oci" default:"docker" help:"Archive format: docker (an OCI layout plus docker's manifest.json; docker load reads it) or oci (the OCI layout alone)."`
	Platform string   `help:"Save this platform (os/arch[/variant]) of multi-platform images instead of the host's."`
}

// Help is the detail and example under the command's --help.
func (*SaveCmd) Help() string {
	return `Writes a tar archive that budgie load (and docker load) reads back,
with the images under their full names. Without -o the archive goes to
standard output, which must then not be a terminal.

Example:
  budgie --headless save -o app.tar app:1 redis:7
  budgie --headless save app:1 | ssh other-host budgie --headless load`
}

// Run checks where the archive goes, then saves.
func (c *SaveCmd) Run(g *Globals) error {
	if c.Output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("save writes a binary archive and standard output is a terminal (give a file: budgie save -o FILE, or pipe it): %w", errInvalid)
	}
	eng, err := g.Engine()
	if err != nil {
		return err
	}
	opts := images.SaveOptions{Format: c.Format, Platform: c.Platform}
	if c.Output == "" {
		return eng.SaveImages(g.ctx, os.Stdout, c.Images, opts)
	}
	return saveFile(c.Output, func(f *os.File) error { return eng.SaveImages(g.ctx, f, c.Images, opts) })
}

// saveFile writes path through a temporary file in its directory, renamed
// into place only when write succeeded: a failed save leaves no partial
// archive (and an older archive of that name untouched).
func saveFile(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create archive: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write archive: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write archive: %w", err)
	}
	return nil
}

// TagCmd gives an image a new name.
type TagCmd struct {
	Source string `arg:"" predictor:"image" help:"Image to name, by name or ID."`
	Target string `arg:"" help:"New name: NAME[:TAG] (app means docker.io/library/app:latest; REGISTRY/NAME:TAG to push there)."`
}

// Help is the detail and example under the command's --help.
func (*TagCmd) Help() string {
	return `Both names then point at the same image (the same ID and digest);
budgie rmi of one leaves the other. An image that already had the new name
loses it, as with docker tag.

Example:
  budgie --headless tag app:1 registry.lan:5000/team/app:1`
}

// Run tags the image; it prints nothing, as docker tag.
func (c *TagCmd) Run(g *Globals, eng *engine.Engine) error {
	_, err := eng.TagImage(g.ctx, c.Source, c.Target)
	return err
}

// PushCmd sends an image to its registry.
type PushCmd struct {
	Image string `arg:"" predictor:"image" help:"Image to push: REGISTRY/NAME[:TAG] (name it first with budgie tag)."`
	Quiet bool   `short:"q" help:"Suppress progress output; print only the image reference."`
}

// Help is the detail and example under the command's --help.
func (*PushCmd) Help() string {
	return `Pushes to the registry the name points at, with the credentials budgie
login stored for it (anonymously without). Loopback registries and those in
registries.insecure are reached over plain HTTP, the others over HTTPS.
Prints one line per layer change, then the digest and the name.

Example:
  budgie --headless tag app:1 registry.lan:5000/team/app:1
  budgie --headless push registry.lan:5000/team/app:1`
}

// Run pushes the image, printing "<digest12>: <status>" per layer change.
func (c *PushCmd) Run(g *Globals, eng *engine.Engine) error {
	var opts images.PushOptions
	if !c.Quiet {
		opts.Progress = newLineProgress(os.Stdout).update
	}
	img, err := eng.PushImage(g.ctx, c.Image, opts)
	if err != nil {
		return err
	}
	if !c.Quiet {
		fmt.Printf("Digest: %s\n", img.Digest)
	}
	fmt.Println(img.Name)
	return nil
}
