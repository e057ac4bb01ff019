package models

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPrintable is the most runes Printable returns, "…" included.
const MaxPrintable = 256

// Printable returns s made safe to write to a terminal: every rune that
// unicode.IsPrint rejects (C0 and C1 controls such as ESC and CSI, DEL,
// bidirectional overrides, zero-width and other format characters,
// non-ASCII spaces) becomes its Go escape as strconv.QuoteRune writes it
// (`\x1b`, `\n`, `\u202e`), each byte that is not UTF-8 becomes `\xNN`,
// and the result is cut to MaxPrintable runes ending in "…". Backslashes
// are kept as they are, so an escape is not told apart from the same
// characters typed; the point is that nothing reaches the terminal as a
// control.
//
// Strings that come from other nodes (peer and node names, image and
// container names, addresses, the refused parts of a plan, errors that
// quote them) pass through it wherever they are shown, whatever was
// checked where they entered.
func Printable(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && w == 1:
			piece = `\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:]
		case unicode.IsPrint(r):
			piece = s[i : i+w]
		default:
			q := strconv.QuoteRune(r)
			piece = q[1 : len(q)-1]
		}
		i += w
		pn := utf8.RuneCountInString(piece)
		if n+pn > MaxPrintable-1 && (i < len(s) || n+pn > MaxPrintable) {
			b.WriteString("…")
			return b.String()
		}
		b.WriteString(piece)
		n += pn
	}
	return b.String()
}

// PrintableError wraps err so that its message is Printable; errors.Is
// and errors.As still see err. A nil err stays nil.
func PrintableError(err error) error {
	if err == nil {
		return nil
	}
	return printableError{err}
}

type printableError struct{ err error }

func (e printableError) Error() string { return Printable(e.err.Error()) }
func (e printableError) Unwrap() error { return e.err }
