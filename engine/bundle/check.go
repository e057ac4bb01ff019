package bundle

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// The checks below are the parser's own rules, exported for specs that do
// not come from a bundle file (a replica's plan from another node): one
// rule for a name, wherever the name comes from.

// CheckContainerName checks a container name: letters, digits, _, . and -,
// starting with a letter or digit, at most 63 characters.
func CheckContainerName(s string) error { return wrapInvalid(checkName(s, maxNameLen)) }

// CheckName checks a volume, network or secret name: the container rule,
// at most 255 characters.
func CheckName(s string) error { return wrapInvalid(checkName(s, 255)) }

// NormalizeSignal turns "SIGTERM", "term" or "15" into "SIGTERM"; an
// unknown signal fails with errdefs.ErrInvalid.
func NormalizeSignal(s string) (string, error) {
	sig, err := normalizeSignal(s)
	return sig, wrapInvalid(err)
}

// ValidEnvKey reports whether key can name an environment variable.
func ValidEnvKey(key string) bool { return validEnvKey(key) }

// CheckLabel checks a user label: a key, not Budgie's reserved prefix, key
// and value at most 4000 bytes together.
func CheckLabel(key, val string) error {
	switch {
	case key == "":
		return fmt.Errorf("a label needs a key: %w", errdefs.ErrInvalid)
	case strings.HasPrefix(key, labelPrefix):
		return fmt.Errorf("label %q is reserved (the budgie. prefix is Budgie's own): %w", key, errdefs.ErrInvalid)
	case len(key)+len(val) > 4000:
		return fmt.Errorf("label %q is too long (key and value at most 4000 bytes): %w", key, errdefs.ErrInvalid)
	}
	return nil
}

// ValidRestartPolicy reports whether name is a restart policy.
func ValidRestartPolicy(name string) bool { return name == "" || slices.Contains(restartNames, name) }

// LocalHTTPProbe reports whether s is an http probe of the container's own
// port (":PORT[/path]"), the only form that cannot aim the keeper at
// another host.
func LocalHTTPProbe(s string) bool { return strings.HasPrefix(s, ":") && validHTTPProbe(s) }

// LocalTCPProbe reports whether s is a tcp probe of the container's own
// port ("PORT").
func LocalTCPProbe(s string) bool { return !strings.Contains(s, ":") && validTCPProbe(s) }

// wrapInvalid adds errdefs.ErrInvalid (and the hint) to a parser error.
func wrapInvalid(err error) error {
	if err == nil {
		return nil
	}
	var inv *invalid
	if errors.As(err, &inv) && inv.hint != "" {
		return fmt.Errorf("%s (%s): %w", inv.msg, inv.hint, errdefs.ErrInvalid)
	}
	return fmt.Errorf("%s: %w", err.Error(), errdefs.ErrInvalid)
}
