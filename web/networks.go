package web

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/network"
	"github.com/budgie-sh/budgie/engine/runtime"
	"github.com/budgie-sh/budgie/models"
)

func (s *Server) networkRoutes(m *http.ServeMux) {
	m.Handle("GET /networks", s.page(s.networksPage))
	m.Handle("GET /networks/stream", s.page(func(w http.ResponseWriter, r *http.Request, sess *session) {
		s.listStream(w, r, sess, listFeed{rows: s.networkRows, onContainerEvents: true, every: 5 * time.Second, topic: "networks"})
	}))
	m.Handle("POST /networks/create", s.write(s.networkCreate))
	m.Handle("POST /networks/remove", s.write(s.networkRemove))
}

// networkRow is a network and the containers attached to it now.
type networkRow struct {
	models.Network
	Users []string
	CSRF  string
}

func (s *Server) networkList(ctx context.Context, csrf string) ([]networkRow, error) {
	nets, err := s.eng.Networks(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.eng.Containers(ctx, runtime.ListOptions{})
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, c := range cs {
		for _, ep := range c.Endpoints {
			users[ep.Network] = append(users[ep.Network], c.Name)
		}
	}
	out := make([]networkRow, 0, len(nets))
	for _, n := range nets {
		u := users[n.Name]
		slices.Sort(u)
		out = append(out, networkRow{Network: n, Users: u, CSRF: csrf})
	}
	return out, nil
}

func (s *Server) networksPage(w http.ResponseWriter, r *http.Request, sess *session) {
	rows, err := s.networkList(r.Context(), sess.csrf)
	data := struct {
		Rows  []networkRow
		Error string
	}{Rows: rows}
	if err != nil {
		data.Error = err.Error()
	}
	s.render(w, r, sess, "networks", data)
}

func (s *Server) networkRows(ctx context.Context, csrf string) ([]row, error) {
	nets, err := s.networkList(ctx, csrf)
	if err != nil {
		return nil, err
	}
	out := make([]row, 0, len(nets))
	for _, n := range nets {
		html, err := s.partial("networks", "network-row", n)
		if err != nil {
			return nil, err
		}
		out = append(out, row{Key: n.Name, HTML: html})
	}
	return out, nil
}

// networkCreate creates a network; the engine checks the name, subnet and
// gateway (the same rules as `budgie network create`).
func (s *Server) networkCreate(w http.ResponseWriter, r *http.Request, _ *session) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	opts := network.CreateOptions{
		Subnet:   strings.TrimSpace(r.PostFormValue("subnet")),
		Internal: r.PostFormValue("internal") != "",
	}
	if len(name) > 64 || len(opts.Subnet) > 64 {
		replyError(w, r, http.StatusBadRequest, errTooLong)
		return
	}
	_, err := s.eng.CreateNetwork(r.Context(), name, opts)
	s.audit(r, "network.create", name, err)
	s.topics.changed("networks")
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/networks", map[string]string{"ok": "created", "name": name})
}

func (s *Server) networkRemove(w http.ResponseWriter, r *http.Request, _ *session) {
	name := r.PostFormValue("name")
	if len(name) > 64 {
		replyError(w, r, http.StatusBadRequest, errTooLong)
		return
	}
	err := s.eng.RemoveNetwork(r.Context(), name)
	s.audit(r, "network.remove", name, err)
	s.topics.changed("networks")
	if err != nil {
		replyError(w, r, statusOf(err), err)
		return
	}
	reply(w, r, "/networks", map[string]string{"ok": "removed", "name": name})
}
