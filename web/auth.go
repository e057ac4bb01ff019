package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// cookieName is the session cookie.
	cookieName = "budgie_session"
	// sessionIdle ends a session unused for this long.
	sessionIdle = 12 * time.Hour
	// sessionMax ends any session this long after its login.
	sessionMax = 7 * 24 * time.Hour
	// maxSessions bounds the sessions kept; the least recently used go.
	maxSessions = 256
	// csrfField and csrfHeader carry the CSRF token of a write.
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
	// fetchHeader marks a write sent by app.js, answered in JSON.
	fetchHeader = "X-Budgie-Fetch"
)

// session is one logged-in browser.
type session struct {
	id      string
	csrf    string
	created time.Time
	used    time.Time
	remote  string
}

// sessionStore keeps sessions in memory: a keeper restart logs everyone out.
type sessionStore struct {
	mu   sync.Mutex
	byID map[string]*session
}

func newSessionStore() *sessionStore { return &sessionStore{byID: map[string]*session{}} }

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session, dropping the least recently used beyond the cap.
func (st *sessionStore) create(remote string, now time.Time) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.byID) >= maxSessions {
		var oldest *session
		for _, s := range st.byID {
			if oldest == nil || s.used.Before(oldest.used) {
				oldest = s
			}
		}
		delete(st.byID, oldest.id)
	}
	s := &session{id: randomToken(), csrf: randomToken(), created: now, used: now, remote: remote}
	st.byID[s.id] = s
	return s
}

// get returns the live session of id, touching it, or nil.
func (st *sessionStore) get(id string, now time.Time) *session {
	if len(id) != 43 {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.byID[id]
	if s == nil {
		return nil
	}
	if now.Sub(s.used) > sessionIdle || now.Sub(s.created) > sessionMax {
		delete(st.byID, id)
		return nil
	}
	s.used = now
	return s
}

func (st *sessionStore) end(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, id)
}

// loginThrottle limits failed logins: 5 a minute per client address and
// 30 a minute in all, so that a password cannot be guessed at speed.
type loginThrottle struct {
	mu       sync.Mutex
	perAddr  map[string][]time.Time
	all      []time.Time
	perLimit int
	allLimit int
	window   time.Duration
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{perAddr: map[string][]time.Time{}, perLimit: 5, allLimit: 30, window: time.Minute}
}

// allow reports whether a login from addr may be tried now, and if not,
// how long to wait.
func (t *loginThrottle) allow(addr string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.all = recent(t.all, now, t.window)
	t.perAddr[addr] = recent(t.perAddr[addr], now, t.window)
	if len(t.perAddr[addr]) == 0 {
		delete(t.perAddr, addr)
	}
	if fails := t.perAddr[addr]; len(fails) >= t.perLimit {
		return false, fails[0].Add(t.window).Sub(now)
	}
	if len(t.all) >= t.allLimit {
		return false, t.all[0].Add(t.window).Sub(now)
	}
	return true, 0
}

// failed records a failed login from addr.
func (t *loginThrottle) failed(addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.perAddr) > 4096 { // bound the map against address churn
		t.perAddr = map[string][]time.Time{}
	}
	t.perAddr[addr] = append(t.perAddr[addr], now)
	t.all = append(t.all, now)
}

func recent(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= window {
		i++
	}
	return ts[i:]
}

// clientAddr is the request's client IP (no proxy headers are trusted).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// currentSession returns the request's session, or nil.
func (s *Server) currentSession(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return s.sessions.get(c.Value, time.Now())
}

