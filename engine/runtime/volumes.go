package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Volumes lists the named volumes under data_dir/volumes with the
// containers that mount them (read from the containers' specs).
func (r *Runtime) Volumes(ctx context.Context) ([]models.Volume, error) {
	users, err := r.volumeUsers(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(r.opts.DataDir, "volumes"))
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	out := []models.Volume{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		out = append(out, r.volume(e.Name(), users))
	}
	return out, nil
}

// Volume returns one named volume.
func (r *Runtime) Volume(ctx context.Context, name string) (models.Volume, error) {
	if !validVolumeName(name) {
		return models.Volume{}, fmt.Errorf("bad volume name %q: %w", name, errdefs.ErrInvalid)
	}
	if _, err := os.Stat(r.VolumeDir(name)); err != nil {
		return models.Volume{}, fmt.Errorf("no such volume: %s (see: budgie volume ls): %w", name, errdefs.ErrNotFound)
	}
	users, err := r.volumeUsers(ctx)
	if err != nil {
		return models.Volume{}, err
	}
	return r.volume(name, users), nil
}

// RemoveVolume deletes a named volume and its data. A volume that a
// container mounts is refused unless force.
func (r *Runtime) RemoveVolume(ctx context.Context, name string, force bool) error {
	v, err := r.Volume(ctx, name)
	if err != nil {
		return err
	}
	if len(v.UsedBy) > 0 && !force {
		return fmt.Errorf("volume %s is in use by %s (remove those containers first, or use -f): %w",
			name, strings.Join(v.UsedBy, ", "), errdefs.ErrConflict)
	}
	if err := os.RemoveAll(v.Mountpoint); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}

func (r *Runtime) volume(name string, users map[string][]string) models.Volume {
	v := models.Volume{Name: name, Mountpoint: r.VolumeDir(name), UsedBy: users[name]}
	if v.UsedBy == nil {
		v.UsedBy = []string{}
	}
	if fi, err := os.Stat(v.Mountpoint); err == nil {
		v.Created = fi.ModTime()
	}
	return v
}

func (r *Runtime) volumeUsers(ctx context.Context) (map[string][]string, error) {
	cs, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range cs {
		for _, v := range c.Spec.Volumes {
			if v.Kind == models.VolumeNamed {
				users[v.Source] = append(users[v.Source], c.Name)
			}
		}
	}
	for _, u := range users {
		sort.Strings(u)
	}
	return users, nil
}

// secureVolumesDir creates data_dir/volumes mode 0700, or sets an existing
// one to 0700: volumes keep the modes of the image content copied into them
// (often world-readable), so this parent is what keeps local users out.
func (r *Runtime) secureVolumesDir() error {
	if err := os.MkdirAll(r.opts.DataDir, 0o711); err != nil {
		return fmt.Errorf("create data directory %s: %w", r.opts.DataDir, err)
	}
	dir := filepath.Join(r.opts.DataDir, "volumes")
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return fmt.Errorf("create volumes directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("set mode 0700 on volumes directory %s (budgie runs as root): %w", dir, err)
	}
	return nil
}

func validVolumeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\") && !strings.HasPrefix(name, ".")
}
