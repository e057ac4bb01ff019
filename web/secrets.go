package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/secrets"
)

var errTooLong = errors.New("a field is too long")

func (s *Server) secretRoutes(m *http.ServeMux) {
	m.Handle("GET /secrets", s.page(s.secretsPage))
	m.Handle("GET /secrets/stream", s.page(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.listStream(w, r, sess, listFeed{rows: s.secretRows, onContainerEvents: true, every: 5 * time.Second, topic: "secrets"})
	}))
	m.Handle("POST /secrets/create", s.write(s.secretCreate))
	m.Handle("POST /secrets/remove", s.write(s.secretRemove))
}

// secretRow is a secret's name and metadata: the value never leaves the
// store toward a browser.
type secretRow struct {
	Name    string
	Size    int
	Created string
	UsedBy  []string
	Error   string
	CSRF    string
}

func (s *Server) secretList(ctx context.Context, csrf string) ([]secretRow, error) {
	list, err := s.eng.Secrets(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]secretRow, 0, len(list))
	for _, sec := range list {
		out = append(out, secretRow{Name: sec.Name, Size: sec.Size, Created: ago(sec.Created), UsedBy: sec.UsedBy, Error: sec.Error, CSRF: csrf})
	}
	return out, nil
}

func (s *Server) secretsPage(w http.ResponseWriter, r *http.Request, sess *session) {
	rows, err := s.secretList(r.Context(), sess.csrf)
	data := struct {
		Rows  []secretRow
		Error string
	}{Rows: rows}
	if err != nil {
		data.Error = err.Error()
	}
	s.render(w, r, sess, "secrets", data)
}

func (s *Server) secretRows(ctx context.Context, csrf string) ([]row, error) {
	list, err := s.secretList(ctx, csrf)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(list))
	for _, sec := range list {
		html, err := s.partial("secrets", "secret-row", sec)
		if err != nil {
			return nil, err
		}
		out = append(out, row{Key: sec.Name, HTML: html})
	}
	return out, nil
}

// secretCreate seals a value typed into the form. The answer names the
// secret only; the value is never echoed, logged or sent back.
func (s *Server) secretCreate(w http.ResponseWriter, r *http.Request, _ *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	value := r.PostFormValue("value")
	if len(value) > secrets.MaxSize {
		replyError(w, r, http.StatusBadRequest, fmt.Errorf("the value is longer than %d bytes", secrets.MaxSize))
		return
	}
	_, err := s.eng.CreateSecret(r.Context(), name, []byte(value), secrets.CreateOptions{})
	s.audit(r, "secret.create", name, err)
	s.topics.changed("secrets")
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/secrets", map[string]string{"ok": "created", "name": name})
}

func (s *Server) secretRemove(w http.ResponseWriter, r *http.Request, _ *session) {
	name := r.PostFormValue("name")
	err := s.eng.RemoveSecret(r.Context(), name, secrets.RemoveOptions{})
	s.audit(r, "secret.remove", name, err)
	s.topics.changed("secrets")
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/secrets", map[string]string{"ok": "removed", "name": name})
}
