// Package units parses and formats byte sizes with one rule for bundles
// and the configuration alike: Docker's. KB, MB, GB and TB count in 1024s,
// like KiB, MiB, GiB, TiB and the single letters k, m, g, t, so that
// `memory: 512MB` in a bundle and `logs.max_size: 512MB` in budgie.yaml
// mean the same number of bytes (docker's --memory 512mb does too).
package units

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Hint says how to write a size; UnitsHint lists the units.
const (
	Hint      = `write a size such as "64MiB", "1.5GiB", "512m" or a number of bytes`
	UnitsHint = "the units are B, KB/KiB/k, MB/MiB/m, GB/GiB/g and TB/TiB/t"
)

// Error is a size that does not parse: Msg says what is wrong and Hint,
// when not empty, how to write it.
type Error struct{ Msg, Hint string }

func (e *Error) Error() string { return e.Msg }

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$`)

// multipliers are the units, lower-cased.
var multipliers = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "ki": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "mi": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "gi": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40, "ti": 1 << 40,
}

// ParseSize parses "256MiB", "1.5g", "10 MB" or "1048576" into bytes; a
// fraction is rounded to the nearest byte. Errors are *Error.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, &Error{Msg: fmt.Sprintf("invalid size %q", s), Hint: Hint}
	}
	unit, ok := multipliers[strings.ToLower(m[2])]
	if !ok {
		return 0, &Error{Msg: fmt.Sprintf("unknown unit %q in %q", m[2], s), Hint: UnitsHint}
	}
	tooLarge := &Error{Msg: fmt.Sprintf("size %q is too large", s)}
	if !strings.Contains(m[1], ".") {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > math.MaxInt64/unit {
			return 0, tooLarge
		}
		return n * unit, nil
	}
	f, err := strconv.ParseFloat(m[1], 64)
	v := math.Round(f * float64(unit))
	if err != nil || v >= math.MaxInt64 {
		return 0, tooLarge
	}
	return int64(v), nil
}

// FormatSize writes n in the largest binary unit that divides it exactly
// ("10MiB"), or as a plain number, so that ParseSize(FormatSize(n)) == n.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
