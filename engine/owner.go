package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Owners. A compose project's or a kube manifest's run records its owner
// on every container it makes (the budgie.owner label) and on every
// network and volume it creates (a marker under data_dir/owners, since
// networks and volumes carry no labels), so that a run or down of one
// owner never replaces or removes what another made, or what existed
// before it.

// composeOwner is the owner of a compose project's containers.
func composeOwner(project string) string { return "compose:" + project }

// kubeOwner is the owner of what kube play made of the manifest at path.
func kubeOwner(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	return "kube:" + abs, nil
}

// describeOwner says who owner is, for messages.
func describeOwner(owner string) string {
	switch {
	case owner == "":
		return "no compose project or manifest (a plain budgie run)"
	case strings.HasPrefix(owner, "compose:"):
		return "compose project " + models.Printable(strings.TrimPrefix(owner, "compose:"))
	case strings.HasPrefix(owner, "kube:"):
		return "kube manifest " + models.Printable(strings.TrimPrefix(owner, "kube:"))
	}
	return models.Printable(owner)
}

// ownerHint says how to free a name owner holds.
func ownerHint(name, owner string) string {
	switch {
	case owner == "":
		return "rename it in the file, or remove the container first: budgie rm -f " + models.Printable(name)
	case strings.HasPrefix(owner, "compose:"):
		return "rename it in the file, or take " + models.Printable(strings.TrimPrefix(owner, "compose:")) + " down first (budgie down ITS-COMPOSE-FILE)"
	case strings.HasPrefix(owner, "kube:"):
		return "rename it in the file, or take the manifest down first: budgie kube down " + models.Printable(strings.TrimPrefix(owner, "kube:"))
	}
	return "rename it in the file"
}

// members returns the existing containers that stand for each spec: the
// one of its name and the replicas of a service of its name, each
// container once (the first spec that claims it).
func members(specs []models.ContainerSpec, all []models.Container) map[string][]models.Container {
	out, taken := map[string][]models.Container{}, map[string]bool{}
	for _, s := range specs {
		for _, c := range all {
			if (c.Name == s.Name || (c.Replica > 0 && c.Service == s.Name)) && !taken[c.ID] {
				out[s.Name], taken[c.ID] = append(out[s.Name], c), true
			}
		}
	}
	return out
}

