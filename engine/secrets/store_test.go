package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

func newStore(t *testing.T, dir, pass string) *Store {
	t.Helper()
	s, err := New(Options{Dir: dir, Passphrase: func(bool) (string, error) { return pass, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, pass := range []string{"", "correct horse"} {
		t.Run(fmt.Sprintf("passphrase %q", pass), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "secrets")
			value := []byte("s3cr3t\x00\xffvalue\n")
			s := newStore(t, dir, pass)
			created, err := s.Create(ctx, "db.password", value, CreateOptions{Labels: map[string]string{"app": "db"}})
			if err != nil {
				t.Fatal(err)
			}
			// A second store (another process) reads it with its own key derivation.
			s2 := newStore(t, dir, pass)
			got, err := s2.Reveal(ctx, "db.password")
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("Reveal = %q, %v; want %q", got, err, value)
			}
			info, err := s2.Inspect(ctx, "db.password")
			if err != nil {
				t.Fatal(err)
			}
			if info.Name != "db.password" || info.Size != len(value) || !info.Created.Equal(created.Created) || info.Labels["app"] != "db" {
				t.Errorf("Inspect = %+v, created %+v", info, created)
			}
			list, err := s2.List(ctx)
			if err != nil || len(list) != 1 || list[0].Name != "db.password" || list[0].Size != len(value) {
				t.Fatalf("List = %+v, %v", list, err)
			}
			out, _ := json.Marshal(list)
			if bytes.Contains(out, []byte("s3cr3t")) {
				t.Errorf("the listing shows the value: %s", out)
			}
			assertNoPlaintext(t, dir, []byte("s3cr3t"))
		})
	}
}

// assertNoPlaintext fails if any file under dir contains needle.
func assertNoPlaintext(t *testing.T, dir string, needle []byte) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if b, _ := os.ReadFile(path); bytes.Contains(b, needle) {
				t.Errorf("%s holds the plaintext", path)
			}
		}
		return nil
	})
}

func TestPassphrase(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "secrets")
	if _, err := newStore(t, dir, "right").Create(ctx, "token", []byte("abc"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pass    PassphraseFunc
		want    error
		wantMsg string
	}{
		{"wrong", func(bool) (string, error) { return "wrong", nil }, ErrWrongPassphrase, EnvPassphrase},
		{"empty", func(bool) (string, error) { return "", nil }, ErrPassphraseRequired, EnvPassphrase},
		{"none", nil, errdefs.ErrInvalid, EnvPassphrase},
		{"prompt fails", func(bool) (string, error) { return "", errors.New("no terminal") }, nil, "no terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := New(Options{Dir: dir, Passphrase: tt.pass})
			v, err := s.Reveal(ctx, "token")
			if err == nil || v != nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("Reveal = %q, %v; want %v naming %s", v, err, tt.want, tt.wantMsg)
			}
			if _, err := s.Create(ctx, "other", []byte("x"), CreateOptions{}); err == nil {
				t.Error("Create worked without the passphrase")
			}
		})
	}
	// Listing needs no passphrase: it never decrypts.
	s, _ := New(Options{Dir: dir})
	if list, err := s.List(ctx); err != nil || len(list) != 1 {
		t.Errorf("List without passphrase = %v, %v", list, err)
	}
}

func TestTamperedFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "secrets")
	value := []byte("the value")
	if _, err := newStore(t, dir, "").Create(ctx, "api-key", value, CreateOptions{Labels: map[string]string{"env": "prod"}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "api-key.secret")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	metaAt := bytes.Index(orig, []byte(`"created":"`)) + len(`"created":"`) + 3 // a digit of the year
	labelAt := bytes.Index(orig, []byte(`"prod"`)) + 1
	flip := func(off int) func([]byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x01; return b }
	}
	tests := []struct {
		name   string
		change func([]byte) []byte
	}{
		{"magic", flip(0)},
		{"version", flip(8)},
		{"kdf", flip(9)},
		{"iterations", flip(13)},
		{"iterations high byte", flip(10)},
		{"salt", flip(20)},
		{"metadata time", flip(metaAt)},
		{"metadata label", flip(labelAt)},
		{"nonce", flip(len(orig) - len(value) - 16 - 1)},
		{"ciphertext", flip(len(orig) - 16 - 2)},
		{"tag", flip(len(orig) - 1)},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }},
		{"empty", func([]byte) []byte { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.change(append([]byte(nil), orig...)), 0o600); err != nil {
				t.Fatal(err)
			}
			s := newStore(t, dir, "")
			v, err := s.Reveal(ctx, "api-key")
			if !errors.Is(err, ErrIntegrity) || v != nil {
				t.Errorf("Reveal = %q, %v; want an integrity error", v, err)
			}
			if _, err := s.Inspect(ctx, "api-key"); !errors.Is(err, ErrIntegrity) {
				t.Errorf("Inspect = %v; want an integrity error", err)
			}
		})
	}
	t.Run("renamed", func(t *testing.T) {
		if err := os.WriteFile(path, orig, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(path, filepath.Join(dir, "other.secret")); err != nil {
			t.Fatal(err)
		}
		s := newStore(t, dir, "")
		if v, err := s.Reveal(ctx, "other"); !errors.Is(err, ErrIntegrity) || v != nil {
			t.Errorf("Reveal of a renamed file = %q, %v; want an integrity error", v, err)
		}
		if v, err := s.Reveal(ctx, "api-key"); err != nil || !bytes.Equal(v, value) {
			t.Errorf("the original no longer opens: %q, %v", v, err)
		}
	})
}

func TestTamperedNodeKey(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		pass string
		off  int
		want error
	}{
		{"plain magic", "", 0, ErrIntegrity},
		{"plain key byte", "", -1, ErrIntegrity}, // the key changes, so the secret fails
		{"wrapped sealed byte", "pw", -1, ErrWrongPassphrase},
		{"wrapped iterations", "pw", 12, ErrIntegrity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "secrets")
			if _, err := newStore(t, dir, tt.pass).Create(ctx, "x", []byte("v"), CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "node.key")
			b, _ := os.ReadFile(path)
			off := tt.off
			if off < 0 {
				off += len(b)
			}
			b[off] ^= 0x80
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if v, err := newStore(t, dir, tt.pass).Reveal(ctx, "x"); !errors.Is(err, tt.want) || v != nil {
				t.Errorf("Reveal = %q, %v; want %v", v, err, tt.want)
			}
		})
	}
}

func TestFileModesAndNoTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "secrets")
	if err := os.Mkdir(dir, 0o755); err != nil { // too open: Create tightens it
		t.Fatal(err)
	}
	s := newStore(t, dir, "")
	for _, name := range []string{"a", "b.c", "node.key"} {
		if _, err := s.Create(ctx, name, []byte("v-"+name), CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, "a", []byte("again"), CreateOptions{}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("second create: %v", err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode = %v, %v", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 || !info.Mode().IsRegular() {
			t.Errorf("%s: mode %v, want -rw-------", e.Name(), info.Mode())
		}
	}
	want := []string{"a.secret", "b.c.secret", "node.key", "node.key.secret"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files = %v, want %v (no temporary files)", names, want)
	}
	if v, err := s.Reveal(ctx, "node.key"); err != nil || string(v) != "v-node.key" {
		t.Errorf("a secret named node.key: %q, %v", v, err)
	}
}

