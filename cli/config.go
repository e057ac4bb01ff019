package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/budgie-sh/budgie/engine/config"
)

// loadConfig loads the effective configuration: defaults, then the file at
// path (or the first budgie.yaml found when path is empty), then BUDGIE_
// variables. Warnings go to stderr.
func loadConfig(path string) (*config.Config, error) {
	l, err := config.Load(config.LoadOptions{File: path})
	if err != nil {
		return nil, err
	}
	printWarnings(os.Stderr, l.Warnings)
	return l.Config, nil
}

func printWarnings(w io.Writer, warnings []string) {
	for _, msg := range warnings {
		fmt.Fprintf(w, "budgie: warning: %s\n", msg)
	}
}

// configStreams are a config command's output streams; nil means the
// process's. Tests set them.
type configStreams struct {
	out, err io.Writer
}

func (s configStreams) stdout() io.Writer {
	if s.out == nil {
		return os.Stdout
	}
	return s.out
}

func (s configStreams) stderr() io.Writer {
	if s.err == nil {
		return os.Stderr
	}
	return s.err
}

// ConfigCmd shows and manages the configuration.
type ConfigCmd struct {
	Show ConfigShowCmd `cmd:"" default:"withargs" help:"Show the effective configuration and where each value came from (the default)."`
	Init ConfigInitCmd `cmd:"" help:"Write a commented budgie.yaml holding the defaults."`
	Path ConfigPathCmd `cmd:"" help:"Print the configuration file in use."`
	Get  ConfigGetCmd  `cmd:"" help:"Print one configuration value."`
}

// loadEffective loads the configuration as the other commands see it,
// including --log-level, keeping the sources.
func loadEffective(g *Globals, std configStreams) (*config.Loaded, error) {
	var flags []config.Flag
	if g.LogLevel != "" {
		flags = append(flags, config.Flag{Key: "log_level", Name: "--log-level", Value: g.LogLevel})
	}
	l, err := config.Load(config.LoadOptions{File: g.Config, Flags: flags})
	if err != nil {
		return nil, err
	}
	printWarnings(std.stderr(), l.Warnings)
	return l, nil
}

// ConfigShowCmd prints the effective configuration.
type ConfigShowCmd struct {
	Format string `short:"f" help:"Output format: table, json (one object: file, config, sources), or a Go template given that object, such as '{{.File}}'." default:"table"`

	std configStreams
}

// Run prints every key, its value and its source.
func (c *ConfigShowCmd) Run(g *Globals) error {
	l, err := loadEffective(g, c.std)
	if err != nil {
		return err
	}
	doc, err := configDoc(l)
	if err != nil {
		return err
	}
	return printList(c.std.stdout(), c.Format, doc, func(out io.Writer) error { return showTable(out, l) })
}

func showTable(out io.Writer, l *config.Loaded) error {
	if l.File != "" {
		fmt.Fprintf(out, "file: %s\n\n", l.File)
	} else {
		fmt.Fprintf(out, "file: none found, using the defaults (searched %s)\n\n", strings.Join(l.Searched, ", "))
	}
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "KEY\tVALUE\tSOURCE")
	for _, key := range config.Keys() {
		if key == "keys" && len(l.Keys) > 0 {
			for _, row := range keyRows(l) {
				fmt.Fprintln(w, row)
			}
			continue
		}
		text, err := l.Format(key)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", key, shown(key, text), l.Sources[key])
	}
	return w.Flush()
}

// keyRows are the table rows of remapped actions, "keys.quit\t[q, x]\tsource".
func keyRows(l *config.Loaded) []string {
	text, _ := l.Format("keys")
	var rows []string
	for _, line := range strings.Split(text, "\n") {
		action, keys, _ := strings.Cut(line, ": ")
		key := "keys." + strings.Trim(action, `"'`)
		src, ok := l.Sources[key]
		if !ok {
			src = l.Sources["keys"]
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s", key, keys, src))
	}
	return rows
}

// shown makes an empty value visible in the table.
func shown(key, text string) string {
	if text != "" {
		return text
	}
	switch key {
	case "registries.insecure":
		return "[]"
	case "keys":
		return "{}"
	}
	return `""`
}

// configJSON is `budgie config --format json`.
type configJSON struct {
	File     string                   `json:"file"`
	Searched []string                 `json:"searched,omitempty"`
	Config   map[string]any           `json:"config"`
	Sources  map[string]config.Source `json:"sources"`
}

// configDoc is the effective configuration as --format json and
// templates see it: config holds every key by section.
func configDoc(l *config.Loaded) (configJSON, error) {
	doc := configJSON{File: l.File, Searched: l.Searched, Config: map[string]any{}, Sources: l.Sources}
	for _, key := range config.Keys() {
		v, err := l.Get(key)
		if err != nil {
			return configJSON{}, err
		}
		m := doc.Config
		parts := strings.Split(key, ".")
		for _, section := range parts[:len(parts)-1] {
			if _, ok := m[section]; !ok {
				m[section] = map[string]any{}
			}
			m = m[section].(map[string]any)
		}
		m[parts[len(parts)-1]] = v
	}
	return doc, nil
}

// ConfigInitCmd writes a default budgie.yaml.
type ConfigInitCmd struct {
	Force bool   `short:"f" help:"Overwrite an existing file."`
	Path  string `arg:"" optional:"" type:"path" help:"File to write (default: --config, else ~/.config/budgie/budgie.yaml)."`

	std configStreams
}

// Run writes the file, refusing to overwrite one without --force.
func (c *ConfigInitCmd) Run(g *Globals) error {
	path := c.Path
	if path == "" {
		path = g.Config
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("find the home directory (name the file instead: budgie config init PATH): %w", err)
		}
		path = config.UserFile(home)
	}
	if err := config.WriteDefault(path, c.Force); err != nil {
		return err
	}
	fmt.Fprintf(c.std.stdout(), "wrote %s\n", path)
	return nil
}

// ConfigPathCmd prints the configuration file in use.
type ConfigPathCmd struct {
	std configStreams
}

// Run prints the file's path on stdout; when there is none it prints
// nothing there and says so on stderr, with the paths searched.
func (c *ConfigPathCmd) Run(g *Globals) error {
	file, searched, err := config.Find(config.LoadOptions{File: g.Config})
	if err != nil {
		return err
	}
	if file != "" {
		fmt.Fprintln(c.std.stdout(), file)
		return nil
	}
	fmt.Fprintln(c.std.stderr(), "no configuration file found; using the defaults. Searched, in order:")
	for _, p := range searched {
		fmt.Fprintf(c.std.stderr(), "  %s\n", p)
	}
	fmt.Fprintln(c.std.stderr(), "Create one with: budgie config init")
	return nil
}

// ConfigGetCmd prints one value.
type ConfigGetCmd struct {
	Key string `arg:"" help:"Key, e.g. containerd.namespace (list them with: budgie config)."`

	std configStreams
}

// Run prints the value: lists as a comma list, sizes with a unit, keys as YAML.
func (c *ConfigGetCmd) Run(g *Globals) error {
	l, err := loadEffective(g, c.std)
	if err != nil {
		return err
	}
	text, err := l.Format(c.Key)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.std.stdout(), text)
	return nil
}
