package secrets

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// EnvPassphrase is the environment variable holding the passphrase that
// wraps the node key.
const EnvPassphrase = "BUDGIE_SECRETS_PASSPHRASE"

// Passphrase errors.
var (
	// ErrPassphraseRequired: the node key is wrapped and no passphrase was given.
	ErrPassphraseRequired = fmt.Errorf("the node secret key is sealed with a passphrase: set %s (or run on a terminal to be asked): %w",
		EnvPassphrase, errdefs.ErrInvalid)
	// ErrWrongPassphrase: the passphrase does not open the node key.
	ErrWrongPassphrase = fmt.Errorf("wrong passphrase for the node secret key (check %s), or the key file is damaged", EnvPassphrase)
)

// PassphraseFunc returns the passphrase that wraps the node key, or "" for
// none. generating is true when the key is being created: an empty answer
// then stores the key unwrapped.
type PassphraseFunc func(generating bool) (string, error)

// EnvPassphraseFunc reads EnvPassphrase and never prompts.
func EnvPassphraseFunc(bool) (string, error) { return os.Getenv(EnvPassphrase), nil }

const (
	keyMagic    = "BGNODEKY"
	keyPlain    = 0
	keyWrapped  = 1
	nodeKeyFile = "node.key"
)

// nodeKey is the node key with the parameters that derive the data key from it.
type nodeKey struct {
	key    []byte
	params kdfParams
}

// encodeNodeKey returns the key file: plain when pass is empty, else with
// the key sealed under a key derived from pass.
func encodeNodeKey(k nodeKey, pass string) ([]byte, error) {
	b := append([]byte(keyMagic), formatVersion)
	if pass == "" {
		b = append(b, keyPlain)
		return append(appendParams(b, k.params), k.key...), nil
	}
	pp, err := newParams()
	if err != nil {
		return nil, err
	}
	kek, err := pp.derive([]byte(pass))
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generate nonce: %w", err)
	}
	b = append(b, keyWrapped)
	b = appendParams(appendParams(b, k.params), pp)
	b = append(b, nonce...)
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	return gcm.Seal(b, nonce, k.key, b), nil
}

// decodeNodeKey parses a key file, asking pass for the passphrase when the
// key is wrapped.
func decodeNodeKey(data []byte, pass PassphraseFunc) (nodeKey, error) {
	r := &reader{b: data}
	if !bytes.Equal(r.take(len(keyMagic)), []byte(keyMagic)) {
		return nodeKey{}, fmt.Errorf("not a budgie node key: %w", ErrIntegrity)
	}
	version, mode := r.byte(), r.byte()
	k := nodeKey{params: r.params()}
	if r.err == nil && (version != formatVersion || (mode != keyPlain && mode != keyWrapped)) {
		r.err = fmt.Errorf("unknown key format %d.%d", version, mode)
	}
	if r.err == nil {
		r.err = k.params.check()
	}
	if mode == keyPlain {
		k.key = r.take(keySize)
		if r.err == nil && r.off != len(data) {
			r.err = errors.New("trailing bytes")
		}
		if r.err != nil {
			return nodeKey{}, fmt.Errorf("%w: %w", r.err, ErrIntegrity)
		}
		return k, nil
	}
	pp, nonce := r.params(), r.take(nonceSize)
	if r.err == nil {
		r.err = pp.check()
	}
	if r.err != nil {
		return nodeKey{}, fmt.Errorf("%w: %w", r.err, ErrIntegrity)
	}
	key, err := unwrap(data, r.off, pp, nonce, pass)
	if err != nil {
		return nodeKey{}, err
	}
	k.key = key
	return k, nil
}

// unwrap opens the sealed key at data[off:] with the passphrase.
func unwrap(data []byte, off int, pp kdfParams, nonce []byte, pass PassphraseFunc) ([]byte, error) {
	if pass == nil {
		return nil, ErrPassphraseRequired
	}
	phrase, err := pass(false)
	if err != nil {
		return nil, fmt.Errorf("read the secrets passphrase: %w", err)
	}
	if phrase == "" {
		return nil, ErrPassphraseRequired
	}
	kek, err := pp.derive([]byte(phrase))
	if err != nil {
		return nil, err
	}
	defer clear(kek)
	gcm, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	key, err := gcm.Open(nil, nonce, data[off:], data[:off])
	if err != nil || len(key) != keySize {
		return nil, ErrWrongPassphrase
	}
	return key, nil
}

// newNodeKey returns 32 random bytes with fresh derivation parameters.
func newNodeKey() (nodeKey, error) {
	k := nodeKey{key: make([]byte, keySize)}
	if _, err := rand.Read(k.key); err != nil {
		return nodeKey{}, fmt.Errorf("generate node key: %w", err)
	}
	p, err := newParams()
	if err != nil {
		return nodeKey{}, err
	}
	k.params = p
	return k, nil
}
