package config

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// applyEnv merges BUDGIE_<KEY> variables from env (KEY=value lines; a later
// line wins) into c. Empty variables count as unset. BUDGIE_ variables that
// are not keys but look like a misspelt one come back as warnings.
func applyEnv(env []string, c *Config, sources map[string]Source) ([]string, error) {
	vars := make(map[string]string)
	for _, kv := range env {
		if name, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "BUDGIE_") {
			vars[name] = val
		}
	}
	var problems []error
	known := make([]string, 0, len(keyDefs))
	for i := range keyDefs {
		d := &keyDefs[i]
		name := EnvName(d.name)
		known = append(known, name)
		val, ok := vars[name]
		if !ok || val == "" {
			continue
		}
		v, err := d.parseText(val)
		if err != nil {
			problems = append(problems, newError(errdefs.ErrInvalid, "%s: %v", name, err))
			continue
		}
		d.set(c, v)
		sources[d.name] = Source{Kind: SourceEnv, Detail: name}
		if m, ok := v.(map[string][]string); ok {
			for action := range m {
				sources["keys."+action] = Source{Kind: SourceEnv, Detail: name}
			}
		}
	}
	return envWarnings(vars, known), errors.Join(problems...)
}

// envWarnings flags BUDGIE_ variables that are close to, but not, a key's.
func envWarnings(vars map[string]string, known []string) []string {
	var warnings []string
	for name := range vars {
		if slices.Contains(known, name) {
			continue
		}
		if s := suggest(name, known); s != "" {
			warnings = append(warnings, fmt.Sprintf("%s is not a configuration variable (did you mean %s?)", name, s))
		}
	}
	sort.Strings(warnings)
	return warnings
}

// applyFlags merges command-line overrides into c.
func applyFlags(flags []Flag, c *Config, sources map[string]Source) error {
	var problems []error
	for _, fl := range flags {
		d, err := lookupKey(fl.Key)
		if err != nil {
			problems = append(problems, newError(errdefs.ErrInvalid, "flag %s: %v", fl.Name, err))
			continue
		}
		v, err := d.parseText(fl.Value)
		if err != nil {
			problems = append(problems, newError(errdefs.ErrInvalid, "flag %s: %v", fl.Name, err))
			continue
		}
		d.set(c, v)
		sources[d.name] = Source{Kind: SourceFlag, Detail: fl.Name}
	}
	return errors.Join(problems...)
}
