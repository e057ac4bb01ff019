package bundle

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// maxEnvFile bounds the size of an env file.
const maxEnvFile = 1 << 20

// labelPrefix starts Budgie's own container labels, which users may not set.
const labelPrefix = "budgie."

// env decodes env: a list of KEY=VALUE or a map.
func (c *container) env(field string, v *yaml.Node) {
	c.keyValues(v, field, "a list of KEY=VALUE or a map", func(key, val string, n *yaml.Node, f string) {
		if !validEnvKey(key) {
			c.report(n, f, "a name has no spaces, no = and is not empty", "invalid variable name %q", key)
			return
		}
		if first, dup := c.envSeen[key]; dup {
			c.report(n, f, "", "%s is set twice (first at line %d)", key, first.Line)
			return
		}
		c.envSeen[key] = n
		c.bundleEnv = append(c.bundleEnv, key+"="+val)
	})
}

// labels decodes labels: a map or a list of KEY=VALUE.
func (c *container) labels(field string, v *yaml.Node) {
	c.keyValues(v, field, "a map or a list of KEY=VALUE", func(key, val string, n *yaml.Node, f string) {
		switch {
		case key == "":
			c.report(n, f, "", "a label needs a key")
			return
		case strings.HasPrefix(key, labelPrefix):
			c.report(n, f, "the budgie. prefix is reserved for Budgie's own labels", "label %q is reserved", key)
			return
		case len(key)+len(val) > 4000:
			c.report(n, f, "", "label %q is too long (key and value at most 4000 bytes)", key)
			return
		case c.hasLabel(key):
			c.report(n, f, "", "label %q is set twice", key)
			return
		}
		if c.spec.Labels == nil {
			c.spec.Labels = map[string]string{}
		}
		c.spec.Labels[key] = val
	})
}

func (c *container) hasLabel(key string) bool {
	_, ok := c.spec.Labels[key]
	return ok
}

// keyValues walks a list of KEY=VALUE strings or a map of scalars, calling
// add for each pair with the node and field path to report problems at.
func (c *container) keyValues(v *yaml.Node, field, want string, add func(key, val string, n *yaml.Node, f string)) {
	r := resolve(v)
	switch {
	case r != nil && r.Kind == yaml.SequenceNode:
		for i, item := range r.Content {
			f := index(field, i)
			c.mark(f, item)
			s, ok := c.str(item, f)
			if !ok {
				continue
			}
			key, val, found := strings.Cut(s, "=")
			if !found {
				c.report(item, f, "write KEY=VALUE", "%q has no =", s)
				continue
			}
			add(key, val, item, f)
		}
	case r != nil && r.Kind == yaml.MappingNode:
		ps, _ := c.pairs(v, field)
		for _, p := range ps {
			f := join(field, p.key)
			c.mark(f, p.k)
			val := ""
			if !isNull(p.v) {
				s, ok := c.str(p.v, f)
				if !ok {
					continue
				}
				val = s
			}
			add(p.key, val, p.k, f)
		}
	default:
		c.wrongType(v, field, want)
	}
}

func validEnvKey(key string) bool {
	return key != "" && !strings.ContainsAny(key, "= \t\r\n\x00")
}

// envFile decodes env_file: one path or a list, each relative to the
// bundle's directory. Later files win over earlier ones.
func (c *container) envFile(field string, v *yaml.Node) {
	r := resolve(v)
	if r == nil || r.Kind != yaml.SequenceNode {
		if s, ok := c.str(v, field); ok {
			c.readEnvFile(s, v, field)
		}
		return
	}
	for i, item := range r.Content {
		f := index(field, i)
		c.mark(f, item)
		if s, ok := c.str(item, f); ok {
			c.readEnvFile(s, item, f)
		}
	}
}

func (c *container) readEnvFile(p string, n *yaml.Node, field string) {
	if p == "" {
		c.report(n, field, "", "env file path is empty")
		return
	}
	full, shown := p, p
	if !filepath.IsAbs(p) {
		full = filepath.Join(c.p.dir, p)
		shown = filepath.Join(filepath.Dir(c.p.file), p)
	}
	env, err := parseEnvFile(full, shown)
	var berr *Error
	switch {
	case err == nil:
		c.fileEnv = mergeEnv(c.fileEnv, env)
	case errors.As(err, &berr):
		*c.problems = append(*c.problems, berr.Problems...)
	case errors.Is(err, fs.ErrNotExist):
		hint := "env_file paths are relative to the bundle's directory"
		if filepath.IsAbs(p) {
			hint = ""
		}
		c.report(n, field, hint, "env file %s does not exist", shown)
	default:
		c.report(n, field, "", "%s", strings.TrimSuffix(err.Error(), ": "+errdefs.ErrInvalid.Error()))
	}
}

