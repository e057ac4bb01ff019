package bundle

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

// The fields the keeper acts on: restart_policy, health and depends_on, and
// replicas for the load balancer.

var (
	restartNames   = []string{models.RestartNo, models.RestartAlways, models.RestartOnFailure, models.RestartUnlessStopped}
	restartFields  = []string{"name", "max_retries"}
	healthFields   = []string{"cmd", "http", "tcp", "interval", "timeout", "retries", "start_period", "on_unhealthy"}
	dependFields   = []string{"condition", "timeout"}
	conditions     = []string{models.ConditionStarted, models.ConditionHealthy, models.ConditionCompletedSuccessfully}
	replicaFields  = []string{"count", "strategy"}
	strategies     = []string{"round-robin", "least-connections"}
	restartHint    = `write "no", "always", "unless-stopped", "on-failure" or "on-failure:3"`
	conditionsHint = "the conditions are started, healthy and completed_successfully"
)

// restartPolicy decodes "name[:max_retries]" or {name, max_retries}.
func (c *container) restartPolicy(field string, v *yaml.Node) {
	var rp models.RestartPolicy
	var retries *yaml.Node
	var retriesField string
	if r := resolve(v); r != nil && r.Kind == yaml.MappingNode {
		c.each(v, field, restartFields, func(key, f string, n *yaml.Node) {
			if key == "name" {
				rp.Name, _ = c.str(n, f)
			} else {
				retries, retriesField = n, f
			}
		})
	} else {
		s, ok := c.str(v, field)
		if !ok {
			return
		}
		name, count, hasCount := strings.Cut(s, ":")
		rp.Name = name
		if hasCount {
			retries, retriesField = &yaml.Node{Kind: yaml.ScalarNode, Value: count, Line: v.Line, Column: v.Column}, field
		}
	}
	if !contains(restartNames, rp.Name) {
		c.report(v, field, restartHint, "invalid restart policy %q", rp.Name)
		return
	}
	if retries != nil {
		n, ok := c.integerIn(retries, retriesField, 0, math.MaxInt32)
		if ok && rp.Name != models.RestartOnFailure {
			c.report(retries, retriesField, "", "max_retries only applies to on-failure")
			return
		}
		rp.MaxRetries = int(n)
	}
	c.spec.RestartPolicy = rp
}

// health decodes the health check: exactly one of cmd, http and tcp, and its
// timing.
func (c *container) health(field string, v *yaml.Node) {
	h := &models.HealthCheck{}
	probes := 0
	ok := c.each(v, field, healthFields, func(key, f string, n *yaml.Node) {
		switch key {
		case "cmd", "http", "tcp":
			probes++
			c.probe(h, key, f, n)
		case "interval":
			h.Interval, _ = c.duration(n, f)
		case "timeout":
			h.Timeout, _ = c.duration(n, f)
		case "start_period":
			h.StartPeriod, _ = c.duration(n, f)
		case "retries":
			x, _ := c.integerIn(n, f, 0, 1000)
			h.Retries = int(x)
		case "on_unhealthy":
			c.onUnhealthy(h, f, n)
		}
	})
	switch {
	case !ok:
		return
	case probes == 0:
		c.report(v, field, "add cmd:, http: or tcp:", "needs a probe")
	case probes > 1:
		c.report(v, field, "", "set only one of cmd, http and tcp")
	}
	c.spec.Health = h
}

// probe decodes health.cmd (a list, or a string run by sh -c), health.http
// (":PORT[/path]" or an http(s) URL) or health.tcp ([host:]port).
func (c *container) probe(h *models.HealthCheck, key, f string, n *yaml.Node) {
	if r := resolve(n); key == "cmd" && r != nil && r.Kind == yaml.SequenceNode {
		if list, ok := c.strList(n, f); ok && len(list) > 0 {
			h.Cmd = list
		} else if ok {
			c.report(n, f, "", "is empty")
		}
		return
	}
	s, ok := c.str(n, f)
	switch {
	case !ok:
	case strings.TrimSpace(s) == "":
		c.report(n, f, "", "is empty")
	case key == "cmd":
		h.Cmd = []string{"sh", "-c", s}
	case key == "http" && !validHTTPProbe(s):
		c.report(n, f, `write ":PORT/path" such as ":8080/healthz" (that port on the container's own address), or a full http:// or https:// URL`,
			"invalid http probe %q", s)
	case key == "http":
		h.HTTP = s
	case key == "tcp" && !validTCPProbe(s):
		c.report(n, f, `write a port such as "8080" (on the container's own address) or "HOST:8080"`, "invalid tcp probe %q", s)
	case key == "tcp":
		h.TCP = s
	}
}

