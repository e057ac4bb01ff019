package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrIntegrity is wrapped by every read of a sealed file (a secret or a
// plain node key) that fails authentication or does not parse: the file was
// damaged or tampered with, and no byte of it is trusted.
var ErrIntegrity = errors.New("integrity check failed")

// Format constants. A new version or KDF gets a new number; readers refuse
// numbers they do not know.
const (
	secretMagic   = "BGSECRET"
	formatVersion = 1
	// kdfPBKDF2SHA256 is PBKDF2 with HMAC-SHA256.
	kdfPBKDF2SHA256 = 1
	// DefaultIterations is the PBKDF2 iteration count of new keys (OWASP's
	// 2023 figure for PBKDF2-HMAC-SHA256).
	DefaultIterations = 600_000
	// maxIterations bounds what a reader accepts, so that a damaged header
	// cannot make it spin for minutes.
	maxIterations = 5_000_000
	saltSize      = 16
	keySize       = 32
	nonceSize     = 12
	maxMetaSize   = 64 << 10
)

// kdfParams say how a key is derived: which KDF, how many iterations, which salt.
type kdfParams struct {
	KDF        byte
	Iterations uint32
	Salt       []byte
}

// cacheKey identifies derived keys in a Store's cache.
func (p kdfParams) cacheKey() string {
	return fmt.Sprintf("%d/%d/%x", p.KDF, p.Iterations, p.Salt)
}

// newParams returns fresh parameters with a random salt.
func newParams() (kdfParams, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return kdfParams{}, fmt.Errorf("generate salt: %w", err)
	}
	return kdfParams{KDF: kdfPBKDF2SHA256, Iterations: DefaultIterations, Salt: salt}, nil
}

// check refuses parameters this version does not know or that are weaker
// than DefaultIterations (a downgrade) or absurdly strong (damage).
func (p kdfParams) check() error {
	switch {
	case p.KDF != kdfPBKDF2SHA256:
		return fmt.Errorf("unknown key derivation function %d", p.KDF)
	case p.Iterations < DefaultIterations || p.Iterations > maxIterations:
		return fmt.Errorf("iteration count %d out of range", p.Iterations)
	case len(p.Salt) < saltSize:
		return fmt.Errorf("salt of %d bytes is too short", len(p.Salt))
	}
	return nil
}

// derive stretches secret into a 32-byte key.
func (p kdfParams) derive(secret []byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return pbkdf2.Key(sha256.New, string(secret), p.Salt, int(p.Iterations), keySize)
}

// appendParams encodes p: KDF, iterations (big endian), salt length, salt.
func appendParams(b []byte, p kdfParams) []byte {
	b = append(b, p.KDF)
	b = binary.BigEndian.AppendUint32(b, p.Iterations)
	b = append(b, byte(len(p.Salt)))
	return append(b, p.Salt...)
}

// reader reads a header field by field, remembering the first error.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+n > len(r.b) {
		r.err = errors.New("file is truncated")
		return nil
	}
	out := r.b[r.off : r.off+n]
	r.off += n
	return out
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) uint32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *reader) params() kdfParams {
	p := kdfParams{KDF: r.byte(), Iterations: r.uint32()}
	p.Salt = r.take(int(r.byte()))
	return p
}

// metadata is what a sealed secret says about itself; all of it is
// authenticated.
type metadata struct {
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Size    int               `json:"size"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// sealed is a parsed secret file.
type sealed struct {
	params     kdfParams
	meta       metadata
	aad        []byte // everything before the ciphertext
	nonce      []byte
	ciphertext []byte
}

// seal encodes a secret file: header, metadata, nonce, then the value
// sealed under key with the header, metadata and nonce as additional data.
func seal(key []byte, p kdfParams, m metadata, value []byte) ([]byte, error) {
	mj, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	b := append([]byte(secretMagic), formatVersion)
	b = appendParams(b, p)
	b = binary.BigEndian.AppendUint32(b, uint32(len(mj)))
	b = append(append(b, mj...), nonce...)
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return gcm.Seal(b, nonce, value, b), nil
}

// parse splits a secret file without decrypting it. Its metadata is not
// authenticated until open succeeds.
func parse(data []byte) (sealed, error) {
	r := &reader{b: data}
	if !bytes.Equal(r.take(len(secretMagic)), []byte(secretMagic)) {
		return sealed{}, fmt.Errorf("not a budgie secret file: %w", ErrIntegrity)
	}
	if v := r.byte(); r.err == nil && v != formatVersion {
		return sealed{}, fmt.Errorf("unknown format version %d: %w", v, ErrIntegrity)
	}
	s := sealed{params: r.params()}
	n := r.uint32()
	if n > maxMetaSize {
		return sealed{}, fmt.Errorf("metadata of %d bytes is too large: %w", n, ErrIntegrity)
	}
	mj := r.take(int(n))
	s.nonce = r.take(nonceSize)
	if r.err != nil {
		return sealed{}, fmt.Errorf("%w: %w", r.err, ErrIntegrity)
	}
	if err := s.params.check(); err != nil {
		return sealed{}, fmt.Errorf("%w: %w", err, ErrIntegrity)
	}
	if err := json.Unmarshal(mj, &s.meta); err != nil {
		return sealed{}, fmt.Errorf("metadata: %w: %w", err, ErrIntegrity)
	}
	s.aad, s.ciphertext = data[:r.off], data[r.off:]
	return s, nil
}

// open decrypts s under key and checks that its metadata matches.
func (s sealed) open(key []byte, name string) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	value, err := gcm.Open(nil, s.nonce, s.ciphertext, s.aad)
	if err != nil {
		return nil, fmt.Errorf("authentication failed (the file was damaged or altered): %w", ErrIntegrity)
	}
	if s.meta.Name != name || s.meta.Size != len(value) {
		clear(value)
		return nil, fmt.Errorf("file holds secret %q of %d bytes: %w", s.meta.Name, s.meta.Size, ErrIntegrity)
	}
	return value, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}
