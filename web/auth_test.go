package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/budgie-sh/budgie/engine/webauth"
)

// newTestServer is a dashboard without an engine: these tests stop at the
// doors (login, session, CSRF, origin), before any route reaches one.
func newTestServer(t *testing.T) (*Server, *webauth.Store) {
	t.Helper()
	store, err := webauth.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := newServer(Options{Version: "test"}, store)
	if err != nil {
		t.Fatal(err)
	}
	return s, store
}

func do(t *testing.T, h http.Handler, req *http.Request) *http.Response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

// login redeems a fresh token and returns the session cookie and its CSRF token.
func login(t *testing.T, s *Server, store *webauth.Store) (*http.Cookie, string) {
	t.Helper()
	tok, err := store.MintToken(0)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, s.Handler(), httptest.NewRequest("GET", "/login?token="+tok, nil))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login with a fresh token: %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			sess := s.sessions.get(c.Value, time.Now())
			if sess == nil {
				t.Fatal("the cookie names no session")
			}
			return c, sess.csrf
		}
	}
	t.Fatal("no session cookie after login")
	return nil, ""
}

func TestLoginLinkWorksOnceAndSetsAStrictCookie(t *testing.T) {
	s, store := newTestServer(t)
	tok, _ := store.MintToken(0)
	res := do(t, s.Handler(), httptest.NewRequest("GET", "/login?token="+tok, nil))
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == cookieName {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict", cookie)
	}
	body, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(body), `url=/containers`) {
		t.Errorf("after login the page does not move on to /containers:\n%s", body)
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy %q: the token could leak in a Referer", got)
	}
	again := do(t, s.Handler(), httptest.NewRequest("GET", "/login?token="+tok, nil))
	if again.StatusCode != http.StatusUnauthorized || len(again.Cookies()) != 0 {
		t.Fatalf("second use of a token: %d with %d cookies, want 401 and none", again.StatusCode, len(again.Cookies()))
	}
}

func TestPagesNeedASession(t *testing.T) {
	s, _ := newTestServer(t)
	for _, path := range []string{"/", "/containers", "/containers/web", "/images", "/networks", "/secrets", "/peers", "/run"} {
		res := do(t, s.Handler(), httptest.NewRequest("GET", path, nil))
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %d to %q, want 303 to /login", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	req := httptest.NewRequest("GET", "/containers/stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	if res := do(t, s.Handler(), req); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a stream without a session: %d, want 401", res.StatusCode)
	}
	forged := httptest.NewRequest("GET", "/containers", nil)
	forged.AddCookie(&http.Cookie{Name: cookieName, Value: strings.Repeat("A", 43)})
	if res := do(t, s.Handler(), forged); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a made-up session cookie: %d, want 303 to login", res.StatusCode)
	}
}

func TestWritesNeedSessionCSRFAndSameOrigin(t *testing.T) {
	s, store := newTestServer(t)
	cookie, csrf := login(t, s, store)
	writes := []string{"/containers/web/stop", "/containers/web/remove", "/images/pull", "/images/remove",
		"/networks/create", "/networks/remove", "/secrets/create", "/secrets/remove", "/peers/replicate",
		"/peers/plan", "/peers/trust", "/peers/deny", "/run", "/logout"}
	for _, path := range writes {
		t.Run(path, func(t *testing.T) {
			post := func(form url.Values, header map[string]string, withCookie bool) int {
				req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for k, v := range header {
					req.Header.Set(k, v)
				}
				if withCookie {
					req.AddCookie(cookie)
				}
				return do(t, s.Handler(), req).StatusCode
			}
			if code := post(url.Values{csrfField: {csrf}}, nil, false); code != http.StatusUnauthorized {
				t.Errorf("no session: %d, want 401", code)
			}
			if code := post(url.Values{}, nil, true); code != http.StatusForbidden {
				t.Errorf("no CSRF token: %d, want 403", code)
			}
			if code := post(url.Values{csrfField: {csrf[:42] + "x"}}, nil, true); code != http.StatusForbidden {
				t.Errorf("wrong CSRF token: %d, want 403", code)
			}
			if code := post(url.Values{csrfField: {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, true); code != http.StatusForbidden {
				t.Errorf("cross-site with the right token: %d, want 403", code)
			}
			if code := post(url.Values{csrfField: {csrf}}, map[string]string{"Origin": "http://evil.example"}, true); code != http.StatusForbidden {
				t.Errorf("another Origin with the right token: %d, want 403", code)
			}
		})
	}
	req := httptest.NewRequest("GET", "/containers/web/stop", nil)
	req.AddCookie(cookie)
	if res := do(t, s.Handler(), req); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on a write path: %d, want 405 (no action on a safe method)", res.StatusCode)
	}
}

func TestLoginIsRateLimited(t *testing.T) {
	s, store := newTestServer(t)
	if err := store.SetPassword("a long enough password"); err != nil {
		t.Fatal(err)
	}
	try := func(pw, addr string) *http.Response {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = addr
		return do(t, s.Handler(), req)
	}
	for i := range 5 {
		if res := try("wrong password", "192.0.2.7:4000"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, res.StatusCode)
		}
	}
	res := try("a long enough password", "192.0.2.7:4001")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth try in a minute, right password: %d (Retry-After %q), want 429", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if len(res.Cookies()) != 0 {
		t.Fatal("a throttled login got a session")
	}
	if res := try("a long enough password", "192.0.2.8:4000"); res.StatusCode != http.StatusOK {
		t.Fatalf("another client with the right password: %d, want 200", res.StatusCode)
	}
}

func TestLocalPathRefusesOtherSites(t *testing.T) {
	for in, want := range map[string]string{
		"/containers/web":  "/containers/web",
		"//evil.example/x": "/containers",
		"https://evil":     "/containers",
		"/\\evil.example":  "/containers",
		"":                 "/containers",
		"/a\r\nSet-Cookie": "/containers",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHostileNamesRefused(t *testing.T) {
	for _, ref := range []string{"../../etc", "a/b", "", strings.Repeat("a", 129), "web\x00", "we b"} {
		if checkRef(ref) == nil {
			t.Errorf("checkRef(%q) accepted", ref)
		}
	}
	for _, name := range []string{"../x.bun", "x.yaml", ".hidden.bun", "a/b.bun", strings.Repeat("a", 61) + ".bun"} {
		if checkBundleName(name) == nil {
			t.Errorf("checkBundleName(%q) accepted", name)
		}
	}
	for _, ref := range []string{"web", "web@", "@node", "web@no de", "../x@node", "web@node/x"} {
		if checkPeerRef(ref) == nil {
			t.Errorf("checkPeerRef(%q) accepted", ref)
		}
	}
	for _, ref := range []string{"busybox\nlatest", "a b", "<script>", ""} {
		if checkImageRef(ref) == nil {
			t.Errorf("checkImageRef(%q) accepted", ref)
		}
	}
}
