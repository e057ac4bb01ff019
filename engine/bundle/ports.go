package bundle

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/models"
)

const portHint = `write "8080:80", "8080:80/http", "127.0.0.1:8080:80/udp" or "80" (a random host port)`

// portUse is a published port and where the bundle publishes it, for the
// duplicate check across the whole bundle.
type portUse struct {
	port  models.PortMapping
	node  *yaml.Node
	field string
}

// ports decodes ports: a list of port specs.
func (c *container) ports(field string, v *yaml.Node) {
	r := resolve(v)
	if r == nil || r.Kind != yaml.SequenceNode {
		c.wrongType(v, field, "a list of ports")
		return
	}
	for i, item := range r.Content {
		f := index(field, i)
		c.mark(f, item)
		s, ok := c.str(item, f)
		if !ok {
			continue
		}
		pm, err := parsePort(s)
		if err != nil {
			c.fail(item, f, err)
			continue
		}
		c.spec.Ports = append(c.spec.Ports, pm)
		if pm.HostPort != 0 {
			c.p.ports = append(c.p.ports, portUse{port: pm, node: item, field: join(c.prefix, f)})
		}
	}
}

// parsePort parses "[IP:][HOST:]CONTAINER[/PROTO]"; an IPv6 address is
// written in brackets and an empty HOST means a random port.
func parsePort(s string) (models.PortMapping, error) {
	pm := models.PortMapping{Protocol: "tcp"}
	spec, proto, hasProto := strings.Cut(strings.TrimSpace(s), "/")
	if hasProto {
		pm.Protocol = strings.ToLower(proto)
		if pm.Protocol != "tcp" && pm.Protocol != "udp" && pm.Protocol != "http" {
			return pm, invalidf(`the protocol is "tcp" (the default), "http" (balanced per request) or "udp"`, fmt.Sprintf("invalid protocol %q", proto))
		}
	}
	var ip string
	hasIP := false
	if rest, ok := strings.CutPrefix(spec, "["); ok {
		addr, after, found := strings.Cut(rest, "]:")
		if !found {
			return pm, invalidf(portHint, fmt.Sprintf("invalid port %q", s))
		}
		ip, spec, hasIP = addr, after, true
	}
	parts := strings.Split(spec, ":")
	if hasIP && len(parts) != 2 || len(parts) > 3 {
		return pm, invalidf(portHint+"; write IPv6 addresses in brackets: [::1]:8080:80", fmt.Sprintf("invalid port %q", s))
	}
	if len(parts) == 3 {
		ip, hasIP, parts = parts[0], true, parts[1:]
	}
	if hasIP {
		addr, err := netip.ParseAddr(ip)
		if err != nil || addr.Zone() != "" {
			return pm, invalidf(portHint, fmt.Sprintf("invalid host address %q", ip))
		}
		pm.HostIP = addr.String()
	}
	var err error
	if pm.ContainerPort, err = portNumber(parts[len(parts)-1]); err != nil {
		return pm, err
	}
	if len(parts) == 2 && parts[0] != "" {
		if pm.HostPort, err = portNumber(parts[0]); err != nil {
			return pm, err
		}
	}
	return pm, nil
}

// portNumber parses a port in 1–65535.
func portNumber(s string) (uint16, error) {
	if strings.Contains(s, "-") {
		return 0, invalidf("list each port on its own", fmt.Sprintf("port ranges such as %q are not supported", s))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	switch {
	case err != nil && s == "":
		return 0, invalidf(portHint, "missing port number")
	case err != nil:
		return 0, invalidf(portHint, fmt.Sprintf("invalid port %q", s))
	case n < 1 || n > 65535:
		return 0, invalidf("", fmt.Sprintf("port %s is out of range (1 to 65535)", s))
	}
	return uint16(n), nil
}

// checkPorts reports host ports published twice within the bundle.
func (p *parser) checkPorts() {
	type key struct {
		port  uint16
		proto string
	}
	byPort := map[key][]portUse{}
	for _, u := range p.ports {
		k := key{u.port.HostPort, u.port.Protocol}
		for _, first := range byPort[k] {
			if !samePort(first.port, u.port) {
				continue
			}
			p.problems = append(p.problems, Problem{
				File: p.file, Line: u.node.Line, Column: u.node.Column, Field: u.field,
				Message: fmt.Sprintf("host port %d/%s is already published by %s (line %d)",
					u.port.HostPort, u.port.Protocol, first.field, first.node.Line),
				Hint: "each host port can be published once",
			})
			break
		}
		byPort[k] = append(byPort[k], u)
	}
}

// samePort reports whether two mappings claim the same host port: the same
// port and protocol, on the same address or one of them on all addresses.
func samePort(a, b models.PortMapping) bool {
	if a.HostPort != b.HostPort || a.Protocol != b.Protocol {
		return false
	}
	return a.HostIP == b.HostIP || anyAddr(a.HostIP) || anyAddr(b.HostIP)
}

func anyAddr(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
