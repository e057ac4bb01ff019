package palette

import (
	"fmt"
	"strings"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// Split breaks a command line into words the way a shell would for
// simple cases: spaces separate, single and double quotes group, a
// backslash escapes the next character.
func Split(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped, inWord = false, true
		case r == '\\' && quote != '\'':
			escaped = true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 || escaped {
		return nil, fmt.Errorf("unfinished quote or escape in %q: %w", line, errdefs.ErrInvalid)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
