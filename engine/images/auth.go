package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/containerd/remotes"
	"github.com/containerd/containerd/remotes/docker"

	"github.com/budgie-sh/budgie/engine/discovery"
	"github.com/budgie-sh/budgie/engine/errdefs"
)

// ErrUnauthorized is wrapped by errors from registries that refuse the
// credentials given (or want some and got none).
var ErrUnauthorized = errors.New("unauthorized")

// unauthorizedError is an error that is ErrUnauthorized without ending
// in its text: the message already says so, with the hint to log in.
type unauthorizedError struct{ msg string }

func (e unauthorizedError) Error() string        { return e.msg }
func (e unauthorizedError) Is(target error) bool { return target == ErrUnauthorized }

// unauthorized returns an ErrUnauthorized error with the message format
// gives.
func unauthorized(format string, args ...any) error {
	return unauthorizedError{msg: fmt.Sprintf(format, args...)}
}

// dockerHub is the name credentials for Docker Hub are stored under.
const dockerHub = "docker.io"

// maxAuthFile bounds how much of an auth file is read.
const maxAuthFile = 1 << 20

// DefaultAuthFile returns where registry credentials are kept:
// auth.json in budgie's directory under the user's configuration
// directory (~/.config/budgie/auth.json). It is empty when the user has
// no home directory.
func DefaultAuthFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "budgie", "auth.json")
}

// authConfig is docker's config.json shape, of which budgie uses "auths":
// for each registry host, base64("user:password") in "auth".
type authConfig struct {
	Auths map[string]authEntry `json:"auths"`
}

type authEntry struct {
	Auth string `json:"auth,omitempty"`
}

// RegistryHost returns the host credentials for registry are stored
// under: the host of a URL or "host:port", lowercase, and "docker.io"
// for Docker Hub's names (index.docker.io, registry-1.docker.io,
// https://index.docker.io/v1/). A name that is not a host is ErrInvalid.
func RegistryHost(registry string) (string, error) {
	h := strings.TrimSpace(registry)
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	h = strings.ToLower(strings.TrimSuffix(strings.SplitN(h, "/", 2)[0], "."))
	if h == "" || strings.ContainsAny(h, " \t@?#") {
		return "", fmt.Errorf("bad registry %q (expected a host such as registry.lan:5000): %w", registry, errdefs.ErrInvalid)
	}
	switch h {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return dockerHub, nil
	}
	return h, nil
}

// readAuth reads the auth file at path; a missing file is an empty one.
func readAuth(path string) (authConfig, error) {
	cfg := authConfig{Auths: map[string]authEntry{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read registry credentials: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAuthFile))
	if err != nil {
		return cfg, fmt.Errorf("read registry credentials %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("registry credentials %s are not valid JSON (fix or remove the file): %w: %w", path, err, errdefs.ErrInvalid)
	}
	if cfg.Auths == nil {
		cfg.Auths = map[string]authEntry{}
	}
	return cfg, nil
}

// writeAuth replaces the auth file at path (mode 0600, its directory
// 0700) through a temporary file and a rename.
func writeAuth(path string, cfg authConfig) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store registry credentials: %w", err)
	}
	data, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".auth-*.json")
	if err != nil {
		return fmt.Errorf("store registry credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store registry credentials: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("store registry credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store registry credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("store registry credentials: %w", err)
	}
	return nil
}

