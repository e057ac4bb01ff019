package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/images"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

// The cleanup actions: create a volume, prune what nothing uses (volumes,
// images, or everything at once) and measure the node's disk use. Each
// prune goes on past what it cannot remove and returns what it did remove
// beside the joined failures, so that nothing is left half-reported.

// PruneReport is what a prune removed.
type PruneReport struct {
	// Containers are the names of the stopped containers removed.
	Containers []string `json:"containers"`
	// Networks are the names of the networks removed.
	Networks []string `json:"networks"`
	// Volumes are the names of the named volumes removed.
	Volumes []string `json:"volumes"`
	// Images are the full names of the images removed (docker's "untagged").
	Images []string `json:"images"`
	// ImageIDs are the IDs of the images whose every name was removed, so
	// whose content went too (docker's "deleted").
	ImageIDs []string `json:"image_ids"`
	// Reclaimed is the space freed, in bytes: the containers' writable
	// layers, the volumes' files and the sizes of the images deleted (as
	// `budgie images` lists them; a layer two images shared counts twice).
	Reclaimed int64 `json:"reclaimed"`
}

// ImagePruneOptions tune PruneImages.
type ImagePruneOptions struct {
	// All removes every image no container uses; false removes only the
	// dangling ones (untagged: listed with the tag <none>).
	All bool
}

// SystemPruneOptions tune PruneSystem.
type SystemPruneOptions struct {
	// All prunes every unused image, not only dangling ones.
	All bool
	// Volumes also removes the named volumes no container mounts.
	Volumes bool
}

// CreateVolume makes an empty named volume under data_dir/volumes. The
// name follows the bundle rule for volume names (bundle.CheckName; else
// ErrInvalid); a volume that exists already is ErrConflict.
func (e *Engine) CreateVolume(ctx context.Context, name string) (models.Volume, error) {
	if err := bundle.CheckName(name); err != nil {
		return models.Volume{}, fmt.Errorf("volume name: %w", err)
	}
	dir := e.Runtime.VolumeDir(name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return models.Volume{}, fmt.Errorf("volume %s already exists (see: budgie volume inspect %s): %w", name, name, errdefs.ErrConflict)
		}
		return models.Volume{}, fmt.Errorf("create volume %s: %w", name, err)
	}
	return e.Runtime.Volume(ctx, name)
}

// PruneVolumes removes the named volumes that no container, running or
// stopped, mounts (docker volume prune).
func (e *Engine) PruneVolumes(ctx context.Context) (rep PruneReport, err error) {
	err = e.pruneVolumes(ctx, &rep)
	return
}

// PruneImages removes the dangling images (opts.All: every image) that no
// container was created from (docker image prune). An image is used under
// all its names: the other names of a container's image are kept too.
func (e *Engine) PruneImages(ctx context.Context, opts ImagePruneOptions) (rep PruneReport, err error) {
	err = e.pruneImages(ctx, opts.All, &rep)
	return
}

// PruneSystem removes, in this order, the stopped containers, the networks
// no container names (never the default one), with opts.Volumes the
// unused volumes, and the unused dangling images (opts.All: every unused
// image) — docker system prune. A step that cannot list what it would
// prune ends the prune; single removals that fail do not.
func (e *Engine) PruneSystem(ctx context.Context, opts SystemPruneOptions) (PruneReport, error) {
	var rep PruneReport
	steps := []func() error{
		func() error { return e.pruneContainers(ctx, &rep) },
		func() error { return e.pruneNetworks(ctx, &rep) },
	}
	if opts.Volumes {
		steps = append(steps, func() error { return e.pruneVolumes(ctx, &rep) })
	}
	steps = append(steps, func() error { return e.pruneImages(ctx, opts.All, &rep) })
	var errs []error
	for _, step := range steps {
		err := step()
		errs = append(errs, err) // errors.Join skips the nils
		if _, listing := err.(listingError); listing {
			break
		}
	}
	return rep, errors.Join(errs...)
}

// listingError is a failure to list what a prune step would remove, which
// ends PruneSystem (later steps would meet the same broken containerd).
// Its message and chain are err's.
type listingError struct{ err error }

func (l listingError) Error() string { return l.err.Error() }
func (l listingError) Unwrap() error { return l.err }

// stopped reports whether a container is neither running, paused nor
// about to be restarted by the keeper: what a prune may remove.
func stopped(c models.Container) bool {
	switch c.State {
	case models.StateRunning, models.StatePaused, models.StateRestarting:
		return false
	}
	return true
}

// pruneContainers removes the stopped containers.
func (e *Engine) pruneContainers(ctx context.Context, rep *PruneReport) error {
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return listingError{err}
	}
	usage, err := e.containerUsage(ctx, true)
	if err != nil {
		return listingError{err}
	}
	var errs []error
	for _, c := range cs {
		if !stopped(c) {
			continue
		}
		if _, err := e.Runtime.Remove(ctx, c.ID, runtime.RemoveOptions{}); err != nil {
			if !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		rep.Containers = append(rep.Containers, c.Name)
		rep.Reclaimed += usage.rwSize[c.ID]
	}
	return errors.Join(errs...)
}

