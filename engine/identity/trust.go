package identity

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// TrustFile is the trust store's file under the data directory (0600).
const TrustFile = "trust.json"

// Default caps on remembered strangers, so that a flood of made-up
// certificates cannot grow the trust store without bound.
const (
	DefaultMaxPending = 64
	DefaultMaxDenied  = 256
	maxNameLen        = 64
	maxAddrLen        = 128
)

// TrustStoreOptions configures OpenTrustStore.
type TrustStoreOptions struct {
	// Logger receives refused handshakes and unreadable stores; nil
	// discards them.
	Logger *slog.Logger
	// MaxPending caps pending requests (the oldest are dropped); 0 means
	// DefaultMaxPending.
	MaxPending int
	// MaxDenied caps remembered denials (the oldest are forgotten); 0
	// means DefaultMaxDenied.
	MaxDenied int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// PendingRequest is one connection attempt by an untrusted node.
type PendingRequest struct {
	// ID is the node's ID (its certificate's hash).
	ID ID
	// Name is the name its certificate claims; it is cleaned of control
	// characters and shortened before it is stored.
	Name string
	// Address is where the attempt came from (host:port).
	Address string
	// Time is when it happened; zero means now.
	Time time.Time
}

// TrustStore is the node's list of trusted, pending and denied peers,
// kept in data_dir/trust.json. Changes take a lock on trust.json.lock and
// replace the file atomically, so the CLI and a running keeper can share
// it; IsTrusted notices another process's changes. It is safe for
// concurrent use.
type TrustStore struct {
	path     string
	lockPath string
	opts     TrustStoreOptions
	log      *slog.Logger

	mu      sync.Mutex
	stamp   fileStamp
	trusted map[ID]models.TrustedPeer

	attempts attemptThrottle
}

// OpenTrustStore opens the trust store in dataDir, creating the directory
// if needed; a missing file is an empty store.
func OpenTrustStore(dataDir string, opts TrustStoreOptions) (*TrustStore, error) {
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.MaxDenied <= 0 {
		opts.MaxDenied = DefaultMaxDenied
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, fmt.Errorf("create data directory %s for the trust store: %w", dataDir, err)
	}
	s := &TrustStore{
		path:     filepath.Join(dataDir, TrustFile),
		lockPath: filepath.Join(dataDir, TrustFile+".lock"),
		opts:     opts,
		log:      log,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// IsTrusted reports whether id may connect. It re-reads the file when
// another process changed it, and answers false when it cannot be read.
func (s *TrustStore) IsTrusted(id ID) bool {
	_, ok := s.Lookup(id)
	return ok
}

// Lookup returns the trusted peer with id, if it is trusted.
func (s *TrustStore) Lookup(id ID) (models.TrustedPeer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refreshLocked(); err != nil {
		s.log.Error("trust store unreadable; refusing every peer", "path", s.path, "err", err)
		s.trusted, s.stamp = nil, fileStamp{}
		return models.TrustedPeer{}, false
	}
	p, ok := s.trusted[id]
	return p, ok
}

// List returns the store's contents, each list sorted by name then ID.
func (s *TrustStore) List(ctx context.Context) (models.TrustList, error) {
	f, _, err := readTrustFile(s.path)
	if err != nil {
		return models.TrustList{}, err
	}
	l := f.TrustList
	if l.Trusted == nil {
		l.Trusted = []models.TrustedPeer{}
	}
	if l.Pending == nil {
		l.Pending = []models.PendingPeer{}
	}
	if l.Denied == nil {
		l.Denied = []models.DeniedPeer{}
	}
	slices.SortFunc(l.Trusted, func(a, b models.TrustedPeer) int { return cmpNameID(a.Name, a.ID, b.Name, b.ID) })
	slices.SortFunc(l.Pending, func(a, b models.PendingPeer) int { return cmpNameID(a.Name, a.ID, b.Name, b.ID) })
	slices.SortFunc(l.Denied, func(a, b models.DeniedPeer) int { return cmpNameID(a.Name, a.ID, b.Name, b.ID) })
	return l, nil
}

// Trust adds id to the trusted peers under name (empty: the name it
// claimed in a pending request), dropping any pending request or denial.
// Trusting a trusted peer again only renames it.
func (s *TrustStore) Trust(ctx context.Context, id ID, name string) error {
	if id.IsZero() {
		return fmt.Errorf("trust a node: the zero ID is no node's: %w", errdefs.ErrInvalid)
	}
	key, name := id.String(), cleanText(name, maxNameLen)
	s.attempts.forget(id)
	return s.update(ctx, func(f *trustFile) error {
		if i := f.trustedIndex(key); i >= 0 {
			if name != "" {
				f.Trusted[i].Name = name
			}
			return nil
		}
		if name == "" {
			name = f.claimedName(key)
		}
		f.removePending(key)
		f.removeDenied(key)
		f.Trusted = append(f.Trusted, models.TrustedPeer{ID: key, Name: name, Added: s.opts.Now().UTC()})
		return nil
	})
}

// Untrust forgets id entirely: it is no longer trusted, pending or
// denied, so its next attempt shows up as pending again. It fails with
// errdefs.ErrNotFound when the store does not know id.
func (s *TrustStore) Untrust(ctx context.Context, id ID) error {
	key := id.String()
	s.attempts.forget(id)
	return s.update(ctx, func(f *trustFile) error {
		i := f.trustedIndex(key)
		if i >= 0 {
			f.Trusted = slices.Delete(f.Trusted, i, i+1)
		}
		pending, denied := f.removePending(key), f.removeDenied(key)
		if i < 0 && !pending && !denied {
			return fmt.Errorf("node %s is not in the trust store (see budgie trust ls): %w", id.Short(), errdefs.ErrNotFound)
		}
		return nil
	})
}

// Deny drops id's pending request and remembers the denial, so that its
// later attempts are refused without being listed as pending (until
// Trust or Untrust). Denying a trusted peer fails with
// errdefs.ErrConflict: untrust it first.
func (s *TrustStore) Deny(ctx context.Context, id ID) error {
	key := id.String()
	s.attempts.forget(id)
	return s.update(ctx, func(f *trustFile) error {
		if f.trustedIndex(key) >= 0 {
			return fmt.Errorf("node %s is trusted; untrust it first (budgie trust rm %s): %w", id.Short(), key, errdefs.ErrConflict)
		}
		if slices.ContainsFunc(f.Denied, func(d models.DeniedPeer) bool { return d.ID == key }) {
			return nil
		}
		name := f.claimedName(key)
		f.removePending(key)
		f.Denied = append(f.Denied, models.DeniedPeer{ID: key, Name: name, Denied: s.opts.Now().UTC()})
		if over := len(f.Denied) - s.opts.MaxDenied; over > 0 {
			slices.SortFunc(f.Denied, func(a, b models.DeniedPeer) int { return a.Denied.Compare(b.Denied) })
			f.Denied = slices.Delete(f.Denied, 0, over)
		}
		return nil
	})
}

// RecordPending notes an attempt by an untrusted node: a new pending
// request, or one more on an existing one. Attempts by trusted or denied
// nodes are not recorded. A repeated attempt (same node, name and host) is
// written at most once a minute, and new requests at most 60 a minute, so
// a flood of handshakes does not keep rewriting trust.json; the pending
// list keeps at most MaxPending requests (the oldest are dropped).
func (s *TrustStore) RecordPending(ctx context.Context, req PendingRequest) error {
	_, err := s.recordPending(ctx, req)
	return err
}

// pendingOutcome is what recordPending did.
type pendingOutcome int

const (
	pendingNew pendingOutcome = iota
	pendingRepeat
	pendingDenied
	pendingTrusted
	pendingThrottled // not written: a like attempt was, moments ago
)

func (s *TrustStore) recordPending(ctx context.Context, req PendingRequest) (pendingOutcome, error) {
	key := req.ID.String()
	at := req.Time
	if at.IsZero() {
		at = s.opts.Now()
	}
	at = at.UTC()
	name, addr := cleanText(req.Name, maxNameLen), cleanText(req.Address, maxAddrLen)
	now := s.opts.Now()
	if outcome, ok := s.attempts.recent(req.ID, name, addr, now); ok {
		return outcome, nil
	}
	outcome := pendingNew
	err := s.update(ctx, func(f *trustFile) error {
		if f.trustedIndex(key) >= 0 {
			outcome = pendingTrusted
			return errUnchanged
		}
		if slices.ContainsFunc(f.Denied, func(d models.DeniedPeer) bool { return d.ID == key }) {
			outcome = pendingDenied
			return errUnchanged
		}
		if i := slices.IndexFunc(f.Pending, func(p models.PendingPeer) bool { return p.ID == key }); i >= 0 {
			p := &f.Pending[i]
			p.Name, p.Address, p.LastSeen, p.Count = name, addr, at, p.Count+1
			outcome = pendingRepeat
			return nil
		}
		f.Pending = append(f.Pending, models.PendingPeer{ID: key, Name: name, Address: addr, FirstSeen: at, LastSeen: at, Count: 1})
		if over := len(f.Pending) - s.opts.MaxPending; over > 0 {
			slices.SortFunc(f.Pending, func(a, b models.PendingPeer) int { return a.LastSeen.Compare(b.LastSeen) })
			f.Pending = slices.Delete(f.Pending, 0, over)
		}
		return nil
	})
	if err == nil && outcome != pendingTrusted {
		s.attempts.remember(req.ID, name, addr, now, outcome)
	}
	return outcome, err
}

// Find resolves what a person typed — a full ID, or a unique prefix of at
// least four characters of one the store knows (trusted, pending or
// denied) — to an ID. It fails with errdefs.ErrNotFound, ErrAmbiguous or
// ErrInvalid. Never trust by prefix: Trust wants a full ID.
func (s *TrustStore) Find(ctx context.Context, typed string) (ID, error) {
	if id, err := ParseID(typed); err == nil {
		return id, nil
	}
	prefix := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(typed), "-", ""))
	if len(prefix) < 4 {
		return ID{}, fmt.Errorf("node ID %q is too short (give at least 4 characters, or the full ID): %w", typed, errdefs.ErrInvalid)
	}
	l, err := s.List(ctx)
	if err != nil {
		return ID{}, err
	}
	var found []string
	for _, id := range allIDs(l) {
		if strings.HasPrefix(strings.ReplaceAll(id, "-", ""), prefix) && !slices.Contains(found, id) {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 0:
		return ID{}, fmt.Errorf("no node ID starting with %q in the trust store (see budgie trust ls): %w", typed, errdefs.ErrNotFound)
	case 1:
		return ParseID(found[0])
	}
	return ID{}, fmt.Errorf("node ID prefix %q matches %d nodes (give more characters): %w", typed, len(found), errdefs.ErrAmbiguous)
}

// cleanText drops control and other unprintable characters (a peer's
// certificate name could carry terminal escapes) and caps the length.
func cleanText(s string, limit int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len(s) > limit {
		cut := 0
		for i := range s { // i steps over rune starts
			if i > limit {
				break
			}
			cut = i
		}
		s = s[:cut]
	}
	return strings.TrimSpace(s)
}

func cmpNameID(an, aid, bn, bid string) int {
	if c := strings.Compare(an, bn); c != 0 {
		return c
	}
	return strings.Compare(aid, bid)
}
