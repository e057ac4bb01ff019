package compose

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"
)

// ports maps each published port to "[IP:][HOST:]CONTAINER[/PROTOCOL]";
// app_protocol: http becomes Budgie's http protocol (proxied per request).
func (k *container) ports(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Ports = nil
	var out []string
	for i, p := range s.Ports {
		field := fmt.Sprintf("%s.ports[%d]", k.svc, i)
		if spec, ok := k.port(field, p); ok {
			k.origin(fmt.Sprintf("ports[%d]", len(out)), fmt.Sprintf("ports[%d]", i))
			out = append(out, spec)
		}
	}
	if len(out) > 0 {
		k.fields["ports"] = strList(out)
		k.origin("ports", "ports")
	}
}

func (k *container) port(field string, p types.ServicePortConfig) (string, bool) {
	proto := p.Protocol
	switch proto {
	case "", "tcp":
		proto = "tcp"
	case "udp":
	default:
		k.c.refuse(field+".protocol", "the protocols are tcp and udp", "protocol %q is not supported", p.Protocol)
		return "", false
	}
	switch p.AppProtocol {
	case "":
	case "http":
		if proto == "tcp" {
			proto = "http"
			break
		}
		fallthrough
	default:
		k.c.refuse(field+".app_protocol", "app_protocol: http (over tcp) is the one Budgie knows", "app_protocol %q is not supported", p.AppProtocol)
		return "", false
	}
	if p.Mode != "" && p.Mode != "ingress" {
		k.c.refuse(field+".mode", "Budgie's proxy publishes every port for the whole service (mode: ingress)", "mode %q is not supported", p.Mode)
		return "", false
	}
	if p.Name != "" {
		k.c.refuse(field+".name", hintGeneric, "port names are not supported")
		return "", false
	}
	host := p.Published
	if strings.Contains(host, "-") {
		k.c.refuse(field+".published", "publish one host port per container port", "a range of host ports (%s) is not supported", host)
		return "", false
	}
	spec := strconv.FormatUint(uint64(p.Target), 10)
	if proto != "tcp" {
		spec += "/" + proto
	}
	if host != "" || p.HostIP != "" {
		spec = host + ":" + spec
	}
	if p.HostIP != "" {
		ip := p.HostIP
		if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
			ip = "[" + ip + "]"
		}
		spec = ip + ":" + spec
	}
	return spec, true
}

// volumes maps named volumes (by their name on the node: compose's
// PROJECT_KEY unless the file names them) and bind mounts.
func (k *container) volumes(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Volumes = nil
	for i, v := range s.Volumes {
		field := fmt.Sprintf("%s.volumes[%d]", k.svc, i)
		if m := k.volume(field, v); m != nil {
			k.addMount(m, fmt.Sprintf("volumes[%d]", i))
		}
	}
}

// addMount appends a mount to the bundle's volumes.
func (k *container) addMount(m *yaml.Node, from string) {
	list := k.fields["volumes"]
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		k.fields["volumes"] = list
		k.origin("volumes", strings.SplitN(from, "[", 2)[0])
	}
	k.origin(fmt.Sprintf("volumes[%d]", len(list.Content)), from)
	list.Content = append(list.Content, m)
}

func (k *container) volume(field string, v types.ServiceVolumeConfig) *yaml.Node {
	source := ""
	switch v.Type {
	case types.VolumeTypeVolume:
		if v.Source == "" {
			k.c.refuse(field, "name the volume (NAME:"+v.Target+") and declare it under the top-level volumes:",
				"anonymous volumes are not supported")
			return nil
		}
		name, ok := k.c.volume(v.Source)
		if !ok {
			return nil
		}
		source = name
		if v.Volume != nil {
			k.c.refuseRest(field+".volume", v.Volume, "a named volume is a plain directory on the node")
		}
	case types.VolumeTypeBind:
		source = v.Source
		if v.Bind != nil {
			b := *v.Bind
			if b.CreateHostPath {
				k.c.dir(source)
			}
			b.CreateHostPath = false
			if b.Propagation == types.PropagationRPrivate {
				b.Propagation = ""
			}
			k.c.refuseRest(field+".bind", b, "bind mounts are rprivate, without relabelling")
		}
	default:
		k.c.refuse(field+".type", "mount a named volume or a host path", "volume type %q is not supported", v.Type)
		return nil
	}
	if v.Consistency != "" {
		k.c.refuse(field+".consistency", "a macOS-only option; remove it", "not supported by Budgie")
	}
	rest := v
	rest.Type, rest.Source, rest.Target, rest.ReadOnly, rest.Consistency, rest.Bind, rest.Volume = "", "", "", false, "", nil, nil
	k.c.refuseRest(field, rest, "")
	m := mapping()
	m.Content = append(m.Content, str("type"), str(v.Type), str("source"), str(source), str("target"), str(v.Target))
	if v.ReadOnly {
		m.Content = append(m.Content, str("read_only"), plain("true"))
	}
	return m
}