// Credentials returns the user name and password stored in the auth file
// at path for host (as RegistryHost names it; Docker Hub's
// registry-1.docker.io finds docker.io's). No entry gives empty strings.
func Credentials(path, host string) (user, password string, err error) {
	if path == "" {
		return "", "", nil
	}
	if h, herr := RegistryHost(host); herr == nil {
		host = h
	}
	cfg, err := readAuth(path)
	if err != nil {
		return "", "", err
	}
	entry, ok := cfg.Auths[host]
	if !ok || entry.Auth == "" {
		return "", "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(entry.Auth)
	if err != nil {
		return "", "", fmt.Errorf("registry credentials for %s in %s are damaged (log in again: budgie login %s): %w", host, path, host, errdefs.ErrInvalid)
	}
	user, password, _ = strings.Cut(string(raw), ":")
	return user, password, nil
}

// LoginOptions are the registry, credentials and file of Login.
type LoginOptions struct {
	// Registry is the registry's host ("registry.lan:5000"); see
	// RegistryHost for the names it accepts.
	Registry string
	// Username and Password are checked against the registry.
	Username string
	Password string
	// Insecure lists hosts reached over plain HTTP (loopback ones always are).
	Insecure []string
	// AuthFile is where credentials are stored; empty means DefaultAuthFile.
	AuthFile string
	// Client makes the requests; nil means a client with Resolver's timeouts.
	Client *http.Client
}

// Login checks the credentials against the registry (GET /v2/ with basic
// auth or the registry token flow, as the registry asks) and, when they
// are accepted, stores them in the auth file. Refused credentials are
// ErrUnauthorized and store nothing; an unreachable registry is
// ErrUnavailable. It returns the host the credentials were stored under.
func Login(ctx context.Context, opts LoginOptions) (string, error) {
	host, err := RegistryHost(opts.Registry)
	if err != nil {
		return "", err
	}
	if opts.Username == "" || opts.Password == "" {
		return "", fmt.Errorf("log in to %s: a user name and a password are needed: %w", host, errdefs.ErrInvalid)
	}
	if strings.Contains(opts.Username, ":") {
		return "", fmt.Errorf("log in to %s: a user name cannot contain ':': %w", host, errdefs.ErrInvalid)
	}
	path := opts.AuthFile
	if path == "" {
		path = DefaultAuthFile()
	}
	if path == "" {
		return "", fmt.Errorf("log in to %s: no home directory to store credentials in (set HOME): %w", host, errdefs.ErrInvalid)
	}
	cfg, err := readAuth(path) // a damaged file fails before the registry is asked
	if err != nil {
		return "", err
	}
	if err := verifyLogin(ctx, host, opts); err != nil {
		return "", err
	}
	cfg.Auths[host] = authEntry{Auth: base64.StdEncoding.EncodeToString([]byte(opts.Username + ":" + opts.Password))}
	return host, writeAuth(path, cfg)
}

// verifyLogin asks the registry for /v2/ anonymously, answers its
// challenge with the credentials, and asks again.
func verifyLogin(ctx context.Context, host string, opts LoginOptions) error {
	client := opts.Client
	if client == nil {
		client = registryClient()
	}
	endpoint := host
	if host == dockerHub {
		endpoint = "registry-1.docker.io"
	}
	scheme := "https"
	if plainHTTP(opts.Insecure, endpoint) {
		scheme = "http"
	}
	url := scheme + "://" + endpoint + "/v2/"
	resp, err := getV2(ctx, client, url, nil)
	if err != nil {
		return fmt.Errorf("log in to %s: cannot reach the registry (is it running? a plain-HTTP registry must be listed in registries.insecure): %w: %w", host, errdefs.ErrUnavailable, err)
	}
	if resp.StatusCode == http.StatusOK {
		return nil // an open registry takes anyone
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("log in to %s: GET /v2/ answered %s (is this a registry?): %w", host, resp.Status, errdefs.ErrUnavailable)
	}
	authz := docker.NewDockerAuthorizer(docker.WithAuthClient(client),
		docker.WithAuthCreds(func(string) (string, string, error) { return opts.Username, opts.Password, nil }))
	if err := authz.AddResponses(ctx, []*http.Response{resp}); err != nil {
		return fmt.Errorf("log in to %s: the registry's challenge is not understood: %w", host, err)
	}
	resp, err = getV2(ctx, client, url, authz)
	switch {
	case err != nil && strings.Contains(err.Error(), "401"):
		return unauthorized("log in to %s: the registry refused the user name or password (unauthorized)", host)
	case err != nil:
		return fmt.Errorf("log in to %s: %w", host, err)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return unauthorized("log in to %s: the registry refused the user name or password (unauthorized)", host)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("log in to %s: GET /v2/ answered %s: %w", host, resp.Status, errdefs.ErrUnavailable)
	}
	return nil
}

// getV2 sends GET url, authorised by authz when it is set, and returns
// the response with its body drained and closed.
func getV2(ctx context.Context, client *http.Client, url string, authz docker.Authorizer) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if authz != nil {
		if err := authz.Authorize(ctx, req); err != nil {
			return nil, err
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return resp, nil
}

// Logout removes the credentials stored for registry from the auth file
// (DefaultAuthFile when authFile is empty). A registry with none is
// ErrNotFound. It returns the host it removed.
func Logout(registry, authFile string) (string, error) {
	host, err := RegistryHost(registry)
	if err != nil {
		return "", err
	}
	if authFile == "" {
		authFile = DefaultAuthFile()
	}
	cfg, err := readAuth(authFile)
	if err != nil {
		return "", err
	}
	if _, ok := cfg.Auths[host]; !ok {
		known := make([]string, 0, len(cfg.Auths))
		for h := range cfg.Auths {
			known = append(known, h)
		}
		sort.Strings(known)
		return "", fmt.Errorf("not logged in to %s (logged in to: %s): %w", host, orNone(known), errdefs.ErrNotFound)
	}
	delete(cfg.Auths, host)
	return host, writeAuth(authFile, cfg)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// registryClient is the HTTP client registry requests go through, with
// bounded dial, handshake and header waits. ".local" registry hosts are
// found by multicast DNS (dialLocal).
func registryClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialLocal(ctx, dialer, network, addr)
	}
	transport.TLSHandshakeTimeout = 15 * time.Second
	transport.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: transport}
}

// plainHTTP says whether host is reached over plain HTTP: loopback hosts
// and the hosts in insecure are.
func plainHTTP(insecure []string, host string) bool {
	if local, err := docker.MatchLocalhost(host); err == nil && local {
		return true
	}
	return isInsecure(insecure, host)
}

// resolver is the service's registry resolver: plain HTTP for loopback
// hosts and registries.insecure (plainHTTP), HTTPS for the others, with
// the credentials of DefaultAuthFile (basic auth or the registry token
// flow, as each registry asks).
func (s *Service) resolver() remotes.Resolver {
	client := registryClient()
	authFile := DefaultAuthFile()
	authz := docker.NewDockerAuthorizer(docker.WithAuthClient(client),
		docker.WithAuthCreds(func(host string) (string, string, error) { return Credentials(authFile, host) }))
	plain := func(host string) (bool, error) { return plainHTTP(s.opts.Insecure, host), nil }
	return docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(plain), docker.WithClient(client), docker.WithAuthorizer(authz)),
	})
}

// dialLocal dials addr, resolving a ".local" host with a one-shot
// multicast DNS query (discovery.LookupHost): Budgie's resolver is Go's
// own, which would ask unicast DNS, where nss-mdns would have answered a
// libc program. Each address found is tried in turn.
func dialLocal(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || !discovery.IsLocalName(host) {
		return d.DialContext(ctx, network, addr)
	}
	addrs, err := discovery.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("dial %s: %w", addr, errors.Join(errs...))
}
