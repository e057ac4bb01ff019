package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
)

// MaxFile bounds the size of a compose file, as engine/bundle bounds a bundle's.
const MaxFile = 4 << 20

// LoadOptions tune Load.
type LoadOptions struct {
	// Env is the environment, as KEY=VALUE, that ${VAR} is interpolated
	// from and that COMPOSE_PROJECT_NAME and COMPOSE_PROFILES are read
	// from; the .env file in the compose file's directory fills in what
	// it does not set, as with docker compose. nil means the process's
	// own environment.
	Env []string
}

// Source is a loaded compose file.
type Source struct {
	// File is the path as given, used in messages.
	File string
	// Dir is the absolute project directory: the compose file's.
	Dir string
	// Project is compose-go's model: interpolated, normalised, with
	// extends, include and profiles applied and env files read.
	Project *types.Project

	lines *lines
}

// IsCompose reports whether data is a compose file rather than a bundle:
// YAML whose top level is a map with a services: key (a bundle never has
// one) and no containers: key.
func IsCompose(data []byte) bool {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return false
	}
	top := deref(&doc)
	if top != nil && top.Kind == yaml.DocumentNode && len(top.Content) > 0 {
		top = deref(top.Content[0])
	}
	if top == nil || top.Kind != yaml.MappingNode {
		return false
	}
	services, containers := false, false
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "services":
			services = true
		case "containers":
			containers = true
		}
	}
	return services && !containers
}

// ReadFile reads a compose or bundle file of at most MaxFile bytes; a
// missing file is errdefs.ErrNotFound.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s does not exist (check the path): %w: %w", path, errdefs.ErrNotFound, err)
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: %w", path, errdefs.ErrInvalid)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxFile {
		return nil, fmt.Errorf("%s is larger than %d MiB: %w", path, MaxFile>>20, errdefs.ErrInvalid)
	}
	return data, nil
}

// Load reads and loads the compose file at path as docker compose would
// with `-f path` (no override file is added). A file compose-go refuses
// fails with a *bundle.Error (errdefs.ErrInvalid) naming the file and,
// where the message names a field, its line. The other files compose-go
// reads (.env, env_file, label_file, include, extends) are checked first:
// each must be a regular file of at most 1 MiB, 16 MiB in all, so that a
// FIFO, a device or a huge file is refused at the field that names it
// rather than read.
func Load(ctx context.Context, path string, opts LoadOptions) (*Source, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read compose file %s: %w", path, err)
	}
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	dir := filepath.Dir(abs)
	l := newLines(data)
	check := newFileCheck(env)
	if check.check(path, ".env", filepath.Join(dir, ".env"), nil) {
		if vars, err := dotenv.GetEnvFromFile(check.env, []string{filepath.Join(dir, ".env")}); err == nil {
			for k, v := range vars {
				if _, set := check.env[k]; !set {
					check.env[k] = v
				}
			}
		}
	}
	check.scan(path, dir, l.root, 0)
	if err := check.err(); err != nil {
		return nil, err
	}
	po, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
		cli.WithDiscardEnvFile,
		// env_file and label_file are read below, once checked.
		cli.WithoutEnvironmentResolution,
		cli.WithoutLabelsResolution,
	)
	if err != nil {
		return nil, loadError(path, l, err)
	}
	project, err := po.LoadProject(ctx)
	if err != nil {
		return nil, loadError(path, l, err)
	}
	check.checkProject(path, l, project)
	if err := check.err(); err != nil {
		return nil, err
	}
	if project, err = project.WithServicesEnvironmentResolved(true); err != nil {
		return nil, loadError(path, l, err)
	}
	if project, err = project.WithServicesLabelsResolved(false); err != nil {
		return nil, loadError(path, l, err)
	}
	return &Source{File: path, Dir: dir, Project: project, lines: l}, nil
}

// Patterns of compose-go's messages: the schema's ("validating FILE:
// services.web.imagee false schema", "… must be a string") and the
// loader's, which name a service.
var (
	validating       = regexp.MustCompile(`^validating [^:]*: `)
	schemaMessage    = regexp.MustCompile(`^((?:services|networks|volumes|secrets|configs)(?:\.[A-Za-z0-9_.-]+)*) (.+)$`)
	serviceInMessage = regexp.MustCompile(`service "([^"]+)"`)
)

// loadError turns an error of compose-go into a problem of the file, at
// the line of the field it names when it names one.
func loadError(file string, l *lines, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := validating.ReplaceAllString(err.Error(), "")
	p := bundle.Problem{File: file, Message: "invalid compose file: " + msg,
		Hint: "docs/interop.md says what Budgie reads; docker compose config shows how compose reads it"}
	if m := schemaMessage.FindStringSubmatch(msg); m != nil {
		p.Field, p.Message = dotIndexes(m[1]), m[2]
		if m[2] == "false schema" {
			key := m[1][strings.LastIndexByte(m[1], '.')+1:]
			p.Message, p.Hint = fmt.Sprintf("unknown field %q", key), unknownHint(p.Field, key)
		}
	} else if m := serviceInMessage.FindStringSubmatch(msg); m != nil {
		p.Field = "services." + m[1]
	}
	if p.Field != "" {
		p.Line, p.Column = l.find(p.Field)
	}
	return &bundle.Error{Problems: []bundle.Problem{p}}
}

// unknownHint suggests the service field closest to a misspelt one.
func unknownHint(field, key string) string {
	if strings.Count(field, ".") == 2 && strings.HasPrefix(field, "services.") {
		best, dist := "", 3
		for name := range serviceRules {
			if d := editDistance(key, name); d < dist || (d == dist && name < best) {
				best, dist = name, d
			}
		}
		if best != "" {
			return "did you mean " + best + "?"
		}
	}
	return "check the spelling against the compose specification (docs/interop.md lists the fields)"
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// dotIndexes writes compose-go's "ports.0" as "ports[0]".
func dotIndexes(field string) string {
	parts := strings.Split(field, ".")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i > 0 && isDigits(p):
			b.WriteString("[" + p + "]")
		case i > 0:
			b.WriteString("." + p)
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
