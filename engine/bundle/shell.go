package bundle

import (
	"errors"
	"strings"
)

// splitShell splits s into words as sh would, without expanding anything:
// blanks separate words, '…' keeps its text as is, "…" keeps its text but
// for \" \\ \$ and \` escapes, and a backslash outside quotes escapes the
// next character.
func splitShell(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
			continue
		case ch == '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				word.WriteByte(s[i])
			}
		case ch == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case ch == '"':
			n, err := doubleQuoted(s[i+1:], &word)
			if err != nil {
				return nil, err
			}
			i += n + 1
		default:
			word.WriteByte(ch)
		}
		inWord = true
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// doubleQuoted copies the text of a "…" string into word; s starts after the
// opening quote. It returns the index of the closing quote in s.
func doubleQuoted(s string, word *strings.Builder) (int, error) {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"':
			return i, nil
		case ch == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
			i++
			word.WriteByte(s[i])
		case ch == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i++
		default:
			word.WriteByte(ch)
		}
	}
	return 0, errors.New("unterminated double quote")
}
