package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/compose"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/secrets"
	"github.com/budgie-sh/budgie/models"
)

// ConvertOptions tune ConvertCompose.
type ConvertOptions struct {
	// Env is the environment the compose file is interpolated from, as
	// KEY=VALUE (the .env file beside it fills in the rest); nil means the
	// process's own.
	Env []string
	// IgnoreUnsupported leaves out the fields Budgie cannot honour, listed
	// in the result's Warnings, instead of failing on them.
	IgnoreUnsupported bool
}

// composeLabel marks the secrets a compose run imported with the project's
// name, so that down removes them again.
const composeLabel = "compose-project"

// ConvertCompose converts the docker compose file at path into bundle text
// (compose.Result.Bundle), checked by the bundle parser: `budgie run` of
// that text makes the same containers as `budgie run` of the compose file.
// A field Budgie cannot honour fails it with a *bundle.Error
// (errdefs.ErrInvalid) naming the file, the line and the field, unless
// opts.IgnoreUnsupported. It needs no containerd.
func ConvertCompose(ctx context.Context, path string, opts ConvertOptions) (*compose.Result, error) {
	res, _, err := convertCompose(ctx, path, opts, "")
	return res, err
}

// ConvertCompose is the package function ConvertCompose, for front ends
// that hold an engine.
func (e *Engine) ConvertCompose(ctx context.Context, path string, opts ConvertOptions) (*compose.Result, error) {
	return ConvertCompose(ctx, path, opts)
}

// convertCompose converts and parses a compose file: the bundle's problems
// are reported against the compose file's fields and lines.
func convertCompose(ctx context.Context, path string, opts ConvertOptions, nameOverride string) (*compose.Result, *bundle.Bundle, error) {
	src, err := compose.Load(ctx, path, compose.LoadOptions{Env: opts.Env})
	if err != nil {
		return nil, nil, err
	}
	res, err := compose.Convert(src, compose.ConvertOptions{IgnoreUnsupported: opts.IgnoreUnsupported})
	if err != nil {
		return nil, nil, err
	}
	b, err := bundle.Parse(path, res.Bundle, bundle.ParseOptions{Dir: res.Dir, NameOverride: nameOverride})
	if err != nil {
		return nil, nil, res.Explain(err)
	}
	if b.Path, err = filepath.Abs(path); err != nil {
		return nil, nil, fmt.Errorf("resolve %s: %w", path, err)
	}
	return res, b, nil
}

// loadBundle parses one file given to run or down: a bundle, or a compose
// file (any file but a .bun whose YAML has a top-level services: key),
// which is converted first; its conversion is returned too.
func loadBundle(ctx context.Context, path, nameOverride string) (*bundle.Bundle, *compose.Result, error) {
	if !strings.EqualFold(filepath.Ext(path), ".bun") {
		if data, err := compose.ReadFile(path); err == nil && compose.IsCompose(data) {
			res, b, err := convertCompose(ctx, path, ConvertOptions{}, nameOverride)
			return b, res, err
		}
	}
	b, err := bundle.ParseFile(path, bundle.ParseOptions{NameOverride: nameOverride})
	return b, nil, err
}

// composedRun is a compose file's conversion in a run, with its
// containers' specs.
type composedRun struct {
	res   *compose.Result
	specs []models.ContainerSpec
}

// prepareCompose makes what converted compose files need before their
// containers start, as docker compose does: their networks (an external
// one must exist), their secrets in the node's store (imported from the
// file or the environment; an external one must exist), their external
// volumes (which must exist) and, last, missing bind-mount directories.
// What it creates is marked as the project's and listed in the undo list
// it returns, which the run runs when it fails; on its own failure it
// undoes what it made itself.
func (e *Engine) prepareCompose(ctx context.Context, runs []composedRun) (undo undoList, err error) {
	defer func() {
		if err != nil {
			undo.run(ctx)
			undo = nil
		}
	}()
	for _, c := range runs {
		r := c.res
		for _, v := range r.Volumes {
			if _, err := e.Runtime.Volume(ctx, v); err != nil {
				return undo, fmt.Errorf("%s: external volume %s: %w (create it: budgie volume create %s)", r.File, v, err, v)
			}
		}
		for _, n := range r.Networks {
			if err := e.composeNetwork(ctx, r, n, &undo); err != nil {
				return undo, err
			}
		}
		for _, s := range r.Secrets {
			if err := e.composeSecret(ctx, r, s, &undo); err != nil {
				return undo, err
			}
		}
	}
	for _, c := range runs {
		for _, d := range c.res.Dirs {
			if err := makeDir(d, &undo); err != nil {
				return undo, fmt.Errorf("%s: create bind-mount source %s: %w", c.res.File, d, err)
			}
		}
	}
	return undo, nil
}

// makeDir creates the missing directory d and its missing parents, adding
// their removal (each only while empty) to undo.
func makeDir(d string, undo *undoList) error {
	var missing []string
	for p := filepath.Clean(d); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		dir := missing[i]
		undo.add(func(context.Context) { _ = os.Remove(dir) })
	}
	return nil
}

