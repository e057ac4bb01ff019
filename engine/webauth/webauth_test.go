package webauth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPassword(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if s.HasPassword() {
		t.Fatal("HasPassword on a new store")
	}
	if err := s.CheckPassword(""); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("CheckPassword without a password = %v, want ErrBadCredentials", err)
	}
	if err := s.SetPassword("short"); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	if err := s.SetPassword("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(s.dir, passwordFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v; want 0600", err, st.Mode())
	}
	data, _ := os.ReadFile(filepath.Join(s.dir, passwordFile))
	if strings.Contains(string(data), "horse") {
		t.Fatal("the password is stored in clear")
	}
	if err := s.CheckPassword("correct horse battery"); err != nil {
		t.Fatalf("right password refused: %v", err)
	}
	for _, bad := range []string{"correct horse batter", "", strings.Repeat("x", 10000)} {
		if err := s.CheckPassword(bad); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("CheckPassword(%.20q) = %v, want ErrBadCredentials", bad, err)
		}
	}
}

func TestTokenWorksOnce(t *testing.T) {
	s, _ := Open(t.TempDir())
	tok, err := s.MintToken(0)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.dir, tokenDir))
	if len(entries) != 1 || strings.Contains(entries[0].Name(), tok) {
		t.Fatalf("token files %v: want one, named by the token's hash", entries)
	}
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.RedeemToken(tok) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 8 racing redemptions succeeded, want exactly 1", ok.Load())
	}
}

func TestTokenRefusals(t *testing.T) {
	s, _ := Open(t.TempDir())
	expired, _ := s.MintToken(time.Nanosecond)
	time.Sleep(2 * time.Millisecond)
	good, _ := s.MintToken(time.Minute)
	for name, tok := range map[string]string{
		"expired":        expired,
		"empty":          "",
		"path traversal": "../../../../etc/passwd" + strings.Repeat("a", 21),
		"too long":       good + "A",
		"one flipped":    good[:42] + string(good[42]^1),
		"not base64url":  strings.Repeat("/", 43),
	} {
		if err := s.RedeemToken(tok); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: RedeemToken = %v, want ErrBadCredentials", name, err)
		}
	}
	if err := s.RedeemToken(good); err != nil {
		t.Fatalf("the good token was refused after the bad ones: %v", err)
	}
}

func TestTokensBounded(t *testing.T) {
	s, _ := Open(t.TempDir())
	for range maxTokens + 10 {
		if _, err := s.MintToken(time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(s.dir, tokenDir))
	if len(entries) > maxTokens {
		t.Fatalf("%d tokens kept, want at most %d", len(entries), maxTokens)
	}
}