// configs maps configs read from files to read-only bind mounts of the
// file, at target (default /NAME), as compose mounts them.
func (k *container) configs(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Configs = nil
	for i, ref := range s.Configs {
		field := fmt.Sprintf("%s.configs[%d]", k.svc, i)
		cfg, ok := k.c.src.Project.Configs[ref.Source]
		if !ok {
			k.c.fail(field, "declare it under the top-level configs:", "config %q is not declared", ref.Source)
			continue
		}
		top := "configs." + ref.Source
		switch {
		case bool(cfg.External):
			k.c.refuse(top+".external", "mount the file with a bind mount instead", "external configs are not supported")
			continue
		case cfg.File == "":
			k.c.refuse(top, "write the config to a file and name it with file:", "configs without file: are not supported")
			continue
		}
		rc := cfg
		rc.Name, rc.File = "", ""
		k.c.refuseRest(top, types.FileObjectConfig(rc), "")
		target := ref.Target
		if target == "" {
			target = "/" + ref.Source
		}
		if !path.IsAbs(target) {
			k.c.refuse(field+".target", "write an absolute path", "a relative target %q is not supported", target)
			continue
		}
		r := ref
		r.Source, r.Target = "", ""
		k.c.refuseRest(field, types.FileReferenceConfig(r), "the file is mounted read-only with its own owner and mode")
		m := mapping()
		m.Content = append(m.Content, str("type"), str("bind"), str("source"), str(cfg.File),
			str("target"), str(target), str("read_only"), plain("true"))
		k.addMount(m, fmt.Sprintf("configs[%d]", i))
	}
}

// secrets maps the service's secrets: the node's store mounts each at
// /run/secrets/NAME, compose's default target.
func (k *container) secrets(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Secrets = nil
	var names []string
	for i, ref := range s.Secrets {
		field := fmt.Sprintf("%s.secrets[%d]", k.svc, i)
		if ref.Target != "" && ref.Target != ref.Source && ref.Target != "/run/secrets/"+ref.Source {
			k.c.refuse(field+".target", "secrets are mounted at /run/secrets/NAME: name the secret after the file you need",
				"target %q is not supported", ref.Target)
			continue
		}
		r := ref
		r.Source, r.Target = "", ""
		k.c.refuseRest(field, types.FileReferenceConfig(r), "secrets are mounted mode 0400, owned by the numeric user: or root (docs/secrets.md)")
		if !k.c.secret(ref.Source) {
			continue
		}
		k.origin(fmt.Sprintf("secrets[%d]", len(names)), fmt.Sprintf("secrets[%d]", i))
		names = append(names, ref.Source)
	}
	if len(names) > 0 {
		k.fields["secrets"] = flowList(names)
		k.origin("secrets", "secrets")
	}
}

// networks maps network_mode (host, none, bridge) and the service's
// networks, in compose's order (priority, then name). compose's implicit
// default network is Budgie's default network.
func (k *container) networks(s types.ServiceConfig, rest *types.ServiceConfig) {
	rest.Networks, rest.NetworkMode = nil, ""
	switch s.NetworkMode {
	case "":
	case "host", "none":
		k.set("networks", flowList([]string{s.NetworkMode}), "network_mode")
		return
	case "bridge":
		return
	default:
		k.c.refuse(k.svc+".network_mode", "use host, none or networks:", "network_mode %q is not supported", s.NetworkMode)
		return
	}
	var names []string
	for _, key := range s.NetworksByPriority() {
		field := k.svc + ".networks." + key
		if cfg := s.Networks[key]; cfg != nil {
			k.c.refuseRest(field, cfg, "containers reach each other by their service name on every network they share")
		}
		name, ok := k.c.network(key)
		if ok {
			names = append(names, name)
		}
	}
	if len(names) == 1 && names[0] == defaultNetwork {
		return
	}
	if len(names) > 0 {
		k.set("networks", flowList(names), "networks")
	}
}