func TestConcurrentCreates(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "secrets")
	const n = 8
	// Every goroutine has its own Store, as separate processes would: they
	// also race to generate the node key.
	var wg sync.WaitGroup
	errs := make([]error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errs[i] = newStore(t, dir, "").Create(ctx, fmt.Sprintf("s%d", i), []byte(fmt.Sprint("value ", i)), CreateOptions{})
		}()
		go func() {
			defer wg.Done()
			_, errs[n+i] = newStore(t, dir, "").Create(ctx, "same", []byte(fmt.Sprint("same ", i)), CreateOptions{})
		}()
	}
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("create s%d: %v", i, errs[i])
		}
		switch err := errs[n+i]; {
		case err == nil && winner >= 0:
			t.Errorf("creates %d and %d of one name both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, errdefs.ErrConflict):
			t.Errorf("losing create: %v, want a conflict", err)
		}
	}
	if winner < 0 {
		t.Fatal("no create of the shared name won")
	}
	s := newStore(t, dir, "")
	for i := range n {
		if v, err := s.Reveal(ctx, fmt.Sprintf("s%d", i)); err != nil || string(v) != fmt.Sprint("value ", i) {
			t.Errorf("s%d = %q, %v", i, v, err)
		}
	}
	if v, err := s.Reveal(ctx, "same"); err != nil || string(v) != fmt.Sprint("same ", winner) {
		t.Errorf("same = %q, %v; want the winner's value", v, err)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, filepath.Join(t.TempDir(), "secrets"), "")
	tests := []struct {
		name  string
		value []byte
		want  error
	}{
		{"ok_name-1.2", []byte("v"), nil},
		{strings.Repeat("a", 63), []byte("v"), nil},
		{strings.Repeat("a", 64), []byte("v"), errdefs.ErrInvalid},
		{".hidden", []byte("v"), errdefs.ErrInvalid},
		{"../x", []byte("v"), errdefs.ErrInvalid},
		{"a/b", []byte("v"), errdefs.ErrInvalid},
		{"", []byte("v"), errdefs.ErrInvalid},
		{"empty", nil, errdefs.ErrInvalid},
		{"huge", make([]byte, MaxSize+1), errdefs.ErrInvalid},
		{"max", bytes.Repeat([]byte("x"), MaxSize), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, tt.name, tt.value, CreateOptions{})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Create(%q) = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
	for _, name := range []string{"missing", "../etc"} {
		if _, err := s.Reveal(ctx, name); err == nil {
			t.Errorf("Reveal(%q) worked", name)
		}
	}
	if _, err := s.Reveal(ctx, "missing"); !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("Reveal(missing) = %v", err)
	}
}

func TestRemoveAndUsers(t *testing.T) {
	ctx := context.Background()
	cs := []models.Container{
		{Name: "web", State: models.StateRunning, Spec: models.ContainerSpec{Secrets: []string{"tls", "db"}}},
		{Name: "old", State: models.StateExited, Spec: models.ContainerSpec{Secrets: []string{"db", "unused-by-running"}}},
		{Name: "api", State: models.StateRunning, Spec: models.ContainerSpec{Secrets: []string{"db"}}},
	}
	s, _ := New(Options{Dir: filepath.Join(t.TempDir(), "secrets"),
		Containers: func(context.Context) ([]models.Container, error) { return cs, nil }})
	for _, name := range []string{"tls", "db", "unused-by-running", "free"} {
		if _, err := s.Create(ctx, name, []byte("v"), CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list, _ := s.List(ctx)
	used := map[string][]string{}
	var order []string
	for _, sec := range list {
		used[sec.Name], order = sec.UsedBy, append(order, sec.Name)
	}
	if !sort.StringsAreSorted(order) || !reflect.DeepEqual(used["db"], []string{"api", "old", "web"}) || len(used["free"]) != 0 {
		t.Errorf("list order %v, used by %v", order, used)
	}
	tests := []struct {
		name  string
		force bool
		want  error
	}{
		{"db", false, errdefs.ErrConflict},
		{"tls", false, errdefs.ErrConflict},
		{"unused-by-running", false, nil},
		{"free", false, nil},
		{"free", false, errdefs.ErrNotFound},
		{"tls", true, nil},
		{"bad/name", false, errdefs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s force %v", tt.name, tt.force), func(t *testing.T) {
			err := s.Remove(ctx, tt.name, RemoveOptions{Force: tt.force})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Remove = %v, want %v", err, tt.want)
			}
			if errors.Is(tt.want, errdefs.ErrConflict) && !strings.Contains(err.Error(), "web") {
				t.Errorf("a refusal must name the running container: %v", err)
			}
		})
	}
	if _, err := s.Reveal(ctx, "db"); err != nil {
		t.Errorf("a refused remove deleted the secret: %v", err)
	}
}
