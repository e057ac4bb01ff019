package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

var fullIDRE = regexp.MustCompile(`^([A-Z2-7]{7}-){7}[A-Z2-7]{7}$`)

func randomID() ID {
	var id ID
	_, _ = rand.Read(id[:]) // never fails (crypto/rand crashes instead)
	return id
}

// luhnValid checks a chunk with its check character the way a reader
// would: doubling every second value from the right, starting with the
// one left of the check character, the sum is a multiple of 32.
func luhnValid(s string) bool {
	sum := 0
	for i := range len(s) {
		v := strings.IndexByte(alphabet, s[len(s)-1-i])
		if i%2 == 1 {
			v *= 2
		}
		sum += v/32 + v%32
	}
	return sum%32 == 0
}

func TestIDRoundTrip(t *testing.T) {
	for range 200 {
		id := randomID()
		s := id.String()
		if !fullIDRE.MatchString(s) {
			t.Fatalf("String() = %q, want 8 dash-separated groups of 7 base32 characters", s)
		}
		flat := strings.ReplaceAll(s, "-", "")
		for i := range chunks {
			if c := flat[i*14 : (i+1)*14]; !luhnValid(c) {
				t.Fatalf("chunk %d %q of %s fails the Luhn mod 32 check", i, c, s)
			}
		}
		if raw := b32.EncodeToString(id[:]); flat[:13]+flat[14:27]+flat[28:41]+flat[42:55] != raw {
			t.Fatalf("%s does not carry the base32 of the hash %s", s, raw)
		}
		if id.Short() != s[:7] {
			t.Fatalf("Short() = %q, want %q", id.Short(), s[:7])
		}
		for _, form := range []string{s, strings.ToLower(s), flat, strings.ToLower(flat), " " + strings.ReplaceAll(s, "-", " ") + "\n"} {
			got, err := ParseID(form)
			if err != nil || got != id {
				t.Fatalf("ParseID(%q) = %v, %v; want %v", form, got, err, id)
			}
		}
	}
}

func TestParseIDRejects(t *testing.T) {
	id := randomID()
	s := id.String()
	flat := strings.ReplaceAll(s, "-", "")
	raw := b32.EncodeToString(id[:])
	typo := []byte(s)
	typo[10] = alphabet[(strings.IndexByte(alphabet, typo[10])+1)%32]
	tests := []struct{ name, in, want string }{
		{"empty", "", "0 characters"},
		{"short form", id.Short(), "7 characters"},
		{"hex fingerprint", id.Hex(), "64 characters"},
		{"without check characters", raw, "52 characters"},
		{"one group too many", s + "-AAAAAAA", "63 characters"},
		{"digit one", "1" + flat[1:], "not base32"},
		{"digit zero", flat[:20] + "0" + flat[21:], "not base32"},
		{"punctuation", flat[:55] + "=", "not base32"},
		{"typo", string(typo), "check character 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseID(tt.in)
			if !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("ParseID(%q) error = %v, want ErrInvalid", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestParseIDCatchesEverySubstitution: the check characters catch any one
// mistyped character.
func TestParseIDCatchesEverySubstitution(t *testing.T) {
	flat := strings.ReplaceAll(randomID().String(), "-", "")
	for i := range len(flat) {
		for _, r := range alphabet {
			if byte(r) == flat[i] {
				continue
			}
			bad := flat[:i] + string(r) + flat[i+1:]
			if _, err := ParseID(bad); !errors.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("ParseID accepted %q (position %d changed)", bad, i)
			}
		}
	}
}

// TestParseIDRejectsNonCanonical: the last base32 character carries one
// bit; other values of its padding bits would name the same hash twice.
func TestParseIDRejectsNonCanonical(t *testing.T) {
	var id ID // last byte 0: the 52nd character is 'A'
	raw := b32.EncodeToString(id[:])
	alt := raw[:51] + "B" // same leading bit, a padding bit set
	var sb strings.Builder
	for i := range chunks {
		c := alt[i*13 : (i+1)*13]
		sb.WriteString(c + string(luhn32(c)))
	}
	if _, err := ParseID(sb.String()); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("ParseID accepted the non-canonical %s: %v", sb.String(), err)
	}
	if got, err := ParseID(id.String()); err != nil || got != id {
		t.Fatalf("ParseID(zero ID) = %v, %v", got, err)
	}
}

func TestIDForms(t *testing.T) {
	der := []byte("not really a certificate")
	id := IDFromCertificate(der)
	sum := sha256.Sum256(der)
	if id.Hex() != hex.EncodeToString(sum[:]) {
		t.Fatalf("Hex() = %s, want the sha256 of the DER", id.Hex())
	}
	for _, in := range []string{id.Hex(), strings.ToUpper(id.Hex())} {
		if got, err := ParseFingerprint(in); err != nil || got != id {
			t.Fatalf("ParseFingerprint(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFingerprint(id.Hex()[:62]); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("ParseFingerprint(short) error = %v, want ErrInvalid", err)
	}
	if !(ID{}).IsZero() || id.IsZero() {
		t.Fatal("IsZero is wrong")
	}
	b, err := json.Marshal(map[string]ID{"id": id})
	if err != nil || string(b) != `{"id":"`+id.String()+`"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	var back map[string]ID
	if err := json.Unmarshal(b, &back); err != nil || back["id"] != id {
		t.Fatalf("json round trip = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"nope"}`), &back); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("json with a bad ID: %v, want ErrInvalid", err)
	}
}
