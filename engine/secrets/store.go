package secrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/internal/fsutil"
	"github.com/budgie-sh/budgie/models"
)

// MaxSize is the largest secret value accepted, as Docker's 500 KiB.
const MaxSize = 500 << 10

// fileSuffix ends every sealed secret's file name; temporary files start
// with a dot, which names never do.
const fileSuffix = ".secret"

// nameRE is what a secret name looks like.
var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

// ValidName returns an error wrapping errdefs.ErrInvalid unless name is a
// valid secret name: a letter or digit, then up to 62 letters, digits, _ . -.
func ValidName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid secret name %q (use up to 63 letters, digits, _, . and -, starting with a letter or digit): %w",
			name, errdefs.ErrInvalid)
	}
	return nil
}

// Dir returns where the secrets of a data directory live.
func Dir(dataDir string) string { return filepath.Join(dataDir, "secrets") }

// Options configure a Store.
type Options struct {
	// Dir is the secrets directory (see Dir); required.
	Dir string
	// Passphrase supplies the passphrase wrapping the node key; nil means
	// none: a new key is stored unwrapped and a wrapped one cannot be opened.
	Passphrase PassphraseFunc
	// Containers lists every container, for UsedBy and for Remove's check;
	// nil means no container uses any secret.
	Containers func(ctx context.Context) ([]models.Container, error)
}

// Secret is what Budgie shows about a secret: never its value.
type Secret struct {
	// Name is the secret's name.
	Name string `json:"name"`
	// Size is the value's length in bytes.
	Size int `json:"size"`
	// Created is when it was created.
	Created time.Time `json:"created"`
	// Labels are the user's labels.
	Labels map[string]string `json:"labels,omitempty"`
	// UsedBy lists the containers whose bundles name it, sorted.
	UsedBy []string `json:"used_by"`
	// Error says why the file cannot be read, in listings; empty when it can.
	Error string `json:"error,omitempty"`
}

// Store is a node's secrets. It is safe for concurrent use, and within
// one process derives each key only once.
type Store struct {
	opts Options
	mu   sync.Mutex
	node *nodeKey
	keys map[string][]byte
}

// New returns a Store over opts.Dir; the directory and the node key are
// created on first use.
func New(opts Options) (*Store, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("secrets store needs a directory: %w", errdefs.ErrInvalid)
	}
	return &Store{opts: opts, keys: map[string][]byte{}}, nil
}

func (s *Store) path(name string) string { return filepath.Join(s.opts.Dir, name+fileSuffix) }

// CreateOptions tune Create.
type CreateOptions struct {
	// Labels are stored (and authenticated) with the secret.
	Labels map[string]string
}

// Create seals value as a new secret. An existing name is
// errdefs.ErrConflict; of concurrent creates of one name exactly one wins.
func (s *Store) Create(ctx context.Context, name string, value []byte, opts CreateOptions) (Secret, error) {
	if err := ValidName(name); err != nil {
		return Secret{}, err
	}
	switch {
	case len(value) == 0:
		return Secret{}, fmt.Errorf("secret %s: the value is empty: %w", name, errdefs.ErrInvalid)
	case len(value) > MaxSize:
		return Secret{}, fmt.Errorf("secret %s: the value has %d bytes, more than the %d allowed: %w", name, len(value), MaxSize, errdefs.ErrInvalid)
	}
	if _, err := os.Lstat(s.path(name)); err == nil {
		return Secret{}, s.exists(name)
	}
	key, params, err := s.sealingKey()
	if err != nil {
		return Secret{}, err
	}
	m := metadata{Name: name, Created: time.Now().UTC().Truncate(time.Millisecond), Size: len(value), Labels: opts.Labels}
	data, err := seal(key, params, m, value)
	if err != nil {
		return Secret{}, fmt.Errorf("seal secret %s: %w", name, err)
	}
	if err := writeNew(s.opts.Dir, s.path(name), data); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return Secret{}, s.exists(name)
		}
		return Secret{}, fmt.Errorf("store secret %s: %w", name, err)
	}
	return Secret{Name: name, Size: m.Size, Created: m.Created, Labels: m.Labels, UsedBy: []string{}}, nil
}

func (s *Store) exists(name string) error {
	return fmt.Errorf("secret %s exists already (remove it first: budgie secret rm %s): %w", name, name, errdefs.ErrConflict)
}

