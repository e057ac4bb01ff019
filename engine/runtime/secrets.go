package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/containers"
	"github.com/containerd/containerd/oci"
	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// SecretsTarget is where a container finds its secrets, one file per name.
const SecretsTarget = "/run/secrets"

// SecretSource supplies the values of the secrets bundles list.
type SecretSource interface {
	// Reveal returns the value of secret name; a missing one wraps
	// errdefs.ErrNotFound. The caller clears the value after use.
	Reveal(ctx context.Context, name string) ([]byte, error)
}

// SetSecrets sets where secret values come from; nil means nowhere, and a
// container listing secrets cannot run. Call it before the Runtime is shared.
func (r *Runtime) SetSecrets(s SecretSource) { r.secrets = s }

// SecretsDir returns the host directory on which the tmpfs holding the
// secrets of container id is mounted while its task exists.
func (r *Runtime) SecretsDir(id string) string {
	return filepath.Join(r.opts.DataDir, "run", "secrets", r.opts.Namespace, id)
}

// checkSecrets fails, naming the secret, unless every secret spec lists
// can be read now; so a missing secret is an error at run, before anything
// is created.
func (r *Runtime) checkSecrets(ctx context.Context, spec models.ContainerSpec) error {
	values, err := r.revealAll(ctx, spec)
	clearAll(values)
	return err
}

func (r *Runtime) revealAll(ctx context.Context, spec models.ContainerSpec) ([][]byte, error) {
	if len(spec.Secrets) == 0 {
		return nil, nil
	}
	if r.secrets == nil {
		return nil, fmt.Errorf("container %s lists secrets, but this process has no secret store: %w", spec.Name, errdefs.ErrNotSupported)
	}
	values := make([][]byte, 0, len(spec.Secrets))
	for _, name := range spec.Secrets {
		v, err := r.secrets.Reveal(ctx, name)
		if err != nil {
			clearAll(values)
			return nil, fmt.Errorf("container %s: secret %s: %w", spec.Name, name, err)
		}
		values = append(values, v)
	}
	return values, nil
}

func clearAll(values [][]byte) {
	for _, v := range values {
		clear(v)
	}
}

// secretsSpecOpt bind-mounts the container's secrets directory read-only
// at SecretsTarget when spec lists secrets.
func (r *Runtime) secretsSpecOpt(spec models.ContainerSpec) oci.SpecOpts {
	return func(_ context.Context, _ oci.Client, c *containers.Container, s *oci.Spec) error {
		if len(spec.Secrets) == 0 {
			return nil
		}
		s.Mounts = append(s.Mounts, specs.Mount{Type: "bind", Source: r.SecretsDir(c.ID), Destination: SecretsTarget,
			Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}})
		return nil
	}
}

// mountSecrets makes the secrets of cc available before its task starts: a
// small tmpfs (never persistent disk) on SecretsDir holding one file per
// secret, mode 0400, owned by the container's numeric user (else root). A
// tmpfs that is still mounted with every file (a keeper restart) is kept.
// On failure nothing is left mounted.
func (r *Runtime) mountSecrets(ctx context.Context, cc containerd.Container) error {
	labels, err := cc.Labels(ctx)
	if err != nil {
		return fmt.Errorf("read labels of %s: %w", models.ShortID(cc.ID()), errdefs.FromContainerd(err))
	}
	spec, err := decodeSpec(labels)
	if err != nil || len(spec.Secrets) == 0 {
		return err
	}
	dir := r.SecretsDir(cc.ID())
	if mounted, _ := mountinfo.Mounted(dir); mounted {
		if complete(dir, spec.Secrets) {
			return nil
		}
		if err := r.unmountSecrets(cc.ID()); err != nil {
			return err
		}
	}
	values, err := r.revealAll(ctx, spec)
	if err != nil {
		return err
	}
	defer clearAll(values)
	if err := fillSecrets(dir, spec, values); err != nil {
		_ = r.unmountSecrets(cc.ID())
		return fmt.Errorf("mount secrets of %s: %w", spec.Name, err)
	}
	return nil
}

// complete reports whether dir holds a file for each name.
func complete(dir string, names []string) bool {
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err != nil {
			return false
		}
	}
	return true
}

// fillSecrets mounts a tmpfs on dir and writes the values into it.
func fillSecrets(dir string, spec models.ContainerSpec, values [][]byte) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return err
	}
	uid, gid := secretOwner(spec.User)
	size := 16 << 10
	for _, v := range values {
		size += (len(v) + 4095) &^ 4095
	}
	opts := fmt.Sprintf("size=%d,mode=0700,uid=%d,gid=%d", size, uid, gid)
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	if mounted, err := mountinfo.Mounted(dir); err != nil || !mounted {
		return fmt.Errorf("tmpfs on %s is not mounted after mount: %w", dir, errors.Join(err, errdefs.ErrUnavailable))
	}
	for i, name := range spec.Secrets {
		if err := writeSecret(filepath.Join(dir, name), values[i], uid, gid); err != nil {
			return err
		}
	}
	return nil
}

func writeSecret(path string, value []byte, uid, gid int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o400)
	if err != nil {
		return err
	}
	if _, err := f.Write(value); err != nil {
		f.Close()
		return err
	}
	if err := f.Chown(uid, gid); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// secretOwner is the uid and gid of a "uid[:gid]" user; a name (or
// nothing) means root.
func secretOwner(user string) (int, int) {
	u, g, _ := strings.Cut(user, ":")
	uid, err := strconv.Atoi(u)
	if err != nil || uid < 0 {
		return 0, 0
	}
	gid, err := strconv.Atoi(g)
	if err != nil || gid < 0 {
		gid = 0
	}
	return uid, gid
}

// unmountSecrets unmounts and removes the secrets tmpfs of container id;
// nothing mounted is not an error.
func (r *Runtime) unmountSecrets(id string) error {
	dir := r.SecretsDir(id)
	for range 8 { // stacked mounts, at most a few
		mounted, err := mountinfo.Mounted(dir)
		if err != nil || !mounted {
			break
		}
		if err := unix.Unmount(dir, 0); err != nil {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount secrets of %s at %s: %w", models.ShortID(id), dir, err)
			}
		}
	}
	if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove secrets directory %s: %w", dir, err)
	}
	return nil
}
