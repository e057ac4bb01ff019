package kube

import (
	"errors"
	"strings"
)

// maxExpanded bounds a value after $(VAR) expansion: references to
// references could otherwise double a value's size at each step.
const maxExpanded = 256 << 10

var errTooLong = errors.New("expands to more than 256 KiB")

// expand expands a command, argument or env value as Kubernetes does: $(VAR)
// is the value of VAR when lookup knows it and stays $(VAR) when it does
// not, $$ is one $, and any other $ is itself. A value that would expand
// to more than maxExpanded bytes is errTooLong.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	return expandLimit(s, lookup, maxExpanded, errTooLong)
}

// expandLimit expands s as expand does, failing with tooLong when the
// result would be longer than limit. It measures the result before
// building it, so a value that is refused allocates nothing.
func expandLimit(s string, lookup func(string) (string, bool), limit int, tooLong error) (string, error) {
	if !strings.Contains(s, "$") {
		if len(s) > limit {
			return "", tooLong
		}
		return s, nil
	}
	n := 0
	walkExpansion(s, lookup, func(part string) bool {
		n += len(part)
		return n <= limit
	})
	if n > limit {
		return "", tooLong
	}
	var b strings.Builder
	b.Grow(n)
	walkExpansion(s, lookup, func(part string) bool {
		b.WriteString(part)
		return true
	})
	return b.String(), nil
}

// walkExpansion calls emit with each piece of s's expansion in order,
// stopping when emit returns false.
func walkExpansion(s string, lookup func(string) (string, bool), emit func(string) bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			// Copy the run up to the next $ at once.
			j := i + 1
			for j < len(s) && s[j] != '$' {
				j++
			}
			if j == len(s)-1 || j == len(s) {
				j = len(s)
			}
			if !emit(s[i:j]) {
				return
			}
			i = j - 1
			continue
		}
		var part string
		switch next := s[i+1]; next {
		case '$':
			part = "$"
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				part = "$("
				i++
				break
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				part = v
			} else {
				part = s[i : i+3+end]
			}
			i += 2 + end
		default:
			part = s[i : i+2]
			i++
		}
		if !emit(part) {
			return
		}
	}
}

// escape writes s so that Kubernetes' expansion gives s back: a $ before
// a $ or a ( is doubled. $HOME and a lone $ stay as they are.
func escape(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '$' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '(') {
			b.WriteByte('$')
		}
	}
	return b.String()
}

func escapeAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = escape(s)
	}
	return out
}
