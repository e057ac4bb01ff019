package replica

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/budgie-sh/budgie/engine/bundle"
	"github.com/budgie-sh/budgie/engine/errdefs"
	"github.com/budgie-sh/budgie/engine/identity"
	"github.com/budgie-sh/budgie/models"
)

// A primary is a paired node, not a trusted one: its plan is input from
// the network. admit rebuilds the spec this node runs from an allow-list
// of the plan's fields, each checked with the bundle parser's own rules;
// what the allow-list leaves out is listed as refused, and what would make
// the replica unsafe or meaningless fails the whole plan before any byte
// is transferred.

// Bounds on what a plan may carry (the frame cap bounds the whole).
const (
	maxPlanList    = 256     // volumes, ports, networks, secrets, args
	maxPlanEnv     = 4096    // environment entries
	maxPlanEnvSize = 1 << 20 // bytes of environment in all
	maxPlanString  = 4096    // one argument, path or user
	maxPlanLabels  = 256
	maxStopTimeout = time.Hour
)

// containerIDRE is a Budgie container ID (runtime.newID).
var containerIDRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Admission is what this node runs for a primary's plan.
type Admission struct {
	// Spec is the container spec that will run here, rebuilt from the
	// plan's allowed fields.
	Spec models.ContainerSpec
	// Volumes are the named volumes that will be synced, in plan order;
	// each is one of Spec's named volumes.
	Volumes []models.ReplicaVolume
	// Refused lists, for people, each part of the plan left out and why.
	Refused []string
}

// admitOptions are this node's own choices about a plan.
type admitOptions struct {
	// verified is the primary's identity as the TLS handshake proved it.
	verified identity.ID
	// name is the replica's name; empty means the plan's.
	name string
	// secrets are the secrets the user allowed the replica to use here.
	secrets []string
}

// admit checks plan and builds the Admission, or fails naming the field.
func admit(plan models.ReplicaPlan, opts admitOptions) (Admission, error) {
	var a Admission
	if err := checkPlanIdentity(plan, opts.verified); err != nil {
		return a, err
	}
	if !containerIDRE.MatchString(plan.ContainerID) {
		return a, planErr("container_id", "%q is not a container ID", clip(plan.ContainerID))
	}
	if !digestRE.MatchString(plan.ImageDigest) {
		return a, planErr("image_digest", "%q is not a sha256 digest", clip(plan.ImageDigest))
	}
	image, err := bundle.NormalizeImage(plan.Image)
	if err != nil || image != plan.Image || plan.Spec.Image != plan.Image {
		return a, planErr("image", "%q is not a normalised image reference equal to spec.image", clip(plan.Image))
	}
	name := opts.name
	if name == "" {
		name = plan.Name
	}
	if err := bundle.CheckContainerName(name); err != nil {
		return a, planErr("name", "%s", errdefs.Message(err))
	}
	b := &admitter{in: plan.Spec, out: models.ContainerSpec{Name: name, Image: image}}
	b.process()
	b.volumes(plan.Volumes)
	b.ports()
	b.keeper()
	b.networks()
	b.secrets(opts.secrets)
	b.labels()
	if b.err != nil {
		return a, b.err
	}
	return Admission{Spec: b.out, Volumes: b.vols, Refused: b.refused}, nil
}

// checkPlanIdentity refuses a plan whose claimed identity is not the one
// the handshake verified.
func checkPlanIdentity(plan models.ReplicaPlan, verified identity.ID) error {
	if verified.IsZero() {
		return fmt.Errorf("no verified identity for the primary: %w", errdefs.ErrInvalid)
	}
	if plan.Identity != verified.String() {
		return planErr("identity", "the plan claims identity %q but the primary's certificate is %s", clip(plan.Identity), verified.Short())
	}
	return nil
}

// planErr is a plan field that fails the whole plan.
func planErr(field, format string, args ...any) error {
	return fmt.Errorf("the primary's plan is refused: %s: %s: %w", field, fmt.Sprintf(format, args...), errdefs.ErrInvalid)
}

