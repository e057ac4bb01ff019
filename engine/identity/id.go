package identity

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// ID is a node's identity: the SHA-256 of its certificate's DER bytes. The
// zero ID belongs to no node (IsZero).
type ID [sha256.Size]byte

// Layout of the written form: 52 base32 characters in 4 chunks of 13, each
// followed by a Luhn mod 32 check character, shown in 8 groups of 7.
const (
	chunkLen  = 13
	chunks    = 4
	groupLen  = 7
	idLen     = chunks * (chunkLen + 1) // 56 characters without dashes
	alphabet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	shortLen  = groupLen
	idExample = "AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA"
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// IDFromCertificate returns the ID of a certificate given as DER bytes.
func IDFromCertificate(der []byte) ID {
	return ID(sha256.Sum256(der))
}

// String is the full written form: 56 characters (base32 with check
// characters) in eight dash-separated groups of seven.
func (id ID) String() string {
	raw := b32.EncodeToString(id[:])
	var sb strings.Builder
	for i := range chunks {
		c := raw[i*chunkLen : (i+1)*chunkLen]
		sb.WriteString(c)
		sb.WriteByte(luhn32(c))
	}
	flat := sb.String()
	groups := make([]string, 0, idLen/groupLen)
	for i := 0; i < idLen; i += groupLen {
		groups = append(groups, flat[i:i+groupLen])
	}
	return strings.Join(groups, "-")
}

// Short is the first group of String, for display where space is scarce. It
// identifies a node to people, not to programs: never trust by it.
func (id ID) Short() string {
	return id.String()[:shortLen]
}

// Hex is the lowercase hex SHA-256 fingerprint (64 characters), the form
// engine/volsync reports as PeerInfo.Fingerprint.
func (id ID) Hex() string {
	return hex.EncodeToString(id[:])
}

// IsZero reports whether id is the zero ID.
func (id ID) IsZero() bool {
	return id == ID{}
}

// MarshalText writes the full form, so IDs read well in JSON.
func (id ID) MarshalText() ([]byte, error) {
	return []byte(id.String()), nil
}

// UnmarshalText parses the full form (see ParseID).
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// ParseID parses a node ID in its full form, upper or lower case, with or
// without dashes (and spaces). Anything else — a short form, a hex
// fingerprint, a mistyped character — is an error wrapping
// errdefs.ErrInvalid.
func ParseID(s string) (ID, error) {
	flat := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(s)))
	hint := fmt.Sprintf("a node ID is 56 letters A-Z and digits 2-7, shown as %s; `budgie id` prints it", idExample)
	if len(flat) != idLen {
		return ID{}, fmt.Errorf("bad node ID %q: %d characters, want 56 (%s): %w", s, len(flat), hint, errdefs.ErrInvalid)
	}
	if i := strings.IndexFunc(flat, func(r rune) bool { return !strings.ContainsRune(alphabet, r) }); i >= 0 {
		return ID{}, fmt.Errorf("bad node ID %q: character %q is not base32 (%s): %w", s, flat[i], hint, errdefs.ErrInvalid)
	}
	var raw strings.Builder
	for i := range chunks {
		c := flat[i*(chunkLen+1) : (i+1)*(chunkLen+1)]
		if luhn32(c[:chunkLen]) != c[chunkLen] {
			return ID{}, fmt.Errorf("bad node ID %q: check character %d does not match (a typo?): %w", s, i+1, errdefs.ErrInvalid)
		}
		raw.WriteString(c[:chunkLen])
	}
	b, err := b32.DecodeString(raw.String())
	if err != nil || len(b) != len(ID{}) || b32.EncodeToString(b) != raw.String() {
		return ID{}, fmt.Errorf("bad node ID %q: not 32 bytes of base32 (%s): %w", s, hint, errdefs.ErrInvalid)
	}
	return ID(b), nil
}

// ParseFingerprint parses a 64-character hex SHA-256 fingerprint (the
// engine/volsync PeerInfo.Fingerprint form, either case).
func ParseFingerprint(s string) (ID, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(ID{}) {
		return ID{}, fmt.Errorf("bad certificate fingerprint %q (want 64 hex characters): %w", s, errdefs.ErrInvalid)
	}
	return ID(b), nil
}

// luhn32 is the Luhn mod N check character (N = 32) of s, which holds only
// alphabet characters.
func luhn32(s string) byte {
	const n = len(alphabet)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(alphabet, s[i])
		factor = 3 - factor
		sum += addend/n + addend%n
	}
	return alphabet[(n-sum%n)%n]
}
