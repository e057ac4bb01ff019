package engine

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/budgie-sh/budgie/engine/config"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/engine/keeper"
	"github.com/budgie-sh/budgie/engine/webauth"
)

// DashboardLink is where the node's web dashboard answers, with a
// one-time login link.
type DashboardLink struct {
	// URL is the dashboard's address (http:// on loopback, else https://).
	URL string `json:"url"`
	// LoginURL is URL with a one-time login token: it works once, for
	// webauth.DefaultTokenTTL.
	LoginURL string `json:"login_url"`
	// Fingerprint is the node ID, whose certificate the dashboard
	// presents over TLS; empty over plain HTTP.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Expires is when LoginURL stops working.
	Expires time.Time `json:"expires"`
}

// DashboardLinkOptions tune DashboardLink.
type DashboardLinkOptions struct {
	// NoStart fails rather than starting the node's keeper when none runs.
	NoStart bool
}

// DashboardTLS reports whether the dashboard is served over TLS: web.tls
// on, or auto with an address beyond loopback.
func DashboardTLS(cfg config.Web) bool {
	return cfg.TLS == "on" || (cfg.TLS != "off" && !config.IsLoopback(cfg.Listen))
}

// DashboardLink makes sure the node's keeper runs (starting it detached
// unless opts.NoStart), checks that its dashboard answers, and mints a
// one-time login link. `budgie dashboard` and nest's palette call it.
func (e *Engine) DashboardLink(ctx context.Context, opts DashboardLinkOptions) (DashboardLink, error) {
	web := e.Config.Web
	if !web.Enabled {
		return DashboardLink{}, fmt.Errorf("the web dashboard is off (web.enabled is false; turn it on: budgie config set web.enabled true, then restart the keeper): %w", errdefs.ErrUnavailable)
	}
	if opts.NoStart {
		if _, err := e.Keeper.Ping(ctx); err != nil {
			return DashboardLink{}, err
		}
	} else if err := e.StartKeeper(ctx); err != nil {
		return DashboardLink{}, err
	}
	link := DashboardLink{URL: dashboardURL(web)}
	if DashboardTLS(web) {
		id, err := identity.Load(e.Config.DataDir, identity.LoadOptions{Name: e.Config.NodeName})
		if err != nil {
			return DashboardLink{}, err
		}
		link.Fingerprint = id.ID.String()
	}
	if err := waitDashboard(ctx, web.Listen, 5*time.Second); err != nil {
		return DashboardLink{}, fmt.Errorf("the keeper runs, but its dashboard does not answer on %s (see %s; restart the keeper if it predates web.* settings): %w: %w",
			web.Listen, keeper.LogPath(e.Config.DataDir), err, errdefs.ErrUnavailable)
	}
	store, err := webauth.Open(e.Config.DataDir)
	if err != nil {
		return DashboardLink{}, err
	}
	token, err := store.MintToken(webauth.DefaultTokenTTL)
	if err != nil {
		return DashboardLink{}, err
	}
	link.Expires = time.Now().Add(webauth.DefaultTokenTTL).Truncate(time.Second)
	link.LoginURL = link.URL + "/login?token=" + url.QueryEscape(token)
	return link, nil
}

// SetDashboardPassword sets the password that logs into the dashboard
// (besides one-time links); `budgie dashboard passwd` calls it. Sessions
// already open stay open until they expire or the keeper restarts.
func (e *Engine) SetDashboardPassword(_ context.Context, password string) error {
	store, err := webauth.Open(e.Config.DataDir)
	if err != nil {
		return err
	}
	return store.SetPassword(password)
}

// dashboardURL is the URL a browser on this host uses: an unspecified
// host (every interface) becomes loopback.
func dashboardURL(web config.Web) string {
	host, port, err := net.SplitHostPort(web.Listen)
	if err != nil {
		host, port = "127.0.0.1", "18734"
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	} else if host == "::" {
		host = "::1"
	}
	scheme := "http"
	if DashboardTLS(web) {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// waitDashboard waits until something accepts connections on addr (a
// keeper just started opens it a moment after its API).
func waitDashboard(ctx context.Context, addr string, timeout time.Duration) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	} else if host == "::" {
		host = "::1"
	}
	target := net.JoinHostPort(host, port)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", target)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dashboardTLSConfig is the dashboard's TLS configuration: the node's own
// certificate (the ID `budgie dashboard` prints is its fingerprint), TLS
// 1.2 and later.
func dashboardTLSConfig(id *identity.Identity) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{id.Certificate}, MinVersion: tls.VersionTLS12}
}

// DashboardListener opens the dashboard's listener as the configuration
// says: TLS with the node's certificate where DashboardTLS, plain TCP
// otherwise. A plain listener beyond loopback is refused.
func (e *Engine) DashboardListener(ctx context.Context) (net.Listener, error) {
	web := e.Config.Web
	tlsOn := DashboardTLS(web)
	if !tlsOn && !config.IsLoopback(web.Listen) {
		return nil, fmt.Errorf("web.listen %s is beyond loopback and web.tls is off: refused (the dashboard can start privileged containers): %w", web.Listen, errdefs.ErrInvalid)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", web.Listen)
	if err != nil {
		return nil, fmt.Errorf("dashboard: listen on %s (web.listen; is another keeper or program on it?): %w", web.Listen, err)
	}
	if !tlsOn {
		return ln, nil
	}
	id, err := identity.Load(e.Config.DataDir, identity.LoadOptions{Name: e.Config.NodeName})
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, dashboardTLSConfig(id)), nil
}
