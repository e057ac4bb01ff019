package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestStaticFilesCacheByContentHash: the login page links the stylesheet
// and script by their content hash; those URLs may be cached for good,
// any other (no or an old hash) must be revalidated, and a revalidation
// with the current ETag costs no body. Only the embedded files are
// served, whatever the path asks for.
func TestStaticFilesCacheByContentHash(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	page := do(t, h, httptest.NewRequest("GET", "/login", nil))
	body, _ := io.ReadAll(page.Body)
	links := regexp.MustCompile(`(?:href|src)="(/static/app\.(?:css|js)\?v=[0-9a-f]{16})"`).FindAllStringSubmatch(string(body), -1)
	if len(links) != 2 {
		t.Fatalf("the page links %d hashed static files, want 2 (app.css, app.js):\n%s", len(links), body)
	}
	for _, l := range links {
		url := l[1]
		res := do(t, h, httptest.NewRequest("GET", url, nil))
		if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: %d, Cache-Control %q; want 200, cached for a year", url, res.StatusCode, res.Header.Get("Cache-Control"))
		}
		etag := res.Header.Get("ETag")
		if want := `"` + url[strings.Index(url, "?v=")+3:] + `"`; etag != want {
			t.Errorf("GET %s: ETag %q, want %q", url, etag, want)
		}
		plain, _, _ := strings.Cut(url, "?")
		for _, u := range []string{plain, plain + "?v=0123456789abcdef"} {
			res := do(t, h, httptest.NewRequest("GET", u, nil))
			if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") != etag {
				t.Errorf("GET %s: %d, Cache-Control %q, ETag %q; want 200, no-cache, %s", u, res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("ETag"), etag)
			}
		}
		req := httptest.NewRequest("GET", plain, nil)
		req.Header.Set("If-None-Match", etag)
		if res := do(t, h, req); res.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: %d, want 304", plain, etag, res.StatusCode)
		}
	}
	for _, u := range []string{"/static/nope.js", "/static/..%2fserver.go", "/static/%2e%2e/doc.go", "/static/", "/static/app.js/x"} {
		if res := do(t, h, httptest.NewRequest("GET", u, nil)); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", u, res.StatusCode)
		}
	}
}
