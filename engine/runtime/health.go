package runtime

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/models"
)

// Health check defaults, Docker's.
const (
	// DefaultHealthInterval is the time between probes.
	DefaultHealthInterval = 30 * time.Second
	// DefaultHealthTimeout bounds one probe.
	DefaultHealthTimeout = 30 * time.Second
	// DefaultHealthRetries is how many failures in a row make a container unhealthy.
	DefaultHealthRetries = 3
)

// HealthURL returns the URL an http health check fetches: a full http(s)
// URL, or ":PORT/path" meaning the container's own address (host, its IP
// on its first network, or 127.0.0.1 on the host network). A bare path has
// no port to go to and is an error.
func HealthURL(probe, host string) (string, error) {
	if strings.HasPrefix(probe, ":") {
		port, path, _ := strings.Cut(probe[1:], "/")
		if _, err := probePort(port); err != nil {
			return "", fmt.Errorf("health.http %q: %w", probe, err)
		}
		return "http://" + net.JoinHostPort(host, port) + "/" + path, nil
	}
	u, err := url.Parse(probe)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("health.http %q has no port: write :8080%s (the container's port) "+
			"or a full URL such as http://127.0.0.1:8080%s: %w", probe, pathOf(probe), pathOf(probe), errdefs.ErrInvalid)
	}
	return u.String(), nil
}

func pathOf(probe string) string {
	if strings.HasPrefix(probe, "/") {
		return probe
	}
	return "/"
}

// HealthAddr returns the host:port a tcp health check connects to: "PORT"
// means the container's own address, host.
func HealthAddr(probe, host string) (string, error) {
	port := probe
	if strings.Contains(probe, ":") {
		h, p, err := net.SplitHostPort(probe)
		if err != nil {
			return "", fmt.Errorf("health.tcp %q: want PORT or HOST:PORT: %w", probe, errdefs.ErrInvalid)
		}
		if h != "" {
			host = h
		}
		port = p
	}
	if _, err := probePort(port); err != nil {
		return "", fmt.Errorf("health.tcp %q: %w", probe, err)
	}
	return net.JoinHostPort(host, port), nil
}

func probePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535: %w", s, errdefs.ErrInvalid)
	}
	return n, nil
}

// CheckKeeperFields validates what the keeper acts on beyond the bundle
// parser's checks: the probe address forms and that on_unhealthy: restart
// has a restart policy to restart through.
func CheckKeeperFields(spec models.ContainerSpec) error {
	h := spec.Health
	if h == nil {
		return nil
	}
	if h.HTTP != "" {
		if _, err := HealthURL(h.HTTP, "127.0.0.1"); err != nil {
			return fmt.Errorf("container %s: %w", spec.Name, err)
		}
	}
	if h.TCP != "" {
		if _, err := HealthAddr(h.TCP, "127.0.0.1"); err != nil {
			return fmt.Errorf("container %s: %w", spec.Name, err)
		}
	}
	if len(h.Cmd) == 0 && h.HTTP == "" && h.TCP == "" {
		return fmt.Errorf("container %s: health needs one of cmd, http and tcp: %w", spec.Name, errdefs.ErrInvalid)
	}
	if h.OnUnhealthy == "restart" && (spec.RestartPolicy.Name == "" || spec.RestartPolicy.Name == models.RestartNo) {
		return fmt.Errorf("container %s: on_unhealthy: restart restarts through the restart policy, "+
			"but restart_policy is no (set always, unless-stopped or on-failure): %w", spec.Name, errdefs.ErrInvalid)
	}
	return nil
}

// NeedsKeeper reports whether spec uses a feature the keeper provides: a
// restart policy other than no, a health check, published ports or
// replicas (the keeper's proxy publishes and balances them).
func NeedsKeeper(spec models.ContainerSpec) bool {
	return Supervised(spec) || len(spec.Ports) > 0 || spec.Replicas != nil
}

// Supervised reports whether the keeper's supervisor watches spec's
// container: it has a restart policy other than no, or a health check.
func Supervised(spec models.ContainerSpec) bool {
	return spec.Health != nil || (spec.RestartPolicy.Name != "" && spec.RestartPolicy.Name != models.RestartNo)
}

// ProbeHost is the address a health check's ":PORT" means for c: its IP
// on its first network, or 127.0.0.1 when it shares the host's network.
func ProbeHost(c models.Container) string {
	if len(c.Endpoints) > 0 {
		return c.Endpoints[0].IP
	}
	return "127.0.0.1"
}
