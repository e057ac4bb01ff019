package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
)

// staticFiles serves the embedded stylesheet and script. Pages link them
// by staticURL, which carries the file's content hash (?v=): such a URL
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
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	s := &staticFiles{fsys: sub, hash: map[string]string{}}
	entries, _ := fs.ReadDir(sub, ".")
	for _, e := range entries {
		b, err := fs.ReadFile(sub, e.Name())
		if err != nil {
			continue
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