// pruneNetworks removes the networks that no container (in any state)
// names, except the default network.
func (e *Engine) pruneNetworks(ctx context.Context, rep *PruneReport) error {
	nets, err := e.NetworkManager.List(ctx)
	if err != nil {
		return listingError{err}
	}
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return listingError{err}
	}
	used := usedNetworks(cs)
	var errs []error
	for _, n := range nets {
		if n.Name == models.DefaultNetwork || used[n.Name] {
			continue
		}
		if err := e.RemoveNetwork(ctx, n.Name); err != nil {
			if !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		rep.Networks = append(rep.Networks, n.Name)
	}
	return errors.Join(errs...)
}

// usedNetworks are the networks the containers' specs join (the default
// one for a spec that names none; none for host-network containers).
func usedNetworks(cs []models.Container) map[string]bool {
	used := map[string]bool{}
	for _, c := range cs {
		if runtime.UsesHostNetwork(c.Spec) {
			continue
		}
		if len(c.Spec.Networks) == 0 {
			used[models.DefaultNetwork] = true
		}
		for _, n := range c.Spec.Networks {
			used[n] = true
		}
	}
	return used
}

// pruneVolumes removes the named volumes no container mounts.
func (e *Engine) pruneVolumes(ctx context.Context, rep *PruneReport) error {
	vs, err := e.Runtime.Volumes(ctx)
	if err != nil {
		return listingError{err}
	}
	usage, err := e.containerUsage(ctx, false)
	if err != nil {
		return listingError{err}
	}
	var errs []error
	for _, v := range vs {
		if len(v.UsedBy) > 0 || usage.volumes[v.Name] {
			continue
		}
		size, _ := dirSize(v.Mountpoint) // a size it cannot read is no reason to keep the volume
		if err := e.Runtime.RemoveVolume(ctx, v.Name, false); err != nil {
			if !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, err)
			}
			continue
		}
		rep.Volumes = append(rep.Volumes, v.Name)
		rep.Reclaimed += size
	}
	return errors.Join(errs...)
}

// pruneImages removes the unused dangling images (all: every unused one).
func (e *Engine) pruneImages(ctx context.Context, all bool, rep *PruneReport) error {
	imgs, err := e.ImageService.List(ctx, images.ListOptions{})
	if err != nil {
		return listingError{err}
	}
	usage, err := e.containerUsage(ctx, false)
	if err != nil {
		return listingError{err}
	}
	var names []string
	for _, img := range imagesToPrune(imgs, usedImageKeys(imgs, usage.images), all) {
		names = append(names, img.Name)
	}
	if len(names) == 0 {
		return nil
	}
	// Not forced: an image a container took meanwhile is refused, not removed.
	removed, err := e.ImageService.Remove(ctx, names, images.RemoveOptions{})
	rep.Images = append(rep.Images, removed...)
	ids, size := deletedImages(imgs, removed)
	rep.ImageIDs = append(rep.ImageIDs, ids...)
	rep.Reclaimed += size
	return err
}

// imageKey identifies an image across its names: its ID, or its name when
// the store has no content for it (no ID).
func imageKey(img models.Image) string {
	if img.ID == "" {
		return "name:" + img.Name
	}
	return img.ID
}

// usedImageKeys are the keys of the images whose names containers were
// created from.
func usedImageKeys(imgs []models.Image, usedNames map[string]bool) map[string]bool {
	used := map[string]bool{}
	for _, img := range imgs {
		if usedNames[img.Name] {
			used[imageKey(img)] = true
		}
	}
	return used
}

// imagesToPrune are the images a prune removes: those whose key is not
// used, and only the untagged ones unless all.
func imagesToPrune(imgs []models.Image, used map[string]bool, all bool) []models.Image {
	var out []models.Image
	for _, img := range imgs {
		if used[imageKey(img)] || (!all && img.Tag != images.NoneTag) {
			continue
		}
		out = append(out, img)
	}
	return out
}

// deletedImages are the IDs of the images in imgs every name of which is
// in removed, and the sum of their sizes (each image once).
func deletedImages(imgs []models.Image, removed []string) ([]string, int64) {
	gone := map[string]bool{}
	for _, name := range removed {
		gone[name] = true
	}
	left := map[string]bool{}
	for _, img := range imgs {
		if !gone[img.Name] {
			left[imageKey(img)] = true
		}
	}
	var ids []string
	var size int64
	counted := map[string]bool{}
	for _, img := range imgs {
		k := imageKey(img)
		if !gone[img.Name] || left[k] || counted[k] {
			continue
		}
		counted[k] = true
		size += img.Size
		if img.ID != "" {
			ids = append(ids, img.ID)
		}
	}
	return ids, size
}

// DiskUsage is the node's disk use by kind, as `budgie system df` shows it.
type DiskUsage struct {
	// Images are the images in the store.
	Images DiskUsageRow `json:"images"`
	// Containers are Budgie's containers.
	Containers DiskUsageRow `json:"containers"`
	// Volumes are the named volumes.
	Volumes DiskUsageRow `json:"volumes"`
}

