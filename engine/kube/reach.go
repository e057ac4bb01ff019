package kube

import (
	"net"
	"net/url"
	"strings"

	"github.com/budgie-sh/budgie/models"
)

// checkReach checks the parsed bundle's containers for what reaches past
// the container, whether the manifest's fields or its budgie.sh/bundle
// annotation asked for it: a health check of another address than the
// container's own (or the node's loopback) is a problem, as the probe's
// host field is; the host's network is a warning. (The bundle parser
// refuses the labels Budgie keeps for itself.)
func (pl *player) checkReach(specs []models.ContainerSpec) []Problem {
	var problems []Problem
	for i, s := range specs {
		if i >= len(pl.workloads) {
			break
		}
		w := pl.workloads[i]
		at := func(field, hint, msg string) {
			o := w.originOf(field)
			problems = append(problems, Problem{File: pl.file, Line: o.d.lineOf(o.path), Doc: o.d.doc.index, Kind: o.d.kind, Name: o.d.name,
				Field: o.path, Message: msg, Hint: hint})
		}
		if h := s.Health; h != nil {
			if host, ok := httpHost(h.HTTP); !ok {
				at("health.http", "Budgie's health check runs against the container itself: write :PORT/path",
					"a health check of "+quote(host)+" is not supported: the node would fetch that address")
			}
			if host, ok := tcpHost(h.TCP); !ok {
				at("health.tcp", "Budgie's health check runs against the container itself: write the port alone",
					"a health check of "+quote(host)+" is not supported: the node would connect to that address")
			}
		}
		if contains(s.Networks, models.HostNetwork) {
			o := w.originOf("networks")
			pl.warn(o.d, o.path, "container %s runs on the host's network: it can reach and bind every address and port of the node, as a process of the node can", s.Name)
		}
	}
	return problems
}

func quote(s string) string { return `"` + s + `"` }

// httpHost returns the host of a health check's http: none for a path
// (":PORT/path", "/path"), the URL's host else; ok when that is the
// container's own or the node's loopback.
func httpHost(s string) (string, bool) {
	if s == "" || strings.HasPrefix(s, ":") || strings.HasPrefix(s, "/") {
		return "", true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s, false
	}
	return u.Hostname(), loopbackHost(u.Hostname())
}

// tcpHost returns the host of a health check's tcp ("[host:]port"); ok
// when it is none or the node's loopback.
func tcpHost(s string) (string, bool) {
	if s == "" || !strings.Contains(s, ":") {
		return "", true
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return s, false
	}
	return host, loopbackHost(host)
}