// composeNetwork creates a compose network that does not exist yet,
// marked as the project's (its removal added to undo); an existing one
// must have the settings the file asks for, and is used as it is.
func (e *Engine) composeNetwork(ctx context.Context, r *compose.Result, n compose.Network, undo *undoList) error {
	got, err := e.NetworkManager.Get(ctx, n.Name)
	switch {
	case errors.Is(err, errdefs.ErrNotFound) && n.External:
		return fmt.Errorf("%s: external network %s does not exist (create it: budgie network create %s): %w", r.File, n.Name, n.Name, err)
	case errors.Is(err, errdefs.ErrNotFound):
		_, err := e.CreateNetwork(ctx, n.Name, network.CreateOptions{Subnet: n.Subnet, Gateway: n.Gateway, Internal: n.Internal})
		if err != nil {
			return fmt.Errorf("%s: create network %s: %w", r.File, n.Name, err)
		}
		undo.add(func(ctx context.Context) {
			_ = e.RemoveNetwork(ctx, n.Name)
			e.clearOwner(ownedNetwork, n.Name)
		})
		return e.setOwner(ctx, ownedNetwork, n.Name, composeOwner(r.Project))
	case err != nil:
		return fmt.Errorf("%s: network %s: %w", r.File, n.Name, err)
	case n.External:
		return nil
	case got.Internal != n.Internal || (n.Subnet != "" && got.Subnet != n.Subnet) || (n.Gateway != "" && got.Gateway != n.Gateway):
		return fmt.Errorf("%s: network %s exists with other settings (subnet %s, gateway %s, internal %v) than the file's (remove it first: budgie network rm %s): %w",
			r.File, n.Name, got.Subnet, got.Gateway, got.Internal, n.Name, errdefs.ErrConflict)
	}
	return nil
}

// composeSecret puts a compose secret's value in the node's store,
// labelled with the project (its removal added to undo), or checks that
// the store holds it already with that value.
func (e *Engine) composeSecret(ctx context.Context, r *compose.Result, s compose.Secret, undo *undoList) error {
	if err := secrets.ValidName(s.Name); err != nil {
		return fmt.Errorf("%s: secret %s: %w", r.File, s.Name, err)
	}
	if s.External {
		if _, err := e.SecretStore.Inspect(ctx, s.Name); err != nil {
			return fmt.Errorf("%s: external secret %s: %w (create it: budgie secret create %s)", r.File, s.Name, err, s.Name)
		}
		return nil
	}
	value := s.Value
	if s.File != "" {
		v, err := readSecretFile(s.File)
		if err != nil {
			return fmt.Errorf("%s: secret %s: %w", r.File, s.Name, err)
		}
		value = v
	}
	have, err := e.SecretStore.Reveal(ctx, s.Name)
	switch {
	case errors.Is(err, errdefs.ErrNotFound):
		_, err := e.SecretStore.Create(ctx, s.Name, value, secrets.CreateOptions{Labels: map[string]string{composeLabel: r.Project}})
		if err != nil {
			return fmt.Errorf("%s: import secret %s: %w", r.File, s.Name, err)
		}
		undo.add(func(ctx context.Context) { _ = e.SecretStore.Remove(ctx, s.Name, secrets.RemoveOptions{}) })
		return nil
	case err != nil:
		return fmt.Errorf("%s: secret %s: %w", r.File, s.Name, err)
	}
	same := bytes.Equal(have, value)
	clear(have)
	if !same {
		return fmt.Errorf("%s: the node's secret %s holds another value than the compose file's (replace it: budgie secret rm %s, then run again): %w",
			r.File, s.Name, s.Name, errdefs.ErrConflict)
	}
	return nil
}

// readSecretFile reads a compose secret's file, bounded by the store's
// largest value. A symlink is followed, as docker compose follows it,
// but what it leads to must be a regular file: the open does not block
// on a FIFO (O_NONBLOCK) and nothing but a regular file is read.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("file %s does not exist: %w", path, errdefs.ErrNotFound)
		}
		return nil, err
	}
	defer f.Close()
	data, regular, err := readRegularBounded(f, secrets.MaxSize)
	switch {
	case err != nil:
		return nil, err
	case !regular:
		return nil, fmt.Errorf("%s is not a regular file: %w", path, errdefs.ErrInvalid)
	case len(data) > secrets.MaxSize:
		return nil, fmt.Errorf("%s is larger than a secret may be (%d KiB): %w", path, secrets.MaxSize>>10, errdefs.ErrInvalid)
	}
	return data, nil
}

// downCompose removes what runs of the compose project made once its
// containers are gone: the networks marked as its own and the secrets it
// imported, each only when no container uses it any more. A network or
// secret that existed before the project's first run is left, and
// reported to kept.
func (e *Engine) downCompose(ctx context.Context, project string, networks []string, kept func(kind, name string)) []error {
	var errs []error
	owner := composeOwner(project)
	mine := e.ownedBy(ctx, ownedNetwork, owner)
	for _, n := range networks {
		if !slices.Contains(mine, n) {
			if _, err := e.NetworkManager.Get(ctx, n); err == nil && kept != nil {
				kept("network", n)
			}
		}
	}
	for _, n := range mine {
		if users, err := e.NetworkUsers(ctx, n); err != nil || len(users) > 0 {
			continue
		}
		if err := e.RemoveNetwork(ctx, n); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, fmt.Errorf("down: %w", err))
			continue
		}
		e.clearOwner(ownedNetwork, n)
	}
	list, err := e.SecretStore.List(ctx)
	if err != nil {
		return append(errs, fmt.Errorf("down: %w", err))
	}
	for _, s := range list {
		if s.Labels[composeLabel] != project || len(s.UsedBy) > 0 {
			continue
		}
		if err := e.SecretStore.Remove(ctx, s.Name, secrets.RemoveOptions{}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, fmt.Errorf("down: %w", err))
		}
	}
	return errs
}

// externalVolumes lists the external volumes of compose files, which down
// -v leaves, as docker compose does.
func externalVolumes(results []*compose.Result) map[string]bool {
	out := map[string]bool{}
	for _, r := range results {
		for _, v := range r.Volumes {
			out[v] = true
		}
	}
	return out
}