// DiskUsageRow is the disk use of one kind of thing.
type DiskUsageRow struct {
	// Total counts them: images by ID (the names of one image count once),
	// every container, every named volume.
	Total int `json:"total"`
	// Active counts those in use: images a container was created from,
	// running (or paused, restarting) containers, volumes a container mounts.
	Active int `json:"active"`
	// Size is their size in bytes: each image's content (as `budgie images`
	// lists it, once per ID), the containers' writable layers, the volumes'
	// files.
	Size int64 `json:"size"`
	// Reclaimable is the part of Size that the prunes would free: unused
	// images (image prune -a), stopped containers, unused volumes.
	Reclaimable int64 `json:"reclaimable"`
}

// DiskUsage measures images, containers and volumes (docker system df).
func (e *Engine) DiskUsage(ctx context.Context) (DiskUsage, error) {
	var du DiskUsage
	usage, err := e.containerUsage(ctx, true)
	if err != nil {
		return du, err
	}
	imgs, err := e.ImageService.List(ctx, images.ListOptions{})
	if err != nil {
		return du, err
	}
	du.Images = imageUsage(imgs, usedImageKeys(imgs, usage.images))
	cs, err := e.Runtime.List(ctx, runtime.ListOptions{All: true})
	if err != nil {
		return du, err
	}
	du.Containers.Total = len(cs)
	for _, c := range cs {
		size := usage.rwSize[c.ID]
		du.Containers.Size += size
		if stopped(c) {
			du.Containers.Reclaimable += size
		} else {
			du.Containers.Active++
		}
	}
	vs, err := e.Runtime.Volumes(ctx)
	if err != nil {
		return du, err
	}
	du.Volumes.Total = len(vs)
	for _, v := range vs {
		size, err := dirSize(v.Mountpoint)
		if err != nil {
			return du, fmt.Errorf("measure volume %s: %w", v.Name, err)
		}
		du.Volumes.Size += size
		if len(v.UsedBy) > 0 || usage.volumes[v.Name] {
			du.Volumes.Active++
		} else {
			du.Volumes.Reclaimable += size
		}
	}
	return du, nil
}

// imageUsage counts imgs once per key.
func imageUsage(imgs []models.Image, used map[string]bool) DiskUsageRow {
	var row DiskUsageRow
	seen := map[string]bool{}
	for _, img := range imgs {
		k := imageKey(img)
		if seen[k] {
			continue
		}
		seen[k] = true
		row.Total++
		row.Size += img.Size
		if used[k] {
			row.Active++
		} else {
			row.Reclaimable += img.Size
		}
	}
	return row
}

// containerUsage is what the containers of the namespace — Budgie's or
// not, in any state — hold on to, read from their containerd records.
type containerUsage struct {
	// images are the names of the images containers were created from.
	images map[string]bool
	// volumes are the named volumes their OCI specs mount (which a
	// container with damaged Budgie labels still shows).
	volumes map[string]bool
	// rwSize is each container's writable layer in bytes, by ID (only
	// when asked for).
	rwSize map[string]int64
}

// containerUsage reads every container record of the namespace; sizes
// also measures their writable layers.
func (e *Engine) containerUsage(ctx context.Context, sizes bool) (containerUsage, error) {
	u := containerUsage{images: map[string]bool{}, volumes: map[string]bool{}, rwSize: map[string]int64{}}
	recs, err := e.Client().ContainerService().List(ctx)
	if err != nil {
		return u, fmt.Errorf("list containers: %w", errdefs.FromContainerd(err))
	}
	volumesDir := filepath.Dir(e.Runtime.VolumeDir("x"))
	for _, rec := range recs {
		if rec.Image != "" {
			u.images[rec.Image] = true
		}
		if rec.Spec != nil {
			var s specs.Spec
			if json.Unmarshal(rec.Spec.GetValue(), &s) == nil {
				for _, m := range s.Mounts {
					if name := volumeOf(volumesDir, m.Source); name != "" {
						u.volumes[name] = true
					}
				}
			}
		}
		if sizes && rec.SnapshotKey != "" {
			usage, err := e.Client().SnapshotService(rec.Snapshotter).Usage(ctx, rec.SnapshotKey)
			if err == nil {
				u.rwSize[rec.ID] = usage.Size
			}
		}
	}
	return u, nil
}

// volumeOf is the name of the volume under volumesDir that path lies in,
// or "".
func volumeOf(volumesDir, path string) string {
	rel, err := filepath.Rel(volumesDir, filepath.Clean(path))
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		return ""
	}
	name, _, _ := strings.Cut(rel, string(filepath.Separator))
	return name
}

// dirSize sums the sizes of the files under dir as docker does: every
// entry but directories, a hard-linked file once, symbolic links not
// followed. Files that vanish during the walk are skipped.
func dirSize(dir string) (int64, error) {
	var total int64
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		var fi fs.FileInfo
		if err == nil && !d.IsDir() {
			fi, err = d.Info()
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil
		case err != nil:
			return err
		case d.IsDir():
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			k := inode{uint64(st.Dev), st.Ino}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		total += fi.Size()
		return nil
	})
	return total, err
}