// mergeEnv merges KEY=VALUE lists: a later value for a key replaces the
// earlier one in its place, so the order stays that of first appearance.
func mergeEnv(lists ...[]string) []string {
	var out []string
	at := map[string]int{}
	for _, list := range lists {
		for _, kv := range list {
			key, _, _ := strings.Cut(kv, "=")
			if i, seen := at[key]; seen {
				out[i] = kv
				continue
			}
			at[key] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// ParseEnvFile reads an env file: KEY=VALUE lines, blank lines and lines
// starting with # are skipped, an "export " prefix is allowed, a value may be
// wrapped in single or double quotes, and an unquoted value ends at " #". A
// key set twice takes its last value. It returns the pairs as KEY=VALUE in
// file order, or an *Error naming each bad line.
func ParseEnvFile(path string) ([]string, error) {
	return parseEnvFile(path, path)
}

// parseEnvFile reads path, naming it shown in problems.
func parseEnvFile(path, shown string) ([]string, error) {
	data, err := readRegular(path, maxEnvFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read env file %s: %w: %w", shown, errdefs.ErrNotFound, err)
	case errors.Is(err, errdefs.ErrInvalid):
		return nil, fmt.Errorf("env file %s %w", shown, err)
	case err != nil:
		return nil, fmt.Errorf("read env file %s: %w", shown, err)
	}
	return parseEnv(string(data), shown)
}

// readRegular reads a regular file of at most limit bytes. It checks the
// file's type before opening it, so that a FIFO or device cannot block.
func readRegular(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file: %w", errdefs.ErrInvalid)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("is larger than %s: %w", formatSize(limit), errdefs.ErrInvalid)
	}
	return data, nil
}

// parseEnv parses the text of an env file named file.
func parseEnv(text, file string) ([]string, error) {
	var env []string
	var problems []Problem
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), maxEnvFile+1)
	for line := 1; sc.Scan(); line++ {
		kv, p := parseEnvLine(sc.Text())
		if p != nil {
			p.File, p.Line = file, line
			problems = append(problems, *p)
			continue
		}
		if kv != "" {
			env = mergeEnv(env, []string{kv})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read env file %s: %w", file, err)
	}
	if err := newError(file, problems); err != nil {
		return nil, err
	}
	return env, nil
}

// parseEnvLine parses one line: "" for blank and comment lines.
func parseEnvLine(raw string) (string, *Problem) {
	s := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
	if s == "" || strings.HasPrefix(s, "#") {
		return "", nil
	}
	indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
	if rest, ok := strings.CutPrefix(s, "export "); ok {
		s = strings.TrimLeft(rest, " \t")
	}
	key, val, found := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !found {
		return "", &Problem{Column: indent + 1, Message: fmt.Sprintf("%q has no =", s), Hint: "write KEY=VALUE"}
	}
	if !validEnvKey(key) {
		return "", &Problem{Column: indent + 1, Message: fmt.Sprintf("invalid variable name %q", key)}
	}
	val, err := envValue(strings.TrimSpace(val))
	if err != "" {
		return "", &Problem{Column: indent + 1, Field: key, Message: err}
	}
	return key + "=" + val, nil
}

// envValue unquotes a value: '…' is literal, "…" knows \n, \t, \" and \\,
// and an unquoted value ends before " #".
func envValue(v string) (string, string) {
	if len(v) > 0 && (v[0] == '\'' || v[0] == '"') {
		q := v[0]
		end := closingQuote(v, q)
		if end < 0 {
			return "", "unterminated quote"
		}
		if rest := strings.TrimSpace(v[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return "", fmt.Sprintf("unexpected %q after the closing quote", rest)
		}
		if q == '\'' {
			return v[1:end], ""
		}
		return unescapeDouble(v[1:end]), ""
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v, ""
}

// closingQuote returns the index of the quote that closes v[0], or -1.
func closingQuote(v string, q byte) int {
	for i := 1; i < len(v); i++ {
		switch {
		case q == '"' && v[i] == '\\':
			i++
		case v[i] == q:
			return i
		}
	}
	return -1
}

func unescapeDouble(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '"', '\\':
			b.WriteByte(s[i])
		default:
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
