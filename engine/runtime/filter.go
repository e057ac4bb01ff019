package runtime

import (
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Filter is one `--filter key=value` condition of ps.
type Filter struct {
	// Key is name, id, status, label or image.
	Key string
	// Value is what it must match: a substring for name, a prefix for id,
	// a state for status, KEY or KEY=VALUE for label, a reference for image.
	Value string
}

// ParseFilters parses docker-style filters ("name=web", "status=exited",
// "label=tier=front"). Several values may be given comma-separated in one.
func ParseFilters(args []string) ([]Filter, error) {
	var out []Filter
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || v == "" {
				return nil, fmt.Errorf("bad filter %q: want KEY=VALUE with KEY one of name, id, status, label, image: %w", part, errdefs.ErrInvalid)
			}
			switch k {
			case "name", "id", "label", "image":
			case "status":
				if !validState(v) {
					return nil, fmt.Errorf("bad filter %q: status is one of created, running, paused, restarting, exited: %w", part, errdefs.ErrInvalid)
				}
			default:
				return nil, fmt.Errorf("bad filter key %q: use name, id, status, label or image: %w", k, errdefs.ErrInvalid)
			}
			out = append(out, Filter{Key: k, Value: v})
		}
	}
	return out, nil
}

func validState(s string) bool {
	switch models.ContainerState(s) {
	case models.StateCreated, models.StateRunning, models.StatePaused, models.StateRestarting, models.StateExited:
		return true
	}
	return false
}

// matchAll reports whether c matches every filter. Filters with the same key
// are alternatives (docker's rule): name=a,name=b matches either.
func matchAll(filters []Filter, c models.Container) bool {
	byKey := map[string][]Filter{}
	for _, f := range filters {
		byKey[f.Key] = append(byKey[f.Key], f)
	}
	for _, group := range byKey {
		ok := false
		for _, f := range group {
			if match(f, c) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func match(f Filter, c models.Container) bool {
	switch f.Key {
	case "name":
		return strings.Contains(c.Name, f.Value)
	case "id":
		return strings.HasPrefix(c.ID, f.Value)
	case "status":
		return string(c.State) == f.Value
	case "image":
		return c.Image == f.Value || strings.Contains(c.Image, f.Value)
	case "label":
		k, v, hasValue := strings.Cut(f.Value, "=")
		got, ok := c.Labels[k]
		return ok && (!hasValue || got == v)
	}
	return false
}