// checkOwners refuses, with errdefs.ErrConflict, a run or down whose
// containers' names are held by containers of another owner (ownerOf maps
// a spec's name to its run's owner; "" for a plain bundle), naming each.
// allowed, when not nil, names the specs a plain run may leave as they
// are though another owner made them (see runSpecs).
func checkOwners(specs []models.ContainerSpec, ownerOf map[string]string, all []models.Container, allowed map[string]bool) error {
	var problems []string
	mem := members(specs, all)
	for _, s := range specs {
		want := ownerOf[s.Name]
		for _, c := range mem[s.Name] {
			if c.Owner == want || (want == "" && allowed[s.Name]) {
				continue
			}
			problems = append(problems, fmt.Sprintf("%s belongs to %s, not to %s (%s)",
				models.Printable(c.Name), describeOwner(c.Owner), describeOwner(want), ownerHint(c.Name, c.Owner)))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", strings.Join(problems, "; "), errdefs.ErrConflict)
}

// undoList is what a run made before its containers, undone in reverse
// order when the run fails.
type undoList []func(context.Context)

func (u *undoList) add(f func(context.Context)) { *u = append(*u, f) }

// run undoes everything, newest first, even if ctx is cancelled.
func (u undoList) run(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	for i := len(u) - 1; i >= 0; i-- {
		u[i](ctx)
	}
}

// Kinds of owned resources, the directories of their markers.
const (
	ownedNetwork = "networks"
	ownedVolume  = "volumes"
)

// ownerMarker is the marker of an owned network or volume. Identity pins
// it to the resource it was written for (a volume directory's device and
// inode, a network's creation time), so that one removed by other means
// and made again by someone else is not taken for the owner's.
type ownerMarker struct {
	Owner    string `json:"owner"`
	Identity string `json:"identity"`
}

// ownerDir is the directory of kind's markers.
func (e *Engine) ownerDir(kind string) string {
	return filepath.Join(e.Config.DataDir, "owners", kind)
}

// markerPath is name's marker; names are checked before any resource is
// made, but one that could leave the directory is refused here too.
func (e *Engine) markerPath(kind, name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || strings.HasPrefix(name, ".") {
		return "", fmt.Errorf("bad %s name %q: %w", strings.TrimSuffix(kind, "s"), name, errdefs.ErrInvalid)
	}
	return filepath.Join(e.ownerDir(kind), name), nil
}

// identity returns what pins a marker to the resource now named name.
func (e *Engine) identity(ctx context.Context, kind, name string) (string, error) {
	if kind == ownedVolume {
		// device, inode and birth time: an inode number alone is soon
		// reused by a directory made after this one was removed
		var st unix.Statx_t
		err := unix.Statx(unix.AT_FDCWD, e.Runtime.VolumeDir(name), unix.AT_SYMLINK_NOFOLLOW,
			unix.STATX_TYPE|unix.STATX_INO|unix.STATX_BTIME, &st)
		if err != nil {
			return "", &os.PathError{Op: "statx", Path: e.Runtime.VolumeDir(name), Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return "", fmt.Errorf("volume %s is not a directory: %w", name, errdefs.ErrInvalid)
		}
		return fmt.Sprintf("%d:%d:%d:%d.%d", st.Dev_major, st.Dev_minor, st.Ino, st.Btime.Sec, st.Btime.Nsec), nil
	}
	n, err := e.NetworkManager.Get(ctx, name)
	if err != nil {
		return "", err
	}
	return n.Created.UTC().Format(time.RFC3339Nano), nil
}

// setOwner marks the resource kind/name, which the caller just made, as
// owner's.
func (e *Engine) setOwner(ctx context.Context, kind, name, owner string) error {
	path, err := e.markerPath(kind, name)
	if err != nil {
		return err
	}
	id, err := e.identity(ctx, kind, name)
	if err != nil {
		return fmt.Errorf("mark %s %s as %s's: %w", strings.TrimSuffix(kind, "s"), name, describeOwner(owner), err)
	}
	data, err := json.Marshal(ownerMarker{Owner: owner, Identity: id})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("mark %s %s: %w", strings.TrimSuffix(kind, "s"), name, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("mark %s %s: %w", strings.TrimSuffix(kind, "s"), name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("mark %s %s: %w", strings.TrimSuffix(kind, "s"), name, err)
	}
	return nil
}

// ownerOf returns the owner of kind/name: "" when it has no marker, or
// the marker was written for an earlier resource of that name.
func (e *Engine) ownerOf(ctx context.Context, kind, name string) string {
	path, err := e.markerPath(kind, name)
	if err != nil {
		return ""
	}
	data, err := readSmallFile(path, 4096)
	if err != nil {
		return ""
	}
	var m ownerMarker
	if json.Unmarshal(data, &m) != nil {
		return ""
	}
	if id, err := e.identity(ctx, kind, name); err != nil || id != m.Identity {
		return ""
	}
	return m.Owner
}

// clearOwner removes the marker of kind/name.
func (e *Engine) clearOwner(kind, name string) {
	if path, err := e.markerPath(kind, name); err == nil {
		_ = os.Remove(path)
	}
}

// ownedBy lists the resources of kind that owner made and that still
// exist, sorted.
func (e *Engine) ownedBy(ctx context.Context, kind, owner string) []string {
	entries, err := os.ReadDir(e.ownerDir(kind))
	if err != nil {
		return nil
	}
	var out []string
	for _, ent := range entries {
		name := ent.Name()
		if !ent.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		if e.ownerOf(ctx, kind, name) == owner {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// readSmallFile reads a regular file of at most limit bytes without
// blocking on a FIFO or following a final symlink.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, regular, err := readRegularBounded(f, limit)
	switch {
	case err != nil:
		return nil, err
	case !regular:
		return nil, fmt.Errorf("%s is not a regular file: %w", path, errdefs.ErrInvalid)
	case int64(len(data)) > limit:
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", path, limit, errdefs.ErrInvalid)
	}
	return data, nil
}

// readRegularBounded reads the open file f, opened with O_NONBLOCK so that the
// open itself cannot hang on a FIFO, when it is a regular file (regular
// false, nothing read, otherwise): at most limit+1 bytes, so that the
// caller sees when it is larger than limit.
func readRegularBounded(f *os.File, limit int64) (data []byte, regular bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if !fi.Mode().IsRegular() {
		return nil, false, nil
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	return data, true, err
}

// freshVolumes returns the named volumes the owned containers of p mount
// that do not exist yet (external ones aside), with their owner: those
// the run will create, to be marked as the owner's once it succeeds and
// removed again when it fails. The runtime creates them, so that a new
// volume is filled with the image's content.
func (e *Engine) freshVolumes(ctx context.Context, p *runPlan) (map[string]string, error) {
	external := map[string]bool{}
	for _, c := range p.composed {
		for _, v := range c.res.Volumes {
			external[v] = true
		}
	}
	fresh := map[string]string{}
	for _, s := range p.specs {
		owner := p.ownerOf[s.Name]
		if owner == "" {
			continue
		}
		for _, v := range s.Volumes {
			if v.Kind != models.VolumeNamed || external[v.Source] || fresh[v.Source] != "" {
				continue
			}
			_, err := e.Runtime.Volume(ctx, v.Source)
			switch {
			case errors.Is(err, errdefs.ErrNotFound):
				fresh[v.Source] = owner
			case err != nil:
				return nil, fmt.Errorf("%s: volume %s: %w", s.Name, v.Source, err)
			}
		}
	}
	return fresh, nil
}

// dropFresh removes the volumes a failed run created (see freshVolumes)
// that no container uses.
func (e *Engine) dropFresh(ctx context.Context, fresh map[string]string) {
	for name := range fresh {
		if v, err := e.Runtime.Volume(ctx, name); err == nil && len(v.UsedBy) == 0 {
			_ = e.Runtime.RemoveVolume(ctx, name, false)
		}
		e.clearOwner(ownedVolume, name)
	}
}

// createClaims creates the named volumes that must exist though no
// container mounts them, marked as their owner's; one that exists already
// is used as it is (and left by down). Each is added to undo.
func (e *Engine) createClaims(ctx context.Context, claims map[string]string, undo *undoList) error {
	names := make([]string, 0, len(claims))
	for n := range claims {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := e.CreateVolume(ctx, name); errors.Is(err, errdefs.ErrConflict) {
			continue
		} else if err != nil {
			return err
		}
		undo.add(func(ctx context.Context) {
			_ = e.Runtime.RemoveVolume(ctx, name, false)
			e.clearOwner(ownedVolume, name)
		})
		if err := e.setOwner(ctx, ownedVolume, name, claims[name]); err != nil {
			return err
		}
	}
	return nil
}