// clip shortens a hostile string for an error message, quoting it safely.
func clip(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// admitter builds a spec field by field; the first failure sticks.
type admitter struct {
	in, out models.ContainerSpec
	vols    []models.ReplicaVolume
	refused []string
	err     error
}

func (b *admitter) fail(field, format string, args ...any) {
	if b.err == nil {
		b.err = planErr("spec."+field, format, args...)
	}
}

func (b *admitter) refuse(format string, args ...any) {
	b.refused = append(b.refused, fmt.Sprintf(format, args...))
}

// process copies the command line, environment and process settings.
func (b *admitter) process() {
	in := b.in
	for _, l := range [][]string{in.Command, in.Args} {
		if len(l) > maxPlanList || slices.ContainsFunc(l, badString) {
			b.fail("command", "too many or too long arguments")
			return
		}
	}
	b.out.Command, b.out.Args = slices.Clone(in.Command), slices.Clone(in.Args)
	if in.Workdir != "" && (!path.IsAbs(in.Workdir) || badString(in.Workdir)) {
		b.fail("workdir", "%q is not an absolute path", clip(in.Workdir))
	}
	if badString(in.User) || strings.ContainsAny(in.User, "/\n") {
		b.fail("user", "%q is not a user", clip(in.User))
	}
	if in.Hostname != "" && bundle.CheckContainerName(in.Hostname) != nil {
		b.fail("hostname", "%q is not a host name", clip(in.Hostname))
	}
	b.out.Workdir, b.out.User, b.out.Hostname = in.Workdir, in.User, in.Hostname
	size := 0
	for _, kv := range in.Env {
		k, _, ok := strings.Cut(kv, "=")
		size += len(kv)
		if !ok || !bundle.ValidEnvKey(k) || strings.ContainsRune(kv, 0) {
			b.fail("env", "%q is not KEY=VALUE", clip(kv))
			return
		}
	}
	if len(in.Env) > maxPlanEnv || size > maxPlanEnvSize {
		b.fail("env", "too large (%d entries, %d bytes)", len(in.Env), size)
	}
	b.out.Env = slices.Clone(in.Env)
	b.resources()
}

// badString is a string no spec field needs: too long or with NUL.
func badString(s string) bool { return len(s) > maxPlanString || strings.ContainsRune(s, 0) }

// resources copies limits that make sense.
func (b *admitter) resources() {
	r := b.in.Resources
	if r.CPUQuota < 0 || r.Memory < 0 || r.MemorySwap < -1 || r.PidsLimit < 0 || (r.BlkioWeight != 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) {
		b.fail("resources", "negative or out-of-range limits")
		return
	}
	b.out.Resources = r
}

// volumes keeps named volumes, refuses bind mounts, and checks that the
// plan's synced volumes are exactly the spec's named volumes.
func (b *admitter) volumes(planned []models.ReplicaVolume) {
	if len(b.in.Volumes) > maxPlanList || len(planned) > maxPlanList {
		b.fail("volumes", "too many volumes")
		return
	}
	targets := map[string]bool{}
	for _, v := range b.in.Volumes {
		target := path.Clean(v.Target)
		switch {
		case !path.IsAbs(v.Target) || target == "/" || badString(v.Target) || targets[target]:
			b.fail("volumes", "target %q is not an absolute path mounted once", clip(v.Target))
			return
		case v.Kind == models.VolumeBind:
			b.refuse("bind mount of host path %q at %q (a replica never mounts host paths)", clip(v.Source), target)
			continue
		case v.Kind != models.VolumeNamed:
			b.fail("volumes", "unknown volume kind %q", clip(string(v.Kind)))
			return
		}
		if err := bundle.CheckName(v.Source); err != nil {
			b.fail("volumes", "volume name: %s", errdefs.Message(err))
			return
		}
		targets[target] = true
		b.out.Volumes = append(b.out.Volumes, models.VolumeMount{Kind: models.VolumeNamed, Source: v.Source, Target: target, ReadOnly: v.ReadOnly})
	}
	b.syncedVolumes(planned)
}

// syncedVolumes checks the plan's volume list against the spec's.
func (b *admitter) syncedVolumes(planned []models.ReplicaVolume) {
	named := namedVolumes(b.out)
	var got []string
	for _, v := range planned {
		if err := bundle.CheckName(v.Name); err != nil {
			b.fail("volumes", "synced volume name: %s", errdefs.Message(err))
			return
		}
		if slices.Contains(got, v.Name) {
			b.fail("volumes", "volume %s is listed twice", v.Name)
			return
		}
		got = append(got, v.Name)
		b.vols = append(b.vols, models.ReplicaVolume{Name: v.Name, Target: v.Target})
	}
	if !sameSet(got, named) {
		b.fail("volumes", "the synced volumes %v are not the container's named volumes %v", got, named)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// ports keeps published ports on all of this node's addresses.
func (b *admitter) ports() {
	if len(b.in.Ports) > maxPlanList {
		b.fail("ports", "too many ports")
		return
	}
	for _, p := range b.in.Ports {
		switch p.Protocol {
		case "", "tcp", "udp", "http":
		default:
			b.fail("ports", "unknown protocol %q", clip(p.Protocol))
			return
		}
		if p.ContainerPort == 0 {
			b.fail("ports", "container port 0")
			return
		}
		if p.HostIP != "" {
			b.refuse("host address %q of port %d (the primary's addresses mean nothing here; published on all addresses)", clip(p.HostIP), p.ContainerPort)
			p.HostIP = ""
		}
		b.out.Ports = append(b.out.Ports, p)
	}
}

// keeper copies the restart policy, stop settings and the health check.
func (b *admitter) keeper() {
	in := b.in
	if !bundle.ValidRestartPolicy(in.RestartPolicy.Name) || in.RestartPolicy.MaxRetries < 0 {
		b.fail("restart_policy", "%q is not a restart policy", clip(in.RestartPolicy.Name))
		return
	}
	b.out.RestartPolicy = in.RestartPolicy
	if in.StopTimeout < 0 || in.StopTimeout > maxStopTimeout {
		b.fail("stop_timeout", "%s is out of range (0 to 1h)", in.StopTimeout)
		return
	}
	b.out.StopTimeout = in.StopTimeout
	if in.StopSignal != "" {
		sig, err := bundle.NormalizeSignal(in.StopSignal)
		if err != nil {
			b.fail("stop_signal", "%s", errdefs.Message(err))
			return
		}
		b.out.StopSignal = sig
	}
	b.health()
	if len(in.DependsOn) > 0 {
		b.refuse("depends_on (%d containers of the primary's node; a replica starts on its own)", len(in.DependsOn))
	}
	if in.Replicas != nil {
		b.refuse("replicas (count %d; the replica is one container)", in.Replicas.Count)
	}
}

// health keeps probes that stay inside the container.
func (b *admitter) health() {
	h := b.in.Health
	if h == nil {
		return
	}
	out := *h
	if len(h.Cmd) > maxPlanList || slices.ContainsFunc(h.Cmd, badString) || h.Retries < 0 || h.Interval < 0 || h.Timeout < 0 || h.StartPeriod < 0 {
		b.fail("health", "malformed health check")
		return
	}
	if h.OnUnhealthy != "" && h.OnUnhealthy != "restart" {
		b.fail("health.on_unhealthy", "%q is not an action", clip(h.OnUnhealthy))
		return
	}
	out.Cmd = slices.Clone(h.Cmd)
	if h.HTTP != "" && !bundle.LocalHTTPProbe(h.HTTP) {
		b.refuse("health.http %q (only the container's own port, \":PORT/path\", is probed for a replica)", clip(h.HTTP))
		out.HTTP = ""
	}
	if h.TCP != "" && !bundle.LocalTCPProbe(h.TCP) {
		b.refuse("health.tcp %q (only the container's own port is probed for a replica)", clip(h.TCP))
		out.TCP = ""
	}
	if len(out.Cmd) == 0 && out.HTTP == "" && out.TCP == "" {
		return
	}
	b.out.Health = &out
}

// networks keeps named networks and refuses the host's.
func (b *admitter) networks() {
	if len(b.in.Networks) > maxPlanList {
		b.fail("networks", "too many networks")
		return
	}
	for _, n := range b.in.Networks {
		if n == models.HostNetwork {
			b.refuse("network host (a replica gets its own network namespace; it joins the default network)")
			continue
		}
		if err := bundle.CheckName(n); err != nil {
			b.fail("networks", "%s", errdefs.Message(err))
			return
		}
		if !slices.Contains(b.out.Networks, n) {
			b.out.Networks = append(b.out.Networks, n)
		}
	}
}

// secrets keeps only the secrets the user allowed; an allowed secret the
// plan does not ask for is a mistake worth an error.
func (b *admitter) secrets(allowed []string) {
	for _, s := range allowed {
		if !slices.Contains(b.in.Secrets, s) {
			if b.err == nil {
				b.err = fmt.Errorf("--secret %s: the primary's container does not use that secret (it uses: %s): %w",
					s, listOrNone(b.in.Secrets), errdefs.ErrInvalid)
			}
			return
		}
	}
	for _, s := range b.in.Secrets {
		if err := bundle.CheckName(s); err != nil {
			b.fail("secrets", "%s", errdefs.Message(err))
			return
		}
		if slices.Contains(allowed, s) {
			b.out.Secrets = append(b.out.Secrets, s)
			continue
		}
		b.refuse("secret %s (a replica reads this node's secrets only when you allow each: --secret %s)", s, s)
	}
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// labels keeps user labels and refuses Budgie's and containerd's own.
func (b *admitter) labels() {
	if len(b.in.Labels) > maxPlanLabels {
		b.fail("labels", "too many labels")
		return
	}
	keys := make([]string, 0, len(b.in.Labels))
	for k := range b.in.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := b.in.Labels[k]
		if err := bundle.CheckLabel(k, v); err != nil || strings.HasPrefix(k, "io.containerd.") {
			b.refuse("label %q (reserved or malformed)", clip(k))
			continue
		}
		if b.out.Labels == nil {
			b.out.Labels = map[string]string{}
		}
		b.out.Labels[k] = v
	}
}
