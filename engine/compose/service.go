package compose

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"gopkg.in/yaml.v3"

	"github.com/budgie-sh/budgie/engine/bundle"
)

// service converts one service into a container node. Each mapper reads
// its fields from s and clears them from rest; whatever is left set in
// rest afterwards is refused with its rule's hint.
func (c *converter) service(i int, s types.ServiceConfig) *yaml.Node {
	k := &container{c: c, prefix: fmt.Sprintf("containers[%d]", i), svc: "services." + s.Name, fields: map[string]*yaml.Node{}}
	c.res.origins[k.prefix] = k.svc
	rest := s
	k.set("name", str(s.Name), "")
	rest.Name, rest.Profiles, rest.Extends, rest.EnvFiles, rest.LabelFiles, rest.Expose = "", nil, nil, nil, nil, nil
	for _, m := range []func(*container, types.ServiceConfig, *types.ServiceConfig){
		(*container).image, (*container).process, (*container).identity, (*container).env,
		(*container).ports, (*container).volumes, (*container).configs, (*container).resources,
		(*container).restart, (*container).stop, (*container).terminal, (*container).health, (*container).dependsOn,
		(*container).replicas, (*container).networks, (*container).secrets, (*container).labels,
	} {
		m(k, s, &rest)
	}
	for _, name := range leftovers(rest) {
		r, known := serviceRules[name]
		if known && r.mapped {
			// A mapper missed a value it should have taken or refused.
			c.fail(k.svc+"."+name, "this is a bug in Budgie's compose conversion", "is set but was not converted")
			continue
		}
		c.unsupported(k.svc+"."+name, r.hint)
	}
	return k.node()
}

func (k *container) image(s types.ServiceConfig, rest *types.ServiceConfig) {
	switch {
	case s.Image != "":
		k.set("image", str(s.Image), "image")
	case s.Build != nil:
		k.c.fail(k.svc+".build", hintBuild, "the service has build: and no image:, and Budgie does not build images")
		rest.Build = nil
	default:
		k.c.fail(k.svc, "add image:", "the service has no image")
	}
	rest.Image = ""
	switch s.PullPolicy {
	case "", types.PullPolicyMissing, types.PullPolicyIfNotPresent:
		rest.PullPolicy = ""
	default:
		k.c.refuse(k.svc+".pull_policy", "Budgie pulls an image only when it is missing (pull_policy: missing); pull it first with budgie pull",
			"pull_policy %q is not supported", s.PullPolicy)
		rest.PullPolicy = ""
	}
	if s.Platform != "" {
		if s.Platform != "linux/"+runtime.GOARCH {
			k.c.refuse(k.svc+".platform", "Budgie runs images of the node's platform, linux/"+runtime.GOARCH,
				"platform %q is not supported", s.Platform)
		}
		rest.Platform = ""
	}
}

// process maps entrypoint (the bundle's command) and command (its args).
func (k *container) process(s types.ServiceConfig, rest *types.ServiceConfig) {
	if s.Entrypoint != nil {
		if len(s.Entrypoint) == 0 {
			k.c.refuse(k.svc+".entrypoint", "write the command in full instead (entrypoint: [sh, -c, …])",
				"an empty entrypoint (clearing the image's) is not supported")
		} else {
			k.set("command", flowList(s.Entrypoint), "entrypoint")
		}
	}
	if s.Command != nil {
		switch {
		case len(s.Command) > 0:
			k.set("args", flowList(s.Command), "command")
		case len(s.Entrypoint) == 0:
			// With an entrypoint, an empty command is already what runs.
			k.c.refuse(k.svc+".command", "write the command in full, or leave command: out to keep the image's",
				"an empty command (clearing the image's) is not supported")
		}
	}
	rest.Entrypoint, rest.Command = nil, nil
	if s.WorkingDir != "" {
		k.set("workdir", str(s.WorkingDir), "working_dir")
		rest.WorkingDir = ""
	}
}

