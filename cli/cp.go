package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/budgie-sh/budgie/engine"
)

// CpCmd copies files between a container and the host.
type CpCmd struct {
	Archive bool   `short:"a" help:"Keep the files' UIDs and GIDs (archive mode)."`
	Src     string `arg:"" name:"src" help:"CONTAINER:PATH, a host path, or - for a tar stream on stdin."`
	Dst     string `arg:"" name:"dst" help:"CONTAINER:PATH, a host path, or - for a tar stream on stdout."`
}

// Help is the long help of budgie cp.
func (*CpCmd) Help() string {
	return `One side is CONTAINER:PATH, the other a host path, as docker cp: a file or a
directory (SRC/. copies a directory's contents); a directory destination
receives the source under its own name, a missing one is created. - as the
host side is a tar stream: on stdout (cp C:PATH -) or on stdin, unpacked into
an existing directory (cp - C:DIR).

The copy goes through the running container's root (/proc/PID/root): its
volumes are seen as it sees them, and paths are resolved inside it, so a
symbolic link in the container (even /evil -> /etc) never leads the copy onto
the host. A stopped container is refused: start it first (budgie start).

Example:
  budgie --headless cp web:/etc/nginx/nginx.conf .
  budgie --headless cp ./site/. web:/usr/share/nginx/html
  budgie --headless cp web:/var/log - | tar -t`
}

// Run copies in the direction the arguments say.
func (c *CpCmd) Run(g *Globals, eng *engine.Engine) error {
	srcCtr, srcPath, srcIn := splitCpArg(c.Src)
	dstCtr, dstPath, dstIn := splitCpArg(c.Dst)
	switch {
	case srcIn && dstIn:
		return fmt.Errorf("copying between two containers is not supported (copy through the host): %w", errInvalid)
	case !srcIn && !dstIn:
		return fmt.Errorf("one side must be CONTAINER:PATH (for host to host, use cp): %w", errInvalid)
	case srcIn:
		opts := engine.CopyFromOptions{HostPath: c.Dst, PreserveOwner: c.Archive}
		if c.Dst == "-" {
			opts.HostPath, opts.Archive = "", os.Stdout
		}
		return eng.CopyFrom(g.ctx, srcCtr, srcPath, opts)
	}
	opts := engine.CopyToOptions{HostPath: c.Src, PreserveOwner: c.Archive}
	if c.Src == "-" {
		opts.HostPath, opts.Archive = "", os.Stdin
	}
	return eng.CopyTo(g.ctx, dstCtr, dstPath, opts)
}

// splitCpArg tells CONTAINER:PATH from a host path, as docker does: a
// path starting with / or . is the host's even with a colon in it.
func splitCpArg(arg string) (ctr, p string, inContainer bool) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg, false
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || ctr == "" {
		return "", arg, false
	}
	if p == "" {
		p = "/"
	}
	return ctr, p, true
}
