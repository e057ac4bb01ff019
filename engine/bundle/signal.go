package bundle

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Real-time signals as glibc numbers them (the first two are its own), named
// SIGRTMIN+n up to SIGRTMIN+15 and SIGRTMAX-n above, as docker does.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// signalAliases are other names of the same signals.
var signalAliases = map[string]string{"SIGIOT": "SIGABRT", "SIGCLD": "SIGCHLD", "SIGPOLL": "SIGIO"}

const signalHint = `write a name such as "SIGTERM", "TERM" or "SIGRTMIN+3", or a number such as 15`

// normalizeSignal turns "SIGTERM", "term" or "15" into "SIGTERM".
func normalizeSignal(s string) (string, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	if n, err := strconv.Atoi(t); err == nil {
		if name := signalName(n); name != "" {
			return name, nil
		}
		return "", invalidf(signalHint, fmt.Sprintf("unknown signal %q", s))
	}
	if !strings.HasPrefix(t, "SIG") {
		t = "SIG" + t
	}
	if alias, ok := signalAliases[t]; ok {
		t = alias
	}
	if n := unix.SignalNum(t); n != 0 {
		return unix.SignalName(n), nil
	}
	if n, ok := realtimeNumber(t); ok {
		return signalName(n), nil
	}
	return "", invalidf(signalHint, fmt.Sprintf("unknown signal %q", s))
}

// signalName names signal n, or returns "" when there is no such signal.
func signalName(n int) string {
	switch {
	case n >= sigRTMin && n <= sigRTMin+15:
		if n == sigRTMin {
			return "SIGRTMIN"
		}
		return fmt.Sprintf("SIGRTMIN+%d", n-sigRTMin)
	case n > sigRTMin+15 && n <= sigRTMax:
		if n == sigRTMax {
			return "SIGRTMAX"
		}
		return fmt.Sprintf("SIGRTMAX-%d", sigRTMax-n)
	case n > 0 && n < 32:
		return unix.SignalName(syscall.Signal(n))
	}
	return ""
}

// realtimeNumber reads SIGRTMIN[+n] or SIGRTMAX[-n].
func realtimeNumber(t string) (int, bool) {
	for _, rt := range []struct {
		prefix string
		base   int
		sign   int
	}{{"SIGRTMIN", sigRTMin, 1}, {"SIGRTMAX", sigRTMax, -1}} {
		rest, ok := strings.CutPrefix(t, rt.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return rt.base, true
		}
		op := "+"
		if rt.sign < 0 {
			op = "-"
		}
		digits, ok := strings.CutPrefix(rest, op)
		k, err := strconv.Atoi(digits)
		if !ok || err != nil || k < 0 || k > sigRTMax-sigRTMin || digits != strconv.Itoa(k) {
			return 0, false
		}
		return rt.base + rt.sign*k, true
	}
	return 0, false
}
