// Package webauth keeps the web dashboard's credentials under
// DATA_DIR/web (0700): the password hash (PBKDF2-SHA256, set with `budgie
// dashboard passwd`) and one-time login tokens (`budgie dashboard` mints
// one per link). The CLI, nest and the keeper's dashboard all go through
// it: a token minted by one process is redeemed, once, by the keeper.
//
// Only hashes are stored: a token's file is named by the SHA-256 of the
// token, so reading the directory does not yield a usable link.
package webauth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

const (
	// DirName is the credentials' directory under the data directory.
	DirName = "web"
	// passwordFile holds "pbkdf2-sha256$ITER$SALT$HASH".
	passwordFile = "password"
	// tokenDir holds one file per unredeemed login token.
	tokenDir = "tokens"
	// iterations is OWASP's 2023 figure for PBKDF2-HMAC-SHA256.
	iterations = 600_000
	// MinPasswordLen is the shortest password SetPassword accepts.
	MinPasswordLen = 10
	// maxPasswordLen bounds the work a login does (PBKDF2 hashes it all).
	maxPasswordLen = 256
	// maxTokens bounds the unredeemed tokens kept; older ones are dropped.
	maxTokens = 64
	// DefaultTokenTTL is how long a login link works when not redeemed.
	DefaultTokenTTL = 10 * time.Minute
)

// ErrBadCredentials is returned for a wrong password or a token that is
// unknown, used or expired.
var ErrBadCredentials = errors.New("the password or login link is not valid (a link works once, for 10 minutes; get a new one: budgie dashboard)")

// Store is the dashboard's credential store of one data directory.
type Store struct {
	dir string
}

// Open returns the store under dataDir, making its directory (0700).
func Open(dataDir string) (*Store, error) {
	dir := filepath.Join(dataDir, DirName)
	if err := os.MkdirAll(filepath.Join(dir, tokenDir), 0o700); err != nil {
		return nil, fmt.Errorf("dashboard credentials: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dashboard credentials: %w", err)
	}
	return &Store{dir: dir}, nil
}

// SetPassword replaces the dashboard password. It must be MinPasswordLen
// to 256 bytes long.
func (s *Store) SetPassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > maxPasswordLen {
		return fmt.Errorf("the password must be %d to %d characters long: %w", MinPasswordLen, maxPasswordLen, errdefs.ErrInvalid)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	sum, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("pbkdf2-sha256$%d$%s$%s\n", iterations,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
	return writeFile(filepath.Join(s.dir, passwordFile), []byte(line))
}

// HasPassword reports whether a password was set.
func (s *Store) HasPassword() bool {
	_, err := os.Stat(filepath.Join(s.dir, passwordFile))
	return err == nil
}

// CheckPassword returns nil when password is the one set, and
// ErrBadCredentials otherwise (also when none is set).
func (s *Store) CheckPassword(password string) error {
	data, err := os.ReadFile(filepath.Join(s.dir, passwordFile))
	if errors.Is(err, os.ErrNotExist) || len(password) > maxPasswordLen {
		return ErrBadCredentials
	}
	if err != nil {
		return fmt.Errorf("dashboard password: %w", err)
	}
	parts := strings.Split(strings.TrimSpace(string(data)), "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return fmt.Errorf("dashboard password file %s is damaged (set it again: budgie dashboard passwd): %w",
			filepath.Join(s.dir, passwordFile), errdefs.ErrInvalid)
	}
	iter, err1 := strconv.Atoi(parts[1])
	salt, err2 := base64.RawStdEncoding.DecodeString(parts[2])
	want, err3 := base64.RawStdEncoding.DecodeString(parts[3])
	if err := errors.Join(err1, err2, err3); err != nil || iter < 1 || iter > 10*iterations {
		return fmt.Errorf("dashboard password file is damaged (set it again: budgie dashboard passwd): %w", errdefs.ErrInvalid)
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrBadCredentials
	}
	return nil
}

// MintToken returns a new one-time login token that works for ttl (zero
// means DefaultTokenTTL). Expired tokens are swept, and at most 64 are
// kept: the oldest go first.
func (s *Store) MintToken(ttl time.Duration) (string, error) {
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	s.sweep(time.Now())
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	expiry := strconv.FormatInt(time.Now().Add(ttl).UnixNano(), 10)
	if err := writeFile(s.tokenPath(token), []byte(expiry)); err != nil {
		return "", fmt.Errorf("login token: %w", err)
	}
	return token, nil
}

// RedeemToken spends a token: it returns nil the first time a valid,
// unexpired token is redeemed and ErrBadCredentials for every other
// string. A token is 43 base64url characters; anything else is refused
// before the file system is touched.
func (s *Store) RedeemToken(token string) error {
	if !wellFormed(token) {
		return ErrBadCredentials
	}
	path := s.tokenPath(token)
	data, err := os.ReadFile(path)
	if err != nil {
		return ErrBadCredentials
	}
	// The removal is the redemption: of two racing logins, one removes it.
	if err := os.Remove(path); err != nil {
		return ErrBadCredentials
	}
	expiry, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || time.Now().UnixNano() > expiry {
		return ErrBadCredentials
	}
	return nil
}

func (s *Store) tokenPath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return filepath.Join(s.dir, tokenDir, hex.EncodeToString(sum[:]))
}

// wellFormed accepts exactly what MintToken makes.
func wellFormed(token string) bool {
	if len(token) != 43 {
		return false
	}
	for _, r := range token {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

// sweep removes expired tokens, and the oldest beyond maxTokens-1.
func (s *Store) sweep(now time.Time) {
	dir := filepath.Join(s.dir, tokenDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type tok struct {
		name   string
		expiry int64
	}
	var live []tok
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		exp, perr := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || perr != nil || now.UnixNano() > exp {
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		live = append(live, tok{e.Name(), exp})
	}
	for len(live) >= maxTokens {
		oldest := 0
		for i, t := range live {
			if t.expiry < live[oldest].expiry {
				oldest = i
			}
		}
		_ = os.Remove(filepath.Join(dir, live[oldest].name))
		live = append(live[:oldest], live[oldest+1:]...)
	}
}

// writeFile writes data to path atomically, mode 0600.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
