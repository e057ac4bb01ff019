package identity

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openStore(t *testing.T, dir string, opts TrustStoreOptions) *TrustStore {
	t.Helper()
	s, err := OpenTrustStore(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func list(t *testing.T, s *TrustStore) models.TrustList {
	t.Helper()
	l, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestTrustPersistsWithPrivateFiles(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openStore(t, dir, TrustStoreOptions{Now: c.now})
	a, b := randomID(), randomID()
	if s.IsTrusted(a) {
		t.Fatal("an empty store trusts a node")
	}
	if err := s.Trust(t.Context(), a, "attic"); err != nil {
		t.Fatal(err)
	}
	if !s.IsTrusted(a) || s.IsTrusted(b) {
		t.Fatalf("IsTrusted(a) = %v, IsTrusted(b) = %v", s.IsTrusted(a), s.IsTrusted(b))
	}
	for _, name := range []string{TrustFile, TrustFile + ".lock"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v; want 0600", name, info.Mode().Perm(), err)
		}
	}
	reopened := openStore(t, dir, TrustStoreOptions{})
	l := list(t, reopened)
	want := models.TrustedPeer{ID: a.String(), Name: "attic", Added: c.t}
	if len(l.Trusted) != 1 || l.Trusted[0] != want || len(l.Pending) != 0 || len(l.Denied) != 0 {
		t.Fatalf("reopened store lists %+v, want only %+v", l, want)
	}
	if p, ok := reopened.Lookup(a); !ok || p.Name != "attic" {
		t.Fatalf("Lookup = %+v, %v", p, ok)
	}
	// Trusting again renames and keeps the date.
	c.t = c.t.Add(time.Hour)
	if err := s.Trust(t.Context(), a, "loft"); err != nil {
		t.Fatal(err)
	}
	if l := list(t, reopened); len(l.Trusted) != 1 || l.Trusted[0].Name != "loft" || !l.Trusted[0].Added.Equal(want.Added) {
		t.Fatalf("after renaming: %+v", l.Trusted)
	}
	if err := s.Untrust(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if reopened.IsTrusted(a) || len(list(t, reopened).Trusted) != 0 {
		t.Fatal("untrusted node still trusted")
	}
	if err := s.Untrust(t.Context(), a); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Untrust(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Trust(t.Context(), ID{}, "zero"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Trust(zero ID) = %v, want ErrInvalid", err)
	}
}

func TestPendingRequests(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openStore(t, dir, TrustStoreOptions{Now: c.now})
	ctx := t.Context()
	p := randomID()
	first := c.t
	if err := s.RecordPending(ctx, PendingRequest{ID: p, Name: "kitchen", Address: "10.0.0.7:40000"}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Minute)
	if err := s.RecordPending(ctx, PendingRequest{ID: p, Name: "kitchen\x1b[31m", Address: "10.0.0.8:40001"}); err != nil {
		t.Fatal(err)
	}
	want := models.PendingPeer{ID: p.String(), Name: "kitchen[31m", Address: "10.0.0.8:40001", FirstSeen: first, LastSeen: c.t, Count: 2}
	if l := list(t, openStore(t, dir, TrustStoreOptions{})); len(l.Pending) != 1 || l.Pending[0] != want {
		t.Fatalf("pending = %+v, want %+v", l.Pending, want)
	}
	if s.IsTrusted(p) {
		t.Fatal("a pending node is trusted")
	}
	// Trusting takes the claimed name and drops the request.
	if err := s.Trust(ctx, p, ""); err != nil {
		t.Fatal(err)
	}
	l := list(t, s)
	if len(l.Pending) != 0 || len(l.Trusted) != 1 || l.Trusted[0].Name != "kitchen[31m" {
		t.Fatalf("after trusting: %+v", l)
	}
	// A trusted node's attempts are not pending.
	if err := s.RecordPending(ctx, PendingRequest{ID: p}); err != nil || len(list(t, s).Pending) != 0 {
		t.Fatalf("recording a trusted node: %v, %+v", err, list(t, s).Pending)
	}
}

func TestDeny(t *testing.T) {
	s := openStore(t, t.TempDir(), TrustStoreOptions{})
	ctx := t.Context()
	p, trusted := randomID(), randomID()
	if err := s.RecordPending(ctx, PendingRequest{ID: p, Name: "stranger"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Deny(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPending(ctx, PendingRequest{ID: p, Name: "stranger"}); err != nil {
		t.Fatal(err)
	}
	l := list(t, s)
	if len(l.Pending) != 0 || len(l.Denied) != 1 || l.Denied[0].ID != p.String() || l.Denied[0].Name != "stranger" {
		t.Fatalf("after deny and a new attempt: %+v", l)
	}
	if s.IsTrusted(p) {
		t.Fatal("a denied node is trusted")
	}
	if err := s.Trust(ctx, trusted, "friend"); err != nil {
		t.Fatal(err)
	}
	if err := s.Deny(ctx, trusted); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("Deny(trusted) = %v, want ErrConflict", err)
	}
	// Untrust forgets a denial: the next attempt is pending again.
	if err := s.Untrust(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPending(ctx, PendingRequest{ID: p}); err != nil {
		t.Fatal(err)
	}
	if l := list(t, s); len(l.Denied) != 0 || len(l.Pending) != 1 {
		t.Fatalf("after forgetting the denial: %+v", l)
	}
	// Trusting a denied node lifts the denial.
	if err := s.Deny(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.Trust(ctx, p, ""); err != nil || !s.IsTrusted(p) || len(list(t, s).Denied) != 0 {
		t.Fatalf("trusting a denied node: %v, %+v", err, list(t, s))
	}
}

func TestStrangersAreCapped(t *testing.T) {
	c := &clock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := openStore(t, t.TempDir(), TrustStoreOptions{MaxPending: 3, MaxDenied: 2, Now: c.now})
	var ids []ID
	for range 5 {
		c.t = c.t.Add(time.Second)
		id := randomID()
		ids = append(ids, id)
		if err := s.RecordPending(t.Context(), PendingRequest{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	l := list(t, s)
	if len(l.Pending) != 3 {
		t.Fatalf("%d pending, want the cap of 3", len(l.Pending))
	}
	for _, p := range l.Pending {
		if p.ID == ids[0].String() || p.ID == ids[1].String() {
			t.Fatalf("the oldest requests were kept: %+v", l.Pending)
		}
	}
	for _, id := range ids[2:] {
		c.t = c.t.Add(time.Second)
		if err := s.Deny(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	if l := list(t, s); len(l.Denied) != 2 || l.Denied[0].ID == ids[2].String() || l.Denied[1].ID == ids[2].String() {
		t.Fatalf("denied = %+v, want the 2 newest", l.Denied)
	}
}

// TestTrustSeesOtherWriters: a keeper's store notices the CLI's changes.
func TestTrustSeesOtherWriters(t *testing.T) {
	dir := t.TempDir()
	keeper, cli := openStore(t, dir, TrustStoreOptions{}), openStore(t, dir, TrustStoreOptions{})
	id := randomID()
	if keeper.IsTrusted(id) {
		t.Fatal("trusted before anyone trusted it")
	}
	if err := cli.Trust(t.Context(), id, "n"); err != nil {
		t.Fatal(err)
	}
	if !keeper.IsTrusted(id) {
		t.Fatal("keeper does not see the CLI's trust")
	}
	if err := cli.Untrust(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if keeper.IsTrusted(id) {
		t.Fatal("keeper does not see the CLI's untrust")
	}
}

func TestTrustConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	stores := []*TrustStore{openStore(t, dir, TrustStoreOptions{}), openStore(t, dir, TrustStoreOptions{})}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() { errs <- stores[i%2].Trust(context.Background(), randomID(), "") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(list(t, stores[0]).Trusted); n != 40 {
		t.Fatalf("%d trusted after 40 concurrent Trust calls", n)
	}
}

func TestTrustConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	startHelpers(t, 4, "trust", dir)
	if n := len(list(t, openStore(t, dir, TrustStoreOptions{})).Trusted); n != 40 {
		t.Fatalf("%d trusted after 4 processes added 10 each", n)
	}
}

func TestTrustLockHonoursContext(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, TrustStoreOptions{})
	unlock, err := lockFile(t.Context(), filepath.Join(dir, TrustFile+".lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Trust(ctx, randomID(), ""); !errors.Is(err, errdefs.ErrUnavailable) {
		t.Fatalf("Trust while locked = %v, want ErrUnavailable", err)
	}
}

func TestCorruptTrustStoreTrustsNobody(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, TrustStoreOptions{})
	id := randomID()
	if err := s.Trust(t.Context(), id, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, TrustFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s.IsTrusted(id) {
		t.Fatal("a corrupt store still trusts")
	}
	if _, err := s.List(t.Context()); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("List = %v, want ErrInvalid", err)
	}
	if err := s.Trust(t.Context(), id, ""); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Trust on a corrupt store = %v, want ErrInvalid (never overwrite it)", err)
	}
	if _, err := OpenTrustStore(dir, TrustStoreOptions{}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("OpenTrustStore = %v, want ErrInvalid", err)
	}
}

func TestFind(t *testing.T) {
	s := openStore(t, t.TempDir(), TrustStoreOptions{})
	a, b := randomID(), randomID()
	for a.String()[:4] == b.String()[:4] {
		b = randomID()
	}
	if err := s.Trust(t.Context(), a, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPending(t.Context(), PendingRequest{ID: b}); err != nil {
		t.Fatal(err)
	}
	unknown := randomID()
	tests := []struct {
		name  string
		typed string
		want  ID
		err   error
	}{
		{"full", a.String(), a, nil},
		{"full unknown", unknown.String(), unknown, nil},
		{"short", a.Short(), a, nil},
		{"lower prefix", strings.ToLower(b.String()[:5]), b, nil},
		{"dashed prefix", b.String()[:10], b, nil},
		{"too short", a.String()[:3], ID{}, errdefs.ErrInvalid},
		{"no match", "2222222", ID{}, errdefs.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Find(t.Context(), tt.typed)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) || got != tt.want {
				t.Fatalf("Find(%q) = %v, %v; want %v, %v", tt.typed, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestFindAmbiguous(t *testing.T) {
	s := openStore(t, t.TempDir(), TrustStoreOptions{})
	a, b := randomID(), randomID()
	copy(b[:3], a[:3]) // the first 24 bits give the first 4 characters
	for _, id := range []ID{a, b} {
		if err := s.Trust(t.Context(), id, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Find(t.Context(), a.String()[:4]); !errors.Is(err, errdefs.ErrAmbiguous) {
		t.Fatalf("Find(shared prefix) = %v, want ErrAmbiguous", err)
	}
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"attic", "attic"},
		{"evil\x1b]0;pwned\x07name", "evil]0;pwnedname"},
		{"tab\there\n", "tabhere"},
		{strings.Repeat("é", 100), strings.Repeat("é", 32)},
		{"a" + strings.Repeat("é", 100), "a" + strings.Repeat("é", 31)},
		{strings.Repeat("x", 1<<20), strings.Repeat("x", 64)},
	}
	for _, tt := range tests {
		if got := cleanText(tt.in, maxNameLen); got != tt.want {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
