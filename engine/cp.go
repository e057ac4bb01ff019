package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// CopyFromOptions tune CopyFrom. Exactly one of HostPath and Archive is set.
type CopyFromOptions struct {
	// HostPath is where the copy lands on the host, as docker cp does: into
	// it when it is a directory, else as it.
	HostPath string
	// Archive receives a tar stream of the path instead (docker cp C:P -).
	Archive io.Writer
	// PreserveOwner keeps the container's UIDs and GIDs on the host files
	// (docker cp -a); false leaves them to the user running the copy.
	PreserveOwner bool
}

// CopyToOptions tune CopyTo. Exactly one of HostPath and Archive is set.
type CopyToOptions struct {
	// HostPath is the host file or directory to copy (a symbolic link is
	// copied as a link).
	HostPath string
	// Archive is a tar stream to unpack into the container's directory
	// instead (docker cp - C:DIR).
	Archive io.Reader
	// PreserveOwner keeps the UIDs and GIDs of the source (docker cp -a);
	// false makes root own what is written.
	PreserveOwner bool
}

// maxLinks bounds the symbolic links followed resolving one path (Linux's
// MAXSYMLINKS).
const maxLinks = 40

// CopyFrom copies a file or directory out of a running (or paused)
// container, as a tar stream or to a host path. The container's files are
// read through its task's root (/proc/PID/root) with every path resolved
// inside it: a symbolic link in the container can never lead the copy out
// of its root. A stopped container is refused (start it first).
func (e *Engine) CopyFrom(ctx context.Context, ref, src string, opts CopyFromOptions) error {
	root, c, err := e.containerRoot(ctx, ref)
	if err != nil {
		return err
	}
	defer root.Close()
	follow := strings.HasSuffix(src, "/") || strings.HasSuffix(src, "/.")
	rel, err := resolveIn(root, src, follow)
	if err != nil {
		return fmt.Errorf("copy from %s:%s: %w", c.Name, src, err)
	}
	info, err := root.Lstat(rel)
	if err != nil {
		return fmt.Errorf("copy from %s:%s: %w", c.Name, src, notFound(err))
	}
	contentsOnly := info.IsDir() && (strings.HasSuffix(src, "/.") || rel == ".")
	name := path.Base(path.Clean("/" + src))
	if opts.Archive != nil {
		prefix := name
		if contentsOnly {
			prefix = ""
		}
		return writeTar(root, rel, prefix, opts.Archive)
	}
	dir, prefix, err := landing(os.Stat, opts.HostPath, info.IsDir(), contentsOnly, name)
	if err != nil {
		return err
	}
	dst, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dir, err)
	}
	defer dst.Close()
	return pipe(func(w io.Writer) error { return writeTar(root, rel, prefix, w) },
		func(r io.Reader) error { return extractTar(dst, r, opts.PreserveOwner) })
}

// CopyTo copies a host file or directory, or a tar stream, into a running
// (or paused) container, resolving the destination inside the container's
// root as CopyFrom does: a symbolic link in the container (even /evil ->
// /etc) lands the copy inside the container, never on the host. Archive
// entries must stay under the destination. A stopped container is refused.
func (e *Engine) CopyTo(ctx context.Context, ref, dst string, opts CopyToOptions) error {
	root, c, err := e.containerRoot(ctx, ref)
	if err != nil {
		return err
	}
	defer root.Close()
	stat := func(p string) (fs.FileInfo, error) {
		rel, err := resolveIn(root, p, true)
		if err != nil {
			return nil, err
		}
		return root.Stat(rel)
	}
	if opts.Archive != nil {
		info, err := stat(dst)
		if err != nil || !info.IsDir() {
			return fmt.Errorf("copy to %s:%s: a tar stream unpacks into an existing directory: %w", c.Name, dst, errdefs.ErrInvalid)
		}
		return extractInto(root, dst, opts.Archive, opts.PreserveOwner)
	}
	src := opts.HostPath
	info, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, notFound(err))
	}
	contentsOnly := info.IsDir() && strings.HasSuffix(src, "/.")
	dir, prefix, err := landing(stat, dst, info.IsDir(), contentsOnly, filepath.Base(filepath.Clean(src)))
	if err != nil {
		return fmt.Errorf("copy to %s:%s: %w", c.Name, dst, err)
	}
	srcRoot, err := os.OpenRoot(filepath.Dir(filepath.Clean(src)))
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer srcRoot.Close()
	base := filepath.Base(filepath.Clean(src))
	return pipe(func(w io.Writer) error { return writeTar(srcRoot, base, prefix, w) },
		func(r io.Reader) error { return extractInto(root, dir, r, opts.PreserveOwner) })
}

