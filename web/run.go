package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine"
)

const (
	// maxBundle bounds a pasted or uploaded bundle.
	maxBundle = 256 << 10
	// bundleDir holds bundles run from the dashboard, under the data
	// directory: their containers' labels name them, and nest's editor
	// and `budgie run` can open them again.
	bundleDir = "web/bundles"
)

func (s *Server) runRoutes(m *http.ServeMux) {
	m.Handle("GET /run", s.page(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.render(w, r, sess, "run", runData{Name: "app.bun"})
	}))
	m.Handle("POST /run", s.write(s.runBundle))
}

type runData struct {
	Name     string
	Text     string
	Problems []string
	Error    string
}

// errBundleProblems says the bundle did not pass the checks; the problems
// (file:line each) go with it.
var errBundleProblems = errors.New("the bundle has problems; nothing was started")

// runBundle checks a pasted or uploaded bundle with the same parser and
// messages as `budgie run`, saves it under DATA_DIR/web/bundles and runs
// it through the engine.
func (s *Server) runBundle(w http.ResponseWriter, r *http.Request, sess *session) {
	name, data, err := bundleFromForm(r)
	if err != nil {
		replyError(w, r, http.StatusBadRequest, err)
		return
	}
	if problems := s.eng.ValidateBundle(name, data); len(problems) > 0 {
		s.audit(r, "bundle.run", name, errBundleProblems)
		s.runProblems(w, r, sess, runData{Name: name, Text: string(data), Problems: problems, Error: errBundleProblems.Error()})
		return
	}
	path, err := s.saveBundle(name, data)
	if err != nil {
		replyError(w, r, http.StatusInternalServerError, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Minute)
	defer cancel()
	cs, err := s.eng.RunBundles(ctx, []string{path}, engine.RunBundleOptions{KeeperArgv: s.eng.KeeperCommand()})
	s.audit(r, "bundle.run", name, err)
	if err != nil {
		s.runProblems(w, r, sess, runData{Name: name, Text: string(data), Problems: strings.Split(err.Error(), "\n"), Error: "the bundle did not start"})
		return
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	next := "/containers"
	if len(cs) == 1 {
		next = "/containers/" + cs[0].Name
	}
	if r.Header.Get(fetchHeader) != "" {
		reply(w, r, next, map[string]string{"ok": "started", "name": strings.Join(names, ", "), "location": next})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// runProblems answers a bundle that did not pass: the problems as JSON to
// the page's script, or the form again with them.
func (s *Server) runProblems(w http.ResponseWriter, r *http.Request, sess *session, d runData) {
	if r.Header.Get(fetchHeader) != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = fmt.Fprint(w, mustJSON(map[string]any{"error": d.Error, "problems": d.Problems}))
		return
	}
	w.WriteHeader(http.StatusUnprocessableEntity)
	s.render(w, r, sess, "run", d)
}

// bundleFromForm returns the bundle's file name and text: an uploaded file
// (its base name, checked) or the pasted text under the name field.
func bundleFromForm(r *http.Request) (string, []byte, error) {
	if err := r.ParseMultipartForm(maxBundle); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return "", nil, fmt.Errorf("the form could not be read (a bundle is at most %d KiB): %w", maxBundle>>10, err)
	}
	name := r.FormValue("name")
	var data []byte
	if f, hdr, err := r.FormFile("file"); err == nil {
		defer f.Close()
		name = hdr.Filename
		data, err = io.ReadAll(io.LimitReader(f, maxBundle+1))
		if err != nil {
			return "", nil, err
		}
	}
	if len(data) == 0 {
		data = []byte(strings.ReplaceAll(r.FormValue("bundle"), "\r\n", "\n"))
	}
	if name == "" {
		name = "app.bun"
	}
	if err := checkBundleName(name); err != nil {
		return "", nil, err
	}
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "", nil, errors.New("the bundle is empty: paste it or choose a .bun file")
	case len(data) > maxBundle:
		return "", nil, fmt.Errorf("the bundle is larger than %d KiB", maxBundle>>10)
	}
	return name, data, nil
}

// checkBundleName accepts a plain file name ending in .bun: letters,
// digits, '_', '.', '-', at most 64 characters, no path.
func checkBundleName(name string) error {
	ok := len(name) <= 64 && strings.HasSuffix(name, ".bun") && !strings.HasPrefix(name, ".") &&
		!strings.ContainsFunc(name, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
		})
	if !ok {
		return fmt.Errorf("%q is not a bundle file name (letters, digits, '_', '.', '-', ending in .bun, at most 64)", name)
	}
	return nil
}

// saveBundle writes data under DATA_DIR/web/bundles as name, or as
// name-2.bun, name-3.bun… when another bundle holds that name.
func (s *Server) saveBundle(name string, data []byte) (string, error) {
	dir := filepath.Join(s.eng.Config.DataDir, bundleDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	base := strings.TrimSuffix(name, ".bun")
	for i := 1; i < 1000; i++ {
		file := name
		if i > 1 {
			file = fmt.Sprintf("%s-%d.bun", base, i)
		}
		path := filepath.Join(dir, file)
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return path, nil
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, werr := f.Write(data)
		if err := errors.Join(werr, f.Close()); err != nil {
			os.Remove(path)
			return "", err
		}
		return path, nil
	}
	return "", fmt.Errorf("too many bundles named %s in %s", name, dir)
}
