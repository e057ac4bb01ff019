package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Kinds of Source.
const (
	SourceDefault = "default" // the built-in default
	SourceFile    = "file"    // budgie.yaml; Detail is "path:line"
	SourceEnv     = "env"     // a BUDGIE_ variable; Detail is its name
	SourceFlag    = "flag"    // a command-line flag; Detail is its name, "--log-level"
)

// Source says where an effective value came from.
type Source struct {
	// Kind is SourceDefault, SourceFile, SourceEnv or SourceFlag.
	Kind string `json:"kind"`
	// Detail is "path:line" for a file, the variable for env, the flag for
	// a flag, and empty for a default.
	Detail string `json:"detail,omitempty"`
}

// String reads "default", "file /path:3", "env BUDGIE_DATA_DIR" or "flag --log-level".
func (s Source) String() string {
	if s.Detail == "" {
		return s.Kind
	}
	return s.Kind + " " + s.Detail
}

// Flag is a command-line flag that overrides a key, applied after the
// environment.
type Flag struct {
	// Key is the dotted key the flag sets, "log_level".
	Key string
	// Name is the flag as written, "--log-level"; it is the source's Detail.
	Name string
	// Value is parsed as a BUDGIE_ variable would be.
	Value string
}

// LoadOptions say where Load looks. The zero value is the real thing: the
// standard search paths, the process environment and home directory.
type LoadOptions struct {
	// File is the --config file; it must exist. Empty: search SearchPaths.
	File string
	// Env is the environment as KEY=value lines; nil means os.Environ().
	Env []string
	// Home is the home directory; empty means os.UserHomeDir().
	Home string
	// WorkDir is the directory ./budgie.yaml is looked for in; empty means
	// the current directory.
	WorkDir string
	// SearchPaths are the files tried in order; nil means
	// SearchPaths(Home, WorkDir).
	SearchPaths []string
	// Flags override keys from the command line, last.
	Flags []Flag
}

// Loaded is the effective configuration and where it came from.
type Loaded struct {
	*Config
	// File is the configuration file read; empty when none was found.
	File string
	// Searched lists the paths tried, in order; nil when File was given.
	Searched []string
	// Sources maps every key of Keys() to where its value came from, plus
	// "keys.<action>" for each remapped action.
	Sources map[string]Source
	// Warnings are problems that did not stop loading, such as a BUDGIE_
	// variable that looks like a misspelt key.
	Warnings []string
}

// SearchPaths returns the files budgie.yaml is looked for in, in order:
// ./budgie.yaml, ~/.budgie/budgie.yaml, ~/.config/budgie/budgie.yaml and
// /etc/budgie/budgie.yaml. An empty home or workDir leaves out its paths.
func SearchPaths(home, workDir string) []string {
	var paths []string
	if workDir != "" {
		paths = append(paths, filepath.Join(workDir, "budgie.yaml"))
	}
	if home != "" {
		paths = append(paths, filepath.Join(home, ".budgie", "budgie.yaml"), UserFile(home))
	}
	return append(paths, "/etc/budgie/budgie.yaml")
}

// UserFile returns the file a user owns, ~/.config/budgie/budgie.yaml,
// where `budgie config init` writes by default.
func UserFile(home string) string {
	return filepath.Join(home, ".config", "budgie", "budgie.yaml")
}

// Find returns the configuration file Load would read (empty when none
// exists) and the paths it tried (nil when opts.File is set). A missing
// opts.File is an error wrapping errdefs.ErrInvalid.
func Find(opts LoadOptions) (string, []string, error) {
	if opts.File != "" {
		if err := checkFile(opts.File); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", nil, newError(errdefs.ErrInvalid, "config file %s does not exist (check --config, or create it with: budgie config init %s)", opts.File, opts.File)
			}
			return "", nil, err
		}
		return opts.File, nil, nil
	}
	paths := opts.SearchPaths
	if paths == nil {
		paths = SearchPaths(homeDir(opts.Home), workDir(opts.WorkDir))
	}
	for _, p := range paths {
		err := checkFile(p)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			continue
		}
		if err != nil {
			return "", paths, err
		}
		return p, paths, nil
	}
	return "", paths, nil
}

// checkFile returns nil when path is a file, fs.ErrNotExist when it is
// missing, and another error otherwise.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return err
	case err != nil:
		return fmt.Errorf("check config file %s: %w", path, err)
	case fi.IsDir():
		return newError(errdefs.ErrInvalid, "config file %s is a directory, not a file", path)
	}
	return nil
}

func homeDir(home string) string {
	if home != "" {
		return home
	}
	home, _ = os.UserHomeDir()
	return home
}

func workDir(dir string) string {
	if dir != "" {
		return dir
	}
	dir, _ = os.Getwd()
	return dir
}

// Load builds the effective configuration: the defaults, then the first
// budgie.yaml found (or opts.File), then BUDGIE_ variables, then opts.Flags,
// and validates the result. Mistakes in the file, the environment or the
// flags are reported together, one a line, in an error wrapping
// errdefs.ErrInvalid that names the file and line or the variable of each.
func Load(opts LoadOptions) (*Loaded, error) {
	file, searched, err := Find(opts)
	if err != nil {
		return nil, err
	}
	l := &Loaded{Config: Default(), File: file, Searched: searched, Sources: make(map[string]Source)}
	for _, k := range Keys() {
		l.Sources[k] = Source{Kind: SourceDefault}
	}
	var problems []error
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		problems = append(problems, loadFile(file, data, l.Config, l.Sources))
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	l.Warnings, err = applyEnv(env, l.Config, l.Sources)
	problems = append(problems, err, applyFlags(opts.Flags, l.Config, l.Sources))
	// Values that failed to parse kept their defaults, so what is left to
	// validate is what was set successfully.
	problems = append(problems, validate(l.Config, l.Sources))
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return l, nil
}