// extractInto unpacks r into the container directory dir (resolved inside root).
func extractInto(root *os.Root, dir string, r io.Reader, owner bool) error {
	rel, err := resolveIn(root, dir, true)
	if err != nil {
		return err
	}
	sub, err := root.OpenRoot(rel)
	if err != nil {
		return fmt.Errorf("open %s in the container: %w", dir, notFound(err))
	}
	defer sub.Close()
	return extractTar(sub, r, owner)
}

// containerRoot opens the root directory of a running or paused container
// as its task sees it.
func (e *Engine) containerRoot(ctx context.Context, ref string) (*os.Root, models.Container, error) {
	c, err := e.Runtime.Get(ctx, ref)
	if err != nil {
		return nil, c, err
	}
	if (c.State != models.StateRunning && c.State != models.StatePaused) || c.Pid == 0 {
		return nil, c, fmt.Errorf("container %s is %s: cp works through a running container (start it: budgie start %s): %w",
			c.Name, c.State, c.Name, errdefs.ErrConflict)
	}
	root, err := os.OpenRoot("/proc/" + strconv.Itoa(int(c.Pid)) + "/root")
	if err != nil {
		return nil, c, fmt.Errorf("open the root of %s: %w", c.Name, err)
	}
	return root, c, nil
}

// landing decides where a copy of a source named name lands, as docker cp
// does: inside dst when dst is a directory (under name, or the contents
// only for SRC/.), else as dst itself in its parent directory, which must
// exist. It returns the directory to unpack into and the name the source
// takes there ("" for contents only). stat looks at the destination side.
func landing(stat func(string) (fs.FileInfo, error), dst string, srcDir, contentsOnly bool, name string) (string, string, error) {
	if name == "/" || name == "." {
		contentsOnly = srcDir
	}
	info, err := stat(dst)
	switch {
	case err == nil && info.IsDir():
		if contentsOnly {
			return dst, "", nil
		}
		return dst, name, nil
	case err == nil && srcDir:
		return "", "", fmt.Errorf("cannot copy a directory onto the file %s: %w", dst, errdefs.ErrInvalid)
	case err == nil:
		return path.Dir(path.Clean(dst)), path.Base(path.Clean(dst)), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("%s: %w", dst, err)
	case strings.HasSuffix(dst, "/") && !srcDir:
		return "", "", fmt.Errorf("destination directory %s does not exist: %w", dst, errdefs.ErrNotFound)
	}
	parent := path.Dir(path.Clean(dst))
	if pi, err := stat(parent); err != nil || !pi.IsDir() {
		return "", "", fmt.Errorf("destination directory %s does not exist: %w", parent, errdefs.ErrNotFound)
	}
	return parent, path.Base(path.Clean(dst)), nil
}

