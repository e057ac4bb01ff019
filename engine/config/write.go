package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/units"
)

// defaultHeader opens the file WriteDefault writes.
const defaultHeader = `# budgie.yaml: Budgie's configuration, with the built-in defaults.
#
# Budgie reads the first of ./budgie.yaml, ~/.budgie/budgie.yaml,
# ~/.config/budgie/budgie.yaml and /etc/budgie/budgie.yaml, or the file
# given with --config. Every key can be overridden by an environment
# variable: BUDGIE_ and the key in upper case with dots as underscores,
# e.g. BUDGIE_CONTAINERD_NAMESPACE or BUDGIE_LOGS_MAX_SIZE=20MiB.
# A key left empty keeps its default. See the effective values and where
# each came from with: budgie config
`

// DefaultYAML returns the commented budgie.yaml that WriteDefault writes:
// every key with its default value and what it means.
func DefaultYAML() []byte {
	var b bytes.Buffer
	b.WriteString(defaultHeader)
	def := Default()
	section := ""
	for _, d := range keyDefs {
		indent := ""
		if i := strings.Index(d.name, "."); i >= 0 {
			indent = "  "
			if s := d.name[:i]; s != section {
				section = s
				fmt.Fprintf(&b, "\n%s%s:\n", comment("", sectionDocs[s]), s)
			}
		} else {
			section = ""
			b.WriteString("\n")
		}
		b.WriteString(comment(indent, d.doc))
		fmt.Fprintf(&b, "%s%s: %s\n", indent, d.name[strings.LastIndex(d.name, ".")+1:], defaultText(d, def))
	}
	return b.Bytes()
}

// comment turns text into YAML comment lines indented by indent.
func comment(indent, text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(strings.TrimRight(indent+"# "+line, " ") + "\n")
	}
	return b.String()
}

// defaultText writes a key's value in c as YAML.
func defaultText(d keyDef, c *Config) string {
	switch v := d.get(c).(type) {
	case int64:
		return units.FormatSize(v)
	case []string:
		if len(v) == 0 {
			return "[]"
		}
	case map[string][]string:
		if len(v) == 0 {
			return "{}"
		}
	}
	return yamlText(d.get(c))
}

// WriteDefault writes DefaultYAML to path atomically (a temporary file in
// the same directory, then a rename), with mode 0644, creating missing
// parent directories. Unless force is set, an existing path is left alone
// and the error wraps errdefs.ErrConflict.
func WriteDefault(path string, force bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create directory for %s: %w", path, err)
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return existsError(path)
		}
	}
	tmp, err := writeTemp(dir, DefaultYAML())
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if force {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	}
	// A hard link never replaces an existing file, so a file created since
	// the check above survives.
	err = os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if err != nil {
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

func existsError(path string) error {
	return newError(errdefs.ErrConflict, "%s already exists (use --force to overwrite it)", path)
}

// writeTemp writes data to a new file of mode 0644 in dir, synced, and
// returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".budgie.yaml.*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}
