package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/budgie-sh/budgie/engine"
	"github.com/budgie-sh/budgie/engine/livelist"
	"github.com/budgie-sh/budgie/engine/webauth"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const (
	// maxHeaderBytes bounds a request's header block.
	maxHeaderBytes = 16 << 10
	// maxFormBytes bounds a form body (a pasted bundle is the largest).
	maxFormBytes = 1 << 20
	// maxStreams bounds the live streams open at once, across browsers.
	maxStreams = 64
)

// Options configure New.
type Options struct {
	// Engine is the node's engine; required.
	Engine *engine.Engine
	// Version is shown in the page footer.
	Version string
	// Log receives audit lines and errors; nil discards them.
	Log *slog.Logger
}

// Server is the dashboard: its routes, sessions and live streams.
type Server struct {
	eng      *engine.Engine
	auth     *webauth.Store
	sessions *sessionStore
	throttle *loginThrottle
	log      *slog.Logger
	pages    *pages
	jobs     *jobBoard
	topics   *topics
	// containers is the event-kept list the Containers page is drawn from.
	containers *containerCache
	// stats samples CPU and memory for the open Containers pages.
	stats   *statsHub
	streams chan struct{} // a slot per open stream
	version string
	secure  bool // served over TLS
	ctx     context.Context
	mux     *http.ServeMux
}

// New returns the dashboard of opts.Engine, reading its credentials under
// the engine's data directory.
func New(opts Options) (*Server, error) {
	if opts.Engine == nil {
		return nil, errors.New("web: an engine is required")
	}
	store, err := webauth.Open(opts.Engine.Config.DataDir)
	if err != nil {
		return nil, err
	}
	return newServer(opts, store)
}

func newServer(opts Options, store *webauth.Store) (*Server, error) {
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		eng: opts.Engine, auth: store, sessions: newSessionStore(), throttle: newLoginThrottle(),
		log: log, pages: p, jobs: newJobBoard(), topics: newTopics(), streams: make(chan struct{}, maxStreams),
		version: opts.Version, ctx: context.Background(),
	}
	if opts.Engine != nil {
		s.secure = engine.DashboardTLS(opts.Engine.Config.Web)
	}
	s.containers = newContainerCache(s)
	s.stats = newStatsHub(s.ctx, s.sampleStats, statsEvery)
	s.routes()
	return s, nil
}

// Handler is the dashboard's HTTP handler: security headers, bounded
// bodies, sessions and CSRF checks around every route.
func (s *Server) Handler() http.Handler { return s.headers(s.mux) }

// Serve listens on web.listen (engine.DashboardListener) and serves until
// ctx ends; the keeper runs it (keeper.Options.Dashboard), handing it its
// live container list (nil: the dashboard keeps its own).
func (s *Server) Serve(ctx context.Context, log *slog.Logger, containers *livelist.List) error {
	if log != nil {
		s.log = log.With("component", "dashboard")
	}
	s.ctx = ctx
	s.containers.use(containers)
	ln, err := s.eng.DashboardListener(ctx)
	if err != nil {
		return err
	}
	return s.serveOn(ctx, ln)
}

func (s *Server) serveOn(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    maxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.log.Info("dashboard listening", "url", s.baseURL(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	case err := <-errc:
		return fmt.Errorf("dashboard: %w", err)
	}
}

func (s *Server) baseURL(addr net.Addr) string {
	if s.secure {
		return "https://" + addr.String()
	}
	return "http://" + addr.String()
}

// routes registers every page, action and stream.
func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("GET /static/{name}", assets)
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginPost)
	m.Handle("POST /logout", s.write(s.logout))
	m.Handle("GET /{$}", s.page(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, "/containers", http.StatusSeeOther)
	}))
	s.containerRoutes(m)
	s.imageRoutes(m)
	s.networkRoutes(m)
	s.secretRoutes(m)
	s.peerRoutes(m)
	s.runRoutes(m)
	s.mux = m
}

// headers sets the security headers of every response and bounds bodies.
func (s *Server) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r)
	})
}
