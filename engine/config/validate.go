package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
)

// validate checks every effective value, naming where a bad one came from.
func validate(c *Config, sources map[string]Source) error {
	var problems []error
	for _, d := range keyDefs {
		if d.check == nil {
			continue
		}
		if err := d.check(d.get(c)); err != nil {
			problems = append(problems, newError(errdefs.ErrInvalid, "%s: %v", sources[d.name].where(d.name), err))
		}
	}
	if c.Web.Enabled && c.Web.TLS == "off" && !IsLoopback(c.Web.Listen) {
		problems = append(problems, newError(errdefs.ErrInvalid,
			"%s: off is refused with web.listen %s, beyond loopback: the dashboard can start privileged containers (hint: set web.tls to auto, or listen on 127.0.0.1)",
			sources["web.tls"].where("web.tls"), c.Web.Listen))
	}
	return errors.Join(problems...)
}

// IsLoopback reports whether a host:port listen address only accepts
// connections from this host (127.0.0.0/8, ::1 or localhost). An empty
// host (all interfaces) is not loopback.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkListen accepts host:port with an IP address, localhost or an empty
// host (every interface), and a port from 1 to 65535.
func checkListen(v any) error {
	s := v.(string)
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:18734, or :18734 for every interface)", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: the port must be between 1 and 65535", s)
	}
	if host == "" || host == "localhost" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Errorf("%q: the host must be an IP address or localhost (a name could resolve beyond loopback)", s)
	}
	return nil
}

// where says where a key's value was set, to prefix errors about it.
func (s Source) where(key string) string {
	switch s.Kind {
	case SourceFile:
		return s.Detail + ": " + key
	case SourceEnv:
		return s.Detail
	case SourceFlag:
		return "flag " + s.Detail
	}
	return "default " + key
}

// oneOf accepts only the given strings.
func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		if slices.Contains(allowed, v.(string)) {
			return nil
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// namespaceRE is containerd's rule for namespace names.
var namespaceRE = regexp.MustCompile(`^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$`)

func checkNamespace(v any) error {
	s := v.(string)
	switch {
	case s == "":
		return errors.New("must not be empty (Budgie's default is budgie)")
	case len(s) > 76 || !namespaceRE.MatchString(s):
		return fmt.Errorf("%q is not a containerd namespace (letters and digits, joined by single '.', '_' or '-'; at most 76)", s)
	}
	return nil
}

func checkAbsolute(v any) error {
	if s := v.(string); !filepath.IsAbs(s) {
		return fmt.Errorf("%q is not an absolute path (write it from /, e.g. /var/lib/budgie)", s)
	}
	return nil
}

func checkAddress(v any) error {
	s := v.(string)
	if s == "" || filepath.IsAbs(s) {
		return nil
	}
	return fmt.Errorf("%q is not a socket path (write it from /, e.g. /run/containerd/containerd.sock)", s)
}

// checkPort accepts a TCP port number.
func checkPort(v any) error {
	if n := v.(int); n < 1 || n > 65535 {
		return fmt.Errorf("must be a port between 1 and 65535, got %d", n)
	}
	return nil
}

// checkDurationAtLeast accepts durations of at least least.
func checkDurationAtLeast(least time.Duration) func(any) error {
	return func(v any) error {
		if d := v.(time.Duration); d < least {
			return fmt.Errorf("must be at least %s, got %s", least, d)
		}
		return nil
	}
}

func checkPositive(v any) error {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	}
	if n < 1 {
		return fmt.Errorf("must be at least 1, got %s", strconv.FormatInt(n, 10))
	}
	return nil
}

func checkHosts(v any) error {
	for _, h := range v.([]string) {
		if strings.Contains(h, "/") {
			return fmt.Errorf("%q is not a host:port (leave out the scheme and path)", h)
		}
	}
	return nil
}

func checkKeys(v any) error {
	m := v.(map[string][]string)
	actions := make([]string, 0, len(m))
	for a := range m {
		actions = append(actions, a)
	}
	slices.Sort(actions)
	for _, a := range actions {
		switch {
		case strings.TrimSpace(a) == "":
			return errors.New("an action name is empty")
		case len(m[a]) == 0:
			return fmt.Errorf("action %q has no keys", a)
		case slices.Contains(m[a], ""):
			return fmt.Errorf("action %q has an empty key", a)
		}
	}
	return nil
}

// checkBridge accepts a bridge name Budgie's firewall rules match.
func checkBridge(v any) error {
	s := v.(string)
	if s == "" || len(s) > 15 || !strings.HasPrefix(s, "budgie") || strings.ContainsAny(s, " /") {
		return fmt.Errorf("%q is not a bridge name of at most 15 characters starting with budgie", s)
	}
	return nil
}

// checkCIDR accepts an IPv4 subnet in CIDR form.
func checkCIDR(v any) error {
	p, err := netip.ParsePrefix(v.(string))
	if err != nil || !p.Addr().Is4() || p.Bits() > 30 {
		return fmt.Errorf("%q is not an IPv4 subnet such as 172.20.0.0/16", v)
	}
	return nil
}