// validHTTPProbe accepts ":PORT[/path]" (that port on the container's own
// address, looked up at each probe: runtime.ProbeHost) and http(s) URLs;
// a bare path is refused.
func validHTTPProbe(s string) bool {
	if rest, ok := strings.CutPrefix(s, ":"); ok {
		port, path, _ := strings.Cut(rest, "/")
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
		_, err = url.ParseRequestURI("/" + path)
		return err == nil
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func validTCPProbe(s string) bool {
	port := s
	if strings.Contains(s, ":") {
		host, p, err := net.SplitHostPort(s)
		if err != nil || host == "" {
			return false
		}
		port = p
	}
	_, err := portNumber(port)
	return err == nil
}

func (c *container) onUnhealthy(h *models.HealthCheck, f string, n *yaml.Node) {
	s, ok := c.str(n, f)
	switch {
	case !ok:
	case s == "restart":
		h.OnUnhealthy = s
	case s == "none" || s == "":
		h.OnUnhealthy = ""
	default:
		c.report(n, f, `write "restart", or leave it out to only record the state`, "invalid action %q", s)
	}
}

// dependsOn decodes a list of names or a map of name to {condition, timeout}.
func (c *container) dependsOn(field string, v *yaml.Node) {
	r := resolve(v)
	switch {
	case r != nil && r.Kind == yaml.SequenceNode:
		for i, item := range r.Content {
			f := index(field, i)
			c.mark(f, item)
			if s, ok := c.str(item, f); ok {
				c.addDependency(models.Dependency{Name: s}, item, f)
			}
		}
	case r != nil && r.Kind == yaml.MappingNode:
		ps, _ := c.pairs(v, field)
		for _, p := range ps {
			f := join(field, p.key)
			c.mark(f, p.k)
			if d, ok := c.dependency(p.key, p.v, f); ok {
				c.addDependency(d, p.k, f)
			}
		}
	default:
		c.wrongType(v, field, "a list of names or a map of name to {condition, timeout}")
	}
}

// dependency decodes one map entry of depends_on; null means "started".
func (c *container) dependency(name string, v *yaml.Node, field string) (models.Dependency, bool) {
	d := models.Dependency{Name: name}
	if isNull(v) {
		return d, true
	}
	ok := true
	c.each(v, field, dependFields, func(key, f string, n *yaml.Node) {
		var good bool
		if key == "timeout" {
			d.Timeout, good = c.duration(n, f)
		} else if d.Condition, good = c.str(n, f); good && !contains(conditions, d.Condition) {
			c.report(n, f, conditionsHint, "invalid condition %q", d.Condition)
			good = false
		}
		ok = ok && good
	})
	return d, ok && resolve(v).Kind == yaml.MappingNode
}

func (c *container) addDependency(d models.Dependency, n *yaml.Node, field string) {
	if err := checkName(d.Name, maxNameLen); err != nil {
		c.fail(n, field, err)
		return
	}
	if first, dup := c.depNodes[d.Name]; dup {
		c.report(n, field, "", "%q is listed twice (first at line %d)", d.Name, first.node.Line)
		return
	}
	c.depNodes[d.Name] = fieldNode{node: n, field: field}
	c.spec.DependsOn = append(c.spec.DependsOn, d)
}

// replicas decodes a count or {count, strategy}.
func (c *container) replicas(field string, v *yaml.Node) {
	rep := &models.Replicas{}
	if r := resolve(v); r == nil || r.Kind != yaml.MappingNode {
		n, ok := c.integerIn(v, field, 1, 1000)
		if ok {
			rep.Count = int(n)
			c.spec.Replicas = rep
		}
		return
	}
	ok, counted := true, false
	c.each(v, field, replicaFields, func(key, f string, n *yaml.Node) {
		if key == "count" {
			x, good := c.integerIn(n, f, 1, 1000)
			rep.Count, counted, ok = int(x), true, ok && good
			return
		}
		s, good := c.str(n, f)
		if good && !contains(strategies, s) {
			c.report(n, f, fmt.Sprintf("the strategies are %s", strings.Join(strategies, " and ")), "invalid strategy %q", s)
			good = false
		}
		rep.Strategy, ok = s, ok && good
	})
	if !counted {
		c.report(v, join(field, "count"), "", "is required")
		return
	}
	if ok {
		c.spec.Replicas = rep
	}
}
