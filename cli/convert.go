package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/budgie-sh/budgie/engine"
)

// ConvertCmd converts a docker compose file into a bundle.
type ConvertCmd struct {
	File              string `arg:"" name:"compose-file" help:"The compose file (compose.yaml, docker-compose.yml, …)."`
	Output            string `short:"o" help:"Write the bundle to FILE instead of standard output." placeholder:"FILE" type:"path"`
	IgnoreUnsupported bool   `help:"Leave out the fields Budgie cannot honour, each listed on stderr, instead of failing."`
}

// Help is the detail and examples under the command's --help.
func (*ConvertCmd) Help() string {
	return `Reads the compose file as docker compose does (${VAR:-default} from the
environment and the .env file beside it, extends, include, profiles) and
writes the bundle that budgie run compose.yaml runs: one container per
service. budgie run of that bundle makes the same containers. A field
Budgie cannot honour fails the conversion with its file:line and a hint
(exit 2); --ignore-unsupported leaves such fields out and lists each one.
docs/interop.md maps every compose field.

The bundle's first lines say what must exist before it runs elsewhere
(networks, secrets from files); budgie run compose.yaml makes them itself.

Examples:
  budgie --headless convert compose.yaml                   # the bundle, on stdout
  budgie --headless convert -o app.bun docker-compose.yml
  budgie --headless convert --ignore-unsupported -o app.bun compose.yaml
  budgie --headless run app.bun`
}

// Run converts the file and writes the bundle; it needs no containerd.
func (c *ConvertCmd) Run(g *Globals) error {
	res, err := engine.ConvertCompose(g.ctx, c.File, engine.ConvertOptions{IgnoreUnsupported: c.IgnoreUnsupported})
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(os.Stderr, "budgie: warning: "+w.String())
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(os.Stderr, "budgie: service %s left out: none of its profiles is active (COMPOSE_PROFILES)\n", s)
	}
	if c.Output == "" || c.Output == "-" {
		_, err := os.Stdout.Write(res.Bundle)
		return err
	}
	return writeBundleFile(c.File, c.Output, res.Bundle)
}

// writeBundleFile writes data to path through a temporary file renamed
// into place, so that a failed write leaves any older file whole. It
// refuses to overwrite the compose file it came from.
func writeBundleFile(from, path string, data []byte) error {
	if a, b := absOr(from), absOr(path); a == b {
		return fmt.Errorf("-o %s is the compose file itself: write the bundle to another file (app.bun): %w", path, errInvalid)
	}
	return writeFileAtomic(path, data)
}

// writeFileAtomic writes data to path through a temporary file renamed
// into place, so that a failed write leaves an older file whole.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// absOr is path made absolute, or path as it is when that fails.
func absOr(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
