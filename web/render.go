package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/models"
)

// pages are the parsed templates: each page is the layout plus its own
// file; partials (rows) are shared by pages and streams.
type pages struct {
	byName map[string]*template.Template
}

// pageNames are the templates/NAME.html files that are whole pages.
var pageNames = []string{"login", "continue", "containers", "container", "images", "networks", "secrets", "peers", "run"}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	// Page is the template's name, for the navigation's current tab.
	Page string
	// CSRF is the session's token for forms; empty before login.
	CSRF    string
	Version string
	Node    string
	// Data is the page's own.
	Data any
}

// render writes a whole page.
func (s *Server) render(w http.ResponseWriter, _ *http.Request, sess *session, name string, data any) {
	v := view{Page: name, Version: s.version, Data: data}
	if sess != nil {
		v.CSRF = sess.csrf
	}
	if s.eng != nil {
		v.Node = s.eng.Config.NodeName
	}
	var buf bytes.Buffer
	if err := s.pages.byName[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		s.log.Error("dashboard render", "page", name, "err", err)
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// partial renders one named template of a page (a table row) to a string,
// for a stream.
func (s *Server) partial(page, name string, data any) (string, error) {
	var buf bytes.Buffer
	err := s.pages.byName[page].ExecuteTemplate(&buf, name, data)
	return buf.String(), err
}

var funcs = template.FuncMap{
	"bytes":   formatBytes,
	"ago":     ago,
	"shortID": models.ShortID,
	"shortDigest": func(d string) string {
		return models.ShortID(strings.TrimPrefix(d, "sha256:"))
	},
	"ports":   formatPorts,
	"unix":    func(t time.Time) int64 { return unixOrZero(t) },
	"join":    strings.Join,
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"static":  func(name string) string { return assets.url(name) },
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// formatBytes is a size in IEC units (as docker stats).
func formatBytes(n any) string {
	var v float64
	switch n := n.(type) {
	case int64:
		v = float64(n)
	case uint64:
		v = float64(n)
	case int:
		v = float64(n)
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// ago is a short age ("3m", "2h", "5d").
func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// formatPorts is "8080→80/tcp, …".
func formatPorts(ps []models.PortMapping) string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		if p.HostPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.ContainerPort, proto))
			continue
		}
		out = append(out, fmt.Sprintf("%d→%d/%s", p.HostPort, p.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return `{"error":"encoding failed"}`
	}
	return string(b)
}
