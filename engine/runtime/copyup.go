package runtime

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/containerd/containerd/mount"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// copyUp fills each named volume this run created with what the image has
// at the volume's mount point, as Docker does, so that a volume over
// /var/www starts with the image's pages instead of hiding them.
func (r *Runtime) copyUp(ctx context.Context, snapshotKey string, spec models.ContainerSpec, created map[string]bool) error {
	var todo []models.VolumeMount
	for _, v := range spec.Volumes {
		if v.Kind == models.VolumeNamed && created[v.Source] {
			todo = append(todo, v)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	mounts, err := r.client.SnapshotService(r.opts.Snapshotter).Mounts(ctx, snapshotKey)
	if err != nil {
		return fmt.Errorf("mount image for volume copy: %w", errdefs.FromContainerd(err))
	}
	return mount.WithReadonlyTempMount(ctx, mounts, func(root string) error {
		for _, v := range todo {
			src, err := securePath(root, v.Target)
			if err != nil {
				return err
			}
			fi, err := os.Stat(src)
			if err != nil || !fi.IsDir() {
				continue // nothing in the image there
			}
			if err := copyTree(src, r.VolumeDir(v.Source)); err != nil {
				return fmt.Errorf("copy image content at %s into volume %s: %w", v.Target, v.Source, err)
			}
		}
		return nil
	})
}

// securePath joins root and an absolute container path, resolving symlinks
// inside root so that the image cannot point the copy outside it.
func securePath(root, target string) (string, error) {
	cur := root
	for _, part := range strings.Split(filepath.Clean("/"+target), "/") {
		if part == "" {
			continue
		}
		next := filepath.Join(cur, part)
		for hops := 0; ; hops++ {
			fi, err := os.Lstat(next)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				break
			}
			if hops > 40 {
				return "", fmt.Errorf("too many symlinks at %s", target)
			}
			link, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if filepath.IsAbs(link) {
				next = filepath.Join(root, filepath.Clean("/"+link))
			} else {
				rel, _ := filepath.Rel(root, filepath.Join(filepath.Dir(next), link))
				next = filepath.Join(root, filepath.Clean("/"+rel))
			}
		}
		cur = next
	}
	return cur, nil
}

// copyTree copies the contents of src into dst, keeping modes, owners and
// symlinks (never following them).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			if err := os.MkdirAll(target, fi.Mode().Perm()); err != nil {
				return err
			}
			_ = os.Chmod(target, fi.Mode().Perm())
		case fi.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			if err := copyFile(path, target, fi.Mode().Perm()); err != nil {
				return err
			}
		default:
			return nil // devices, sockets, fifos: not copied
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			_ = os.Lchown(target, int(st.Uid), int(st.Gid))
		}
		return nil
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
