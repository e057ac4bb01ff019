package replica

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/containerd/containerd/images/archive"
	"github.com/containerd/containerd/platforms"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/engine/volsync"
)

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// imageShared checks that some replicable container runs the image with
// manifest digest dgst; it returns that image's reference.
func (s *Server) imageShared(dgst string) error {
	_, err := s.sharedImageRef(dgst)
	return err
}

func (s *Server) sharedImageRef(dgst string) (string, error) {
	if !digestRE.MatchString(dgst) {
		return "", fmt.Errorf("bad image digest %q: %w", dgst, errdefs.ErrNotFound)
	}
	shared, err := labelled(s.ctx, s.opts.Runtime, LabelReplicable)
	if err != nil {
		return "", err
	}
	for id, labels := range shared {
		if labels[LabelReplicable] != "true" {
			continue
		}
		c, err := s.opts.Runtime.Get(s.ctx, id)
		if err != nil {
			continue
		}
		img, err := s.opts.Runtime.Client().GetImage(s.ctx, c.Spec.Image)
		if err == nil && img.Target().Digest.String() == dgst {
			return c.Spec.Image, nil
		}
	}
	return "", fmt.Errorf("no shared container runs image %s: %w", dgst, errdefs.ErrNotFound)
}

// exportImage writes the image as an OCI archive into its sync volume,
// once: an archive already there is served as it is.
func (s *Server) exportImage(dgst string) (ImageExport, error) {
	ref, err := s.sharedImageRef(dgst)
	if err != nil {
		return ImageExport{}, err
	}
	s.expMu.Lock()
	defer s.expMu.Unlock()
	dir := s.imageDir(dgst)
	path := filepath.Join(dir, imageFile)
	if info, err := os.Stat(path); err == nil {
		return ImageExport{Volume: ImageVolumePrefix + filepath.Base(dir), File: imageFile, Size: info.Size()}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ImageExport{}, fmt.Errorf("create image export directory: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dir), ".export-*")
	if err != nil {
		return ImageExport{}, fmt.Errorf("export image %s: %w", ref, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	client := s.opts.Runtime.Client()
	err = client.Export(s.ctx, tmp, archive.WithImage(client.ImageService(), ref),
		archive.WithPlatform(platforms.Default()), archive.WithSkipMissing(client.ContentStore()))
	if err == nil {
		err = tmp.Sync()
	}
	if err != nil {
		return ImageExport{}, fmt.Errorf("export image %s: %w", ref, errdefs.FromContainerd(err))
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return ImageExport{}, fmt.Errorf("export image %s: %w", ref, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return ImageExport{}, err
	}
	s.log.Info("exported image for replication", "image", ref, "digest", dgst, "bytes", info.Size())
	return ImageExport{Volume: ImageVolumePrefix + filepath.Base(dir), File: imageFile, Size: info.Size()}, nil
}

// imageDigest returns the manifest digest of the local image ref, or "".
func imageDigest(ctx context.Context, rt *runtime.Runtime, ref string) string {
	img, err := rt.Client().GetImage(ctx, ref)
	if err != nil {
		return ""
	}
	return img.Target().Digest.String()
}

// fetchImage makes the plan's image present locally: nothing when this
// node has it with the same digest, else the primary exports it and it is
// synced (resumably) into cacheDir and loaded.
func fetchImage(ctx context.Context, c *volsync.Client, rt *runtime.Runtime, svc *images.Service, ref, dgst, cacheDir string, progress func(volsync.Progress)) (bool, error) {
	if got := imageDigest(ctx, rt, ref); got == dgst {
		return false, nil
	}
	raw, err := c.Meta(ctx, MetaImage+dgst)
	if err != nil {
		return false, fmt.Errorf("ask the primary for image %s: %w", ref, err)
	}
	var exp ImageExport
	if err := json.Unmarshal(raw, &exp); err != nil {
		return false, fmt.Errorf("primary's answer about image %s: %w", ref, err)
	}
	hex, err := checkImageExport(exp, dgst)
	if err != nil {
		return false, err
	}
	dir := filepath.Join(cacheDir, hex)
	if _, err := c.Sync(ctx, exp.Volume, dir, volsync.SyncOptions{Progress: progress}); err != nil {
		return false, fmt.Errorf("copy image %s from the primary: %w", ref, err)
	}
	f, err := openRegular(filepath.Join(dir, imageFile))
	if err != nil {
		return false, fmt.Errorf("open copied image %s: %w", ref, err)
	}
	defer f.Close()
	if _, err := svc.Load(ctx, f, images.LoadOptions{}); err != nil {
		return false, fmt.Errorf("load image %s copied from the primary: %w", ref, err)
	}
	if got := imageDigest(ctx, rt, ref); got != dgst {
		return true, fmt.Errorf("image %s loaded from the primary has digest %q, want %s: %w", ref, got, dgst, errdefs.ErrInvalid)
	}
	os.RemoveAll(dir)
	return true, nil
}

// checkImageExport accepts only the export of the image asked for: the
// volume "@image/HEX" of digest dgst and the file image.tar. It returns HEX.
func checkImageExport(exp ImageExport, dgst string) (string, error) {
	hex, ok := strings.CutPrefix(dgst, "sha256:")
	if !ok || !digestRE.MatchString(dgst) {
		return "", fmt.Errorf("bad image digest %q: %w", dgst, errdefs.ErrInvalid)
	}
	if exp.Volume != ImageVolumePrefix+hex || exp.File != imageFile {
		return "", fmt.Errorf("the primary offered image volume %q file %q for %s, not %s%s/%s: %w",
			clip(exp.Volume), clip(exp.File), dgst, ImageVolumePrefix, hex, imageFile, errdefs.ErrInvalid)
	}
	return hex, nil
}

// openRegular opens a file that must be a regular file, never following
// a symlink or blocking on a FIFO.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file: %w", path, errdefs.ErrInvalid)
	}
	return f, nil
}