// identity maps user, hostname and container_name.
func (k *container) identity(s types.ServiceConfig, rest *types.ServiceConfig) {
	if s.User != "" {
		k.set("user", str(s.User), "user")
		rest.User = ""
	}
	if s.Hostname != "" {
		k.set("hostname", str(s.Hostname), "hostname")
		rest.Hostname = ""
	}
	if s.ContainerName != "" {
		if s.ContainerName != s.Name {
			k.c.refuse(k.svc+".container_name", fmt.Sprintf("the container is named after its service, %q, which other containers reach it by; rename the service instead", s.Name),
				"container_name %q differs from the service name", s.ContainerName)
		}
		rest.ContainerName = ""
	}
}

// env maps environment, into which compose-go has read the env files
// (env_file first, environment winning) and the process environment for
// names without a value; a name still without one is unset, as in compose.
func (k *container) env(s types.ServiceConfig, rest *types.ServiceConfig) {
	vars := map[string]string{}
	for name, v := range s.Environment {
		if v != nil {
			vars[name] = *v
		}
	}
	if len(vars) > 0 {
		k.set("env", strMap(vars), "environment")
	}
	rest.Environment = nil
}

func (k *container) labels(s types.ServiceConfig, rest *types.ServiceConfig) {
	if len(s.Labels) > 0 {
		k.set("labels", strMap(s.Labels), "labels")
	}
	rest.Labels = nil
}

// restart maps restart, or deploy.restart_policy (consumed here).
func (k *container) restart(s types.ServiceConfig, rest *types.ServiceConfig) {
	if s.Restart != "" {
		k.set("restart_policy", str(s.Restart), "restart")
		rest.Restart = ""
	}
	if s.Deploy == nil || s.Deploy.RestartPolicy == nil {
		return
	}
	rp := *s.Deploy.RestartPolicy
	field := k.svc + ".deploy.restart_policy"
	policy := ""
	switch rp.Condition {
	case "none":
		policy = "no"
	case "any", "":
		policy = "always"
	case "on-failure":
		policy = "on-failure"
		if rp.MaxAttempts != nil {
			policy += ":" + strconv.FormatUint(*rp.MaxAttempts, 10)
		}
	default:
		k.c.fail(field+".condition", "the conditions are none, on-failure and any", "unknown condition %q", rp.Condition)
	}
	if rp.MaxAttempts != nil && rp.Condition != "on-failure" {
		k.c.refuse(field+".max_attempts", "max_attempts only goes with condition: on-failure", "not supported with condition %q", rp.Condition)
	}
	rp.Condition, rp.MaxAttempts = "", nil
	k.c.refuseRest(field, rp, "Budgie's restarts back off from 100 ms to 1 minute (docs/keeper.md)")
	switch {
	case policy == "":
	case s.Restart != "":
		k.c.refuse(field, "set restart: or deploy.restart_policy, not both", "conflicts with restart: %s", s.Restart)
	default:
		k.set("restart_policy", str(policy), "deploy.restart_policy")
	}
}

// stop maps stop_grace_period and stop_signal.
func (k *container) stop(s types.ServiceConfig, rest *types.ServiceConfig) {
	if s.StopGracePeriod != nil {
		k.set("stop_timeout", str(time.Duration(*s.StopGracePeriod).String()), "stop_grace_period")
		rest.StopGracePeriod = nil
	}
	if s.StopSignal != "" {
		k.set("stop_signal", str(s.StopSignal), "stop_signal")
		rest.StopSignal = ""
	}
}

// terminal maps tty and stdin_open, which the bundle has when
// bundle.Fields lists them.
func (k *container) terminal(s types.ServiceConfig, rest *types.ServiceConfig) {
	for _, f := range []struct {
		key string
		on  bool
	}{{"tty", s.Tty}, {"stdin_open", s.StdinOpen}} {
		switch {
		case !f.on:
		case slices.Contains(bundle.Fields(""), f.key):
			k.set(f.key, plain("true"), f.key)
		default:
			k.c.unsupported(k.svc+"."+f.key, hintTerminal)
		}
	}
	rest.Tty, rest.StdinOpen = false, false
}

// sortedKeys lists a map's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
