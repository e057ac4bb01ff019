package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/compose"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/secrets"
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

// prepareCompose makes what converted compose files need before their
// containers start, as docker compose does: their networks (an external
// one must exist), their secrets in the node's store (imported from the
// file or the environment; an external one must exist), their external
// volumes (which must exist) and missing bind-mount directories.
func (e *Engine) prepareCompose(ctx context.Context, results []*compose.Result) error {
	for _, r := range results {
		for _, n := range r.Networks {
			if err := e.composeNetwork(ctx, r, n); err != nil {
				return err
			}
		}
		for _, s := range r.Secrets {
			if err := e.composeSecret(ctx, r, s); err != nil {
				return err
			}
		}
		for _, v := range r.Volumes {
			if _, err := e.Runtime.Volume(ctx, v); err != nil {
				return fmt.Errorf("%s: external volume %s: %w (create it: budgie volume create %s)", r.File, v, err, v)
			}
		}
		for _, d := range r.Dirs {
			if _, err := os.Lstat(d); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(d, 0o755); err != nil {
					return fmt.Errorf("%s: create bind-mount source %s: %w", r.File, d, err)
				}
			}
		}
	}
	return nil
}

// composeNetwork creates a compose network that does not exist yet; an
// existing one must have the settings the file asks for.
func (e *Engine) composeNetwork(ctx context.Context, r *compose.Result, n compose.Network) error {
	got, err := e.NetworkManager.Get(ctx, n.Name)
	switch {
	case errors.Is(err, errdefs.ErrNotFound) && n.External:
		return fmt.Errorf("%s: external network %s does not exist (create it: budgie network create %s): %w", r.File, n.Name, n.Name, err)
	case errors.Is(err, errdefs.ErrNotFound):
		_, err := e.CreateNetwork(ctx, n.Name, network.CreateOptions{Subnet: n.Subnet, Gateway: n.Gateway, Internal: n.Internal})
		if err != nil {
			return fmt.Errorf("%s: create network %s: %w", r.File, n.Name, err)
		}
		return nil
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

// composeSecret puts a compose secret's value in the node's store, or
// checks that the store holds it already with that value.
func (e *Engine) composeSecret(ctx context.Context, r *compose.Result, s compose.Secret) error {
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
// largest value.
func readSecretFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("file %s does not exist: %w", path, errdefs.ErrNotFound)
		}
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, errdefs.ErrInvalid)
	}
	data, err := io.ReadAll(io.LimitReader(f, secrets.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > secrets.MaxSize {
		return nil, fmt.Errorf("%s is larger than a secret may be (%d KiB): %w", path, secrets.MaxSize>>10, errdefs.ErrInvalid)
	}
	return data, nil
}

// downCompose removes what prepareCompose made for compose files once
// their containers are gone: their networks (not external ones) and the
// secrets it imported, each only when no container uses it any more.
func (e *Engine) downCompose(ctx context.Context, results []*compose.Result) []error {
	var errs []error
	for _, r := range results {
		for _, n := range r.Networks {
			if n.External {
				continue
			}
			if _, err := e.NetworkManager.Get(ctx, n.Name); err != nil {
				continue
			}
			if users, err := e.NetworkUsers(ctx, n.Name); err != nil || len(users) > 0 {
				continue
			}
			if err := e.RemoveNetwork(ctx, n.Name); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, fmt.Errorf("down: %w", err))
			}
		}
		for _, s := range r.Secrets {
			if s.External {
				continue
			}
			got, err := e.SecretStore.Inspect(ctx, s.Name)
			if err != nil || got.Labels[composeLabel] != r.Project || len(got.UsedBy) > 0 {
				continue
			}
			if err := e.SecretStore.Remove(ctx, s.Name, secrets.RemoveOptions{}); err != nil && !errors.Is(err, errdefs.ErrNotFound) {
				errs = append(errs, fmt.Errorf("down: %w", err))
			}
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

// withoutExternal leaves the external volumes of compose files out of
// names: down -v keeps them, as docker compose does.
func withoutExternal(names []string, results []*compose.Result) []string {
	ext := externalVolumes(results)
	out := names[:0:0]
	for _, n := range names {
		if !ext[n] {
			out = append(out, n)
		}
	}
	return out
}