// page wraps a GET handler that needs a session: without one, a browser
// is sent to the login page (a stream gets 401).
func (s *Server) page(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.currentSession(r)
		if sess == nil {
			if r.Header.Get("Accept") == "text/event-stream" {
				http.Error(w, "log in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		h(w, r, sess)
	})
}

// crossOrigin refuses a write whose Sec-Fetch-Site or Origin says it came
// from another site.
var crossOrigin = http.NewCrossOriginProtection()

// write wraps a POST handler: it needs a session, a same-origin request
// and the session's CSRF token (form field _csrf or X-CSRF-Token header).
func (s *Server) write(h func(http.ResponseWriter, *http.Request, *session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := s.currentSession(r)
		if sess == nil {
			replyError(w, r, http.StatusUnauthorized, errors.New("log in first"))
			return
		}
		if err := crossOrigin.Check(r); err != nil {
			replyError(w, r, http.StatusForbidden, errors.New("refused: the request came from another site"))
			return
		}
		token := r.Header.Get(csrfHeader)
		if token == "" {
			token = r.PostFormValue(csrfField)
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1 {
			replyError(w, r, http.StatusForbidden, errors.New("refused: missing or wrong CSRF token (reload the page)"))
			return
		}
		h(w, r, sess)
	})
}

// audit logs one write action with its outcome.
func (s *Server) audit(r *http.Request, action, target string, err error) {
	s.auditFrom(clientAddr(r), action, target, err)
}

// auditFrom logs one write action of client's (for work that outlives its
// request: a pull, a replication).
func (s *Server) auditFrom(client, action, target string, err error) {
	args := []any{"action", action, "target", target, "client", client}
	if err != nil {
		s.log.Warn("dashboard audit", append(args, "result", "failed", "err", err)...)
		return
	}
	s.log.Info("dashboard audit", append(args, "result", "ok")...)
}

// loginPage shows the password form, or redeems a one-time link
// (/login?token=…) and redirects to the containers page.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if token := r.URL.Query().Get("token"); token != "" {
		s.login(w, r, "link", func() error { return s.auth.RedeemToken(token) })
		return
	}
	s.render(w, r, nil, "login", loginData{Next: localPath(r.URL.Query().Get("next")), HasPassword: s.auth.HasPassword()})
}

// loginPost checks the password form.
func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		http.Error(w, "refused: the request came from another site", http.StatusForbidden)
		return
	}
	pw := r.PostFormValue("password")
	s.login(w, r, "password", func() error { return s.auth.CheckPassword(pw) })
}

type loginData struct {
	Next        string
	Error       string
	HasPassword bool
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, how string, check func() error) {
	addr, now := clientAddr(r), time.Now()
	if ok, wait := s.throttle.allow(addr, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.log.Warn("dashboard login throttled", "client", addr, "how", how)
		w.WriteHeader(http.StatusTooManyRequests)
		s.render(w, r, nil, "login", loginData{Error: "Too many failed logins: wait a minute.", HasPassword: s.auth.HasPassword()})
		return
	}
	if err := check(); err != nil {
		s.throttle.failed(addr, now)
		s.log.Warn("dashboard login failed", "client", addr, "how", how)
		w.WriteHeader(http.StatusUnauthorized)
		s.render(w, r, nil, "login", loginData{Error: err.Error(), HasPassword: s.auth.HasPassword()})
		return
	}
	sess := s.sessions.create(addr, now)
	s.log.Info("dashboard login", "client", addr, "how", how)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: sess.id, Path: "/", HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionMax.Seconds()),
	})
	// A page that moves on by itself rather than a redirect: the token
	// leaves the address bar, and the next request is same-site (a
	// SameSite=Strict cookie is not sent on a redirect that continues a
	// navigation begun on another site, e.g. a link in a chat).
	s.render(w, r, nil, "continue", localPath(r.FormValue("next")))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess *session) {
	s.sessions.end(sess.id)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	s.log.Info("dashboard logout", "client", clientAddr(r))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localPath accepts a path on this site ("/containers/web"), never another
// site's ("//evil", "https://…", "/\evil"); anything else is "/containers".
func localPath(p string) string {
	if len(p) > 512 || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/containers"
	}
	return p
}

// reply answers a write: JSON to app.js, a redirect to a plain form.
func reply(w http.ResponseWriter, r *http.Request, back string, v any) {
	if r.Header.Get(fetchHeader) != "" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	http.Redirect(w, r, localPath(back), http.StatusSeeOther)
}

// replyError answers a failed write: JSON {"error": …} to app.js, a plain
// text page otherwise.
func replyError(w http.ResponseWriter, r *http.Request, code int, err error) {
	if r.Header.Get(fetchHeader) != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	http.Error(w, err.Error(), code)
}
