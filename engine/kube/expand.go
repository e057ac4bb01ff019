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
// not, $$ is one $, and any other $ is itself.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; next {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				break
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
			b.WriteByte(next)
			i++
		}
		if b.Len() > maxExpanded {
			return "", errTooLong
		}
	}
	return b.String(), nil
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