// List returns every secret sorted by name, read from the files' headers
// without decrypting them (so without the passphrase): Inspect
// authenticates. A file that cannot be parsed is listed with Error set.
func (s *Store) List(ctx context.Context) ([]Secret, error) {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("list secrets in %s: %w", s.opts.Dir, err)
	}
	users, err := s.users(ctx)
	if err != nil {
		return nil, err
	}
	out := []Secret{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), fileSuffix)
		if !ok || !e.Type().IsRegular() || ValidName(name) != nil {
			continue
		}
		sec := Secret{Name: name}
		if sl, err := s.read(name); err != nil {
			sec.Error = err.Error()
		} else {
			sec = fromMeta(sl.meta)
		}
		sec.UsedBy = usersOf(users, name, false)
		out = append(out, sec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inspect returns one secret's metadata after authenticating its file.
func (s *Store) Inspect(ctx context.Context, name string) (Secret, error) {
	value, sl, err := s.open(name)
	if err != nil {
		return Secret{}, err
	}
	clear(value)
	users, err := s.users(ctx)
	if err != nil {
		return Secret{}, err
	}
	sec := fromMeta(sl.meta)
	sec.UsedBy = usersOf(users, name, false)
	return sec, nil
}

// Reveal returns the value of secret name. Callers should clear it after use.
func (s *Store) Reveal(_ context.Context, name string) ([]byte, error) {
	value, _, err := s.open(name)
	return value, err
}

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Force removes a secret even while a running container uses it.
	Force bool
}

// Remove deletes a secret. One that a running container lists is refused
// (errdefs.ErrConflict) unless opts.Force.
func (s *Store) Remove(ctx context.Context, name string, opts RemoveOptions) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if _, err := os.Lstat(s.path(name)); err != nil {
		return notFound(name)
	}
	if !opts.Force {
		users, err := s.users(ctx)
		if err != nil {
			return err
		}
		if running := usersOf(users, name, true); len(running) > 0 {
			return fmt.Errorf("secret %s is in use by running container(s) %s (stop them first, or use -f): %w",
				name, strings.Join(running, ", "), errdefs.ErrConflict)
		}
	}
	if err := os.Remove(s.path(name)); err != nil {
		if os.IsNotExist(err) {
			return notFound(name)
		}
		return fmt.Errorf("remove secret %s: %w", name, err)
	}
	return fsutil.SyncDir(s.opts.Dir)
}

func notFound(name string) error {
	return fmt.Errorf("no such secret: %s (see: budgie secret ls; create it: budgie secret create %s FILE): %w",
		name, name, errdefs.ErrNotFound)
}

func fromMeta(m metadata) Secret {
	return Secret{Name: m.Name, Size: m.Size, Created: m.Created, Labels: m.Labels}
}

// read reads and parses the file of name, without decrypting it.
func (s *Store) read(name string) (sealed, error) {
	if err := ValidName(name); err != nil {
		return sealed{}, err
	}
	data, err := os.ReadFile(s.path(name))
	if os.IsNotExist(err) {
		return sealed{}, notFound(name)
	}
	if err != nil {
		return sealed{}, fmt.Errorf("read secret %s: %w", name, err)
	}
	sl, err := parse(data)
	if err != nil {
		return sealed{}, fmt.Errorf("secret %s (%s): %w", name, s.path(name), err)
	}
	return sl, nil
}

// open reads, authenticates and decrypts the file of name.
func (s *Store) open(name string) ([]byte, sealed, error) {
	sl, err := s.read(name)
	if err != nil {
		return nil, sealed{}, err
	}
	key, err := s.dataKey(sl.params)
	if err != nil {
		return nil, sealed{}, err
	}
	value, err := sl.open(key, name)
	if err != nil {
		return nil, sealed{}, fmt.Errorf("secret %s (%s): %w", name, s.path(name), err)
	}
	return value, sl, nil
}

// users maps each secret name to the containers listing it.
func (s *Store) users(ctx context.Context) (map[string][]models.Container, error) {
	out := map[string][]models.Container{}
	if s.opts.Containers == nil {
		return out, nil
	}
	cs, err := s.opts.Containers(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the containers using secrets: %w", err)
	}
	for _, c := range cs {
		for _, name := range c.Spec.Secrets {
			out[name] = append(out[name], c)
		}
	}
	return out, nil
}

// usersOf returns the sorted names of the containers listing name (only
// running or paused ones when running is set).
func usersOf(users map[string][]models.Container, name string, running bool) []string {
	out := []string{}
	for _, c := range users[name] {
		if !running || c.State == models.StateRunning || c.State == models.StatePaused || c.State == models.StateRestarting {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}