// resolveIn resolves p inside root the way the container would (absolute
// links start again at the root, .. stops at the root) and returns a path
// relative to root without symbolic links (the last component is followed
// only when followLast). What does not exist is kept as written. The
// os.Root the result is used with still refuses any escape, should the
// container swap a component for a link meanwhile.
func resolveIn(root *os.Root, p string, followLast bool) (string, error) {
	todo := strings.Split(p, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		comp := todo[0]
		todo = todo[1:]
		switch comp {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cur := path.Join(append(done, comp)...)
		if len(todo) == 0 && !followLast {
			done = append(done, comp)
			break
		}
		info, err := root.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			done = append(append(done, comp), todo...)
			break
		}
		if err != nil {
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			done = append(done, comp)
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links: %w", p, errdefs.ErrInvalid)
		}
		target, err := root.Readlink(cur)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	rel := path.Clean(strings.Join(done, "/"))
	if rel == "" || !filepath.IsLocal(rel) {
		return ".", nil
	}
	return rel, nil
}

// pipe runs produce into consume through an in-memory pipe.
func pipe(produce func(io.Writer) error, consume func(io.Reader) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := produce(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	cerr := consume(pr)
	pr.CloseWithError(errors.New("copy ended"))
	perr := <-done
	if cerr != nil {
		return cerr
	}
	return perr
}

// writeTar writes src (relative to root) to w as a tar stream, its entries
// named under prefix ("" puts a directory's contents at the top). Links are
// written as links, never followed.
func writeTar(root *os.Root, src, prefix string, w io.Writer) error {
	tw := tar.NewWriter(w)
	if info, err := root.Lstat(src); err != nil {
		return fmt.Errorf("read %s: %w", src, notFound(err))
	} else if !info.IsDir() { // a file or a link, never followed
		name := prefix
		if name == "" {
			name = path.Base(src)
		}
		if err := writeEntry(tw, root, src, name); err != nil {
			return err
		}
		return tw.Close()
	}
	fsys := root.FS()
	err := fs.WalkDir(fsys, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
		if src == "." {
			rel = p
			if p == "." {
				rel = ""
			}
		}
		name := path.Join(prefix, rel)
		if name == "" || name == "." {
			return nil // the top directory itself, contents only
		}
		return writeEntry(tw, root, p, name)
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", src, notFound(err))
	}
	return tw.Close()
}

// writeEntry writes one file, directory or link of root to tw as name.
func writeEntry(tw *tar.Writer, root *os.Root, p, name string) error {
	info, err := root.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		if link, err = root.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return nil // a socket or another type tar cannot hold: skipped
	}
	hdr.Name, hdr.Uname, hdr.Gname = name, "", ""
	if info.IsDir() {
		hdr.Name += "/"
	}
	if !info.Mode().IsRegular() {
		return tw.WriteHeader(hdr)
	}
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, info) || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s changed while being copied", p)
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, f, hdr.Size); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

// extractTar unpacks r into root. Every entry must name a path under it;
// links are created as they are (os.Root refuses to follow one that leaves
// root); devices and fifos are skipped.
func extractTar(root *os.Root, r io.Reader, owner bool) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar stream: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("tar entry %q leaves the destination: %w", hdr.Name, errdefs.ErrInvalid)
		}
		if err := extractEntry(root, tr, hdr, name); err != nil {
			return fmt.Errorf("unpack %s: %w", name, err)
		}
		if owner && hdr.Typeflag != tar.TypeLink {
			if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
				return fmt.Errorf("unpack %s: %w", name, err)
			}
		}
	}
}

// extractEntry creates one entry at name.
func extractEntry(root *os.Root, tr *tar.Reader, hdr *tar.Header, name string) error {
	mode := fs.FileMode(hdr.Mode).Perm()
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := root.MkdirAll(name, mode); err != nil {
			return err
		}
		return root.Chmod(name, mode)
	case tar.TypeReg:
		if err := removeNonDir(root, name); err != nil {
			return err
		}
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, tr)
		if err == nil {
			err = f.Chmod(mode)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = root.Chtimes(name, hdr.ModTime, hdr.ModTime)
		}
		return err
	case tar.TypeSymlink:
		if err := removeNonDir(root, name); err != nil {
			return err
		}
		return root.Symlink(hdr.Linkname, name)
	case tar.TypeLink:
		target := path.Clean(strings.TrimPrefix(hdr.Linkname, "/"))
		if !filepath.IsLocal(target) {
			return fmt.Errorf("hard link to %q leaves the destination: %w", hdr.Linkname, errdefs.ErrInvalid)
		}
		if err := removeNonDir(root, name); err != nil {
			return err
		}
		return root.Link(target, name)
	}
	return nil
}

// removeNonDir removes what is at name unless it is a directory, so that
// a link there is replaced, never written through.
func removeNonDir(root *os.Root, name string) error {
	info, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if info.IsDir() {
		return fmt.Errorf("a directory is in the way")
	}
	return root.Remove(name)
}

// notFound marks a missing file as errdefs.ErrNotFound (exit code 3).
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
	}
	return err
}
