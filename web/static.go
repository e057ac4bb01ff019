package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
)

// staticFiles serves the embedded stylesheet and script. Pages link them
// by url (the templates' static function), which carries the file's
// content hash (?v=): such a URL
// is cached for a year and never revalidated, since a build that changes
// the file changes its URL. Any other request for the file (no or an old
// hash) must be revalidated against its ETag, the same hash. So a page
// load after the first fetches neither file.
type staticFiles struct {
	fsys fs.FS
	hash map[string]string // file name → hex SHA-256 prefix
}

// newStaticFiles hashes every embedded static file once.
func newStaticFiles() *staticFiles {
	// The files are compiled in: none of these can fail but for a
	// broken build, which must not start.
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	s := &staticFiles{fsys: sub, hash: map[string]string{}}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue // only the files at the top are served
		}
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		s.hash[e.Name()] = hex.EncodeToString(sum[:8])
	}
	return s
}

// url is the versioned URL of static file name ("/static/app.js?v=…").
func (s *staticFiles) url(name string) string {
	if h, ok := s.hash[name]; ok {
		return "/static/" + name + "?v=" + h
	}
	return "/static/" + name
}

// ServeHTTP serves /static/NAME with the caching headers above.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	h, ok := s.hash[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"`+h+`"`)
	if r.URL.Query().Get("v") == h {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(w, r, s.fsys, name)
}

// assets are the dashboard's static files (package-wide: the embedded
// files never change while the process runs).
var assets = newStaticFiles()
